"""One inbound message to its outcome, top to bottom: who, which conversation, what reply, where.

Each store write is keyed by the inbox item, so after a crash the same item can be handled again:
what was written is found, not written twice, and the rest is done.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from dialogs import continue_by_sms
from dialogs.bot import Bot, Turn
from gateway import metrics
from gateway.analytics.events import EventRecorder
from gateway.faults import crashpoint
from gateway.feed import Feed
from gateway.identity import IdentityResolver
from gateway.keyed_lock import KeyedLock
from gateway.messages import Address, Entry, Inbound, Outbound
from gateway.stores.protocol import AskedQuestion, Conversation, EntryDraft, InboxItem, Store

log = logging.getLogger(__name__)

# Channels whose replies reach the customer through the live feed and transcript replay, not
# through a provider call.
FEED_CHANNELS = frozenset({"webchat"})


def customer_draft(message: Inbound, offered: list[dict]) -> EntryDraft:
    """The transcript entry for what the customer sent; a pressed button shows its title."""
    text = message.text
    if message.postback is not None:
        titles = {o["payload"]: o["title"] for o in offered}
        text = titles.get(message.postback, message.postback)
    elif not text:
        text = shared_summary(message)
    return EntryDraft(
        author="customer",
        channel=message.sender.channel,
        text=text,
        ts=message.received_at,
        attachments=message.attachments,
        author_name=message.sender_name,
        meta={"postback": message.postback} if message.postback else {},
    )


def picked_option(message: Inbound, offered: list[dict]) -> Inbound:
    """A typed number that picks one of the offered options becomes that option's postback."""
    text = message.text.strip().rstrip(".")
    if message.postback is None and offered and text.isdigit():
        index = int(text) - 1
        if 0 <= index < len(offered):
            return dataclasses.replace(message, postback=offered[index]["payload"])
    return message


def reply_address(sender: Address, state: dict) -> Address:
    """Where replies go: where the customer wrote, unless they chose another channel from there."""
    chosen = state.get("reply_to")
    if chosen and sender.channel in FEED_CHANNELS:
        return Address(chosen["channel"], chosen["address"])
    return sender


def shared_summary(message: Inbound) -> str:
    """A transcript line for a message with no text: what was shared."""
    if message.contact is not None:
        name = f"{message.contact.name}, " if message.contact.name else ""
        return f"(shared a contact: {name}{message.contact.phone})"
    if message.location is not None:
        where = message.location
        return f"(shared a location: {where.latitude:.5f}, {where.longitude:.5f})"
    if message.attachments:
        return "(sent " + ", ".join(a.name or a.content_type for a in message.attachments) + ")"
    return ""


def shared_kind(message: Inbound) -> str | None:
    """What the customer shared besides text, if anything."""
    if message.contact is not None:
        return "contact"
    if message.location is not None:
        return "location"
    if message.attachments:
        return "attachment"
    return None


class Router:
    """Handles inbox items: resolve the customer, record, decide, reply."""

    def __init__(self, store: Store, bot: Bot, feed: Feed, idle_seconds: float) -> None:
        self.store = store
        self.bot = bot
        self.feed = feed
        self.identity = IdentityResolver(store.customers)
        self.analytics = EventRecorder(store.events, store.conversations)
        self.idle_seconds = idle_seconds
        # Called when replies were queued for a provider, so delivery starts at once.
        self.on_queued: Callable[[], None] = lambda: None
        self._locks = KeyedLock()

    async def handle(self, item: InboxItem) -> None:
        """Process one accepted message to its stored reply."""
        message = item.message
        resolution = await self.identity.resolve(
            message.sender, message.evidence, message.received_at, name=message.sender_name
        )
        customer_id = resolution.customer_id
        self.feed.merged(customer_id, resolution.absorbed)
        async with self._locks.hold(customer_id):
            await self._handle_turn(item, customer_id)

    async def _handle_turn(self, item: InboxItem, customer_id: str) -> None:
        conversation = await self.store.conversations.current(
            customer_id, datetime.now(UTC), self.idle_seconds
        )
        offered = conversation.state.get("offered", [])
        message = picked_option(item.message, offered)
        draft = customer_draft(message, offered)
        if continue_by_sms.is_code_entry(message.text, conversation.state):
            # A one-time code, even a spent one, does not belong in anyone's history.
            draft = dataclasses.replace(draft, text="••••••", meta={"redacted": "one-time code"})
        recorded = await self.store.transcript.append(conversation.id, [draft], key=f"in:{item.id}")
        self._publish(customer_id, recorded)
        crashpoint("after_customer_entry")
        # A replay after a crash finds the entry where it was stored, even if a merge moved it.
        conversation = await self._conversation_of(recorded, conversation)
        opened = bool(recorded) and recorded[0].seq == 1
        await self.analytics.customer_message(str(item.id), conversation, message, opened)
        turn = await self.bot.respond(
            message.text,
            message.postback,
            message.sender.channel,
            conversation.state,
            shared=shared_kind(message),
            reply_channel=reply_address(message.sender, conversation.state).channel,
        )
        metrics.BOT_DECISIONS.labels(decision=turn.decision).inc()
        replies = await self._record_turn(item, conversation, turn, message.sender)
        if turn.evidence:
            proven = await self.identity.resolve(message.sender, turn.evidence, message.received_at)
            self.feed.merged(proven.customer_id, proven.absorbed)
        await self._log_question(item, conversation, message, turn)
        await self.analytics.bot_turn(
            str(item.id),
            conversation,
            message.sender.channel,
            message.text,
            turn.decision,
            intent=turn.intent,
            article_id=turn.article_id,
            score=float(turn.meta.get("score", 0.0)),
        )
        self._publish(customer_id, replies)
        crashpoint("after_reply")

    async def _conversation_of(self, recorded: list[Entry], fallback: Conversation) -> Conversation:
        if recorded and recorded[0].conversation_id != fallback.id:
            found = await self.store.conversations.get(recorded[0].conversation_id)
            if found is not None:
                return found
        return fallback

    async def _record_turn(
        self, item: InboxItem, conversation: Conversation, turn: Turn, sender: Address
    ) -> list[Entry]:
        now = datetime.now(UTC)
        home = reply_address(sender, conversation.state)
        drafts, deliveries = [], list(turn.private)
        for reply in turn.replies:
            to = reply.to or home
            drafts.append(
                EntryDraft("bot", to.channel, reply.text, now, reply.quick_replies, meta=turn.meta)
            )
            if to.channel not in FEED_CHANNELS:
                deliveries.append(Outbound(to, reply.text, reply.quick_replies))
        recorded = await self.store.transcript.append(
            conversation.id, drafts, key=f"out:{item.id}", deliveries=deliveries, state=turn.state
        )
        if deliveries:
            self.on_queued()
        return recorded

    async def _log_question(
        self, item: InboxItem, conversation: Conversation, message: Inbound, turn: Turn
    ) -> None:
        if message.postback is not None and turn.decision != "answer":
            return
        await self.store.questions.record(
            f"q:{item.id}",
            AskedQuestion(
                conversation_id=conversation.id,
                channel=message.sender.channel,
                text=message.text or turn.meta.get("title", ""),
                decision=turn.decision,
                at=message.received_at,
                article_id=turn.article_id,
                intent=turn.intent,
                score=float(turn.meta.get("score", 0.0)),
            ),
        )

    def _publish(self, customer_id: str, entries: list[Entry]) -> None:
        self.feed.publish(customer_id, list(entries))
