"""One inbound message to its outcome, top to bottom: who, which conversation, what reply, where.

Each store write is keyed by the inbox item, so after a crash the same item can be handled again:
what was written is found, not written twice, and the rest is done.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from dialogs import continue_by_sms, form_runner
from dialogs.bot import Bot, Turn
from gateway import metrics
from gateway.analytics.events import EventRecorder
from gateway.faults import crashpoint
from gateway.feed import Feed
from gateway.identity import IdentityResolver
from gateway.messages import FEED_CHANNELS, Address, Entry, Inbound, Outbound, reply_address
from gateway.stores.protocol import (
    WITH_PEOPLE,
    AskedQuestion,
    Conversation,
    EntryDraft,
    InboxItem,
    Store,
)
from handoff.config import HandoffConfig
from handoff.desk import HandoffDesk

log = logging.getLogger(__name__)


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

    def __init__(
        self,
        store: Store,
        bot: Bot,
        feed: Feed,
        idle_seconds: float,
        desk: HandoffDesk | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.feed = feed
        self.identity = IdentityResolver(store.customers)
        self.analytics = EventRecorder(store.events, store.conversations)
        self.idle_seconds = idle_seconds
        # Without Slack the desk only says, truthfully, that nobody can take over.
        self.desk = desk or HandoffDesk(store, HandoffConfig(), None, 300.0, feed.publish)
        # Called when replies were queued for a provider, so delivery starts at once.
        self.on_queued: Callable[[], None] = lambda: None

    async def handle(self, item: InboxItem) -> None:
        """Process one accepted message to its stored reply (an agent's, from Slack, too)."""
        message = item.message
        if message.sender.channel == "slack":
            await self._handle_agent(item)
            return
        resolution = await self.identity.resolve(
            message.sender, message.evidence, message.received_at, name=message.sender_name
        )
        customer_id = resolution.customer_id
        self.feed.merged(customer_id, resolution.absorbed)
        async with self.store.locks.hold(customer_id):
            await self._handle_turn(item, customer_id)

    async def _handle_agent(self, item: InboxItem) -> None:
        handoff = await self.desk.handoff_for(item)
        if handoff is None:
            log.warning("agent action %s names no known handoff; ignored", item.message.key)
            return
        async with self.store.locks.hold(handoff.customer_id):
            # Read again under the customer's lock: a customer message may have changed it.
            handoff = await self.desk.handoff_for(item) or handoff
            await self.desk.handle_agent(item, handoff)

    async def _handle_turn(self, item: InboxItem, customer_id: str) -> None:
        conversation = await self.store.conversations.current(
            customer_id, datetime.now(UTC), self.idle_seconds
        )
        offered = conversation.state.get("offered", [])
        message = picked_option(item.message, offered)
        draft = customer_draft(message, offered)
        if any(
            flow.is_code_entry(message.text, conversation.state)
            for flow in (continue_by_sms, form_runner)
        ):
            # A one-time code, even a spent one, does not belong in anyone's history.
            draft = dataclasses.replace(draft, text="••••••", meta={"redacted": "one-time code"})
        last = {"channel": message.sender.channel, "address": message.sender.address}
        # While people have the conversation the bot stays quiet and the thread gets the message.
        mirrored = self.desk.mirror(conversation.state, draft)
        # (If Slack was switched off meanwhile, nobody is left to answer: the bot takes over.)
        with_people = bool(conversation.state.get(WITH_PEOPLE)) and self.desk.enabled
        recorded = await self.store.transcript.append(
            conversation.id,
            [draft],
            key=f"in:{item.id}",
            deliveries=mirrored,
            state={**conversation.state, "last_address": last} if with_people else None,
        )
        if mirrored:
            self.on_queued()
        self._publish(customer_id, recorded)
        crashpoint("after_customer_entry")
        # A replay after a crash finds the entry where it was stored, even if a merge moved it.
        conversation = await self._conversation_of(recorded, conversation)
        opened = bool(recorded) and recorded[0].seq == 1
        await self.analytics.customer_message(str(item.id), conversation, message, opened)
        if with_people:
            return
        state = {**conversation.state, "last_address": last}
        turn = await self.desk.rating_turn(
            message.text, message.postback, state, message.sender.channel
        )
        if turn is None:
            state.pop("rating_for", None)
            # Read once: the flows check ownership with it, the desk routes by its attributes.
            customer = await self.store.customers.get(customer_id)
            turn = await self.bot.respond(
                message.text,
                message.postback,
                message.sender.channel,
                state,
                shared=shared_kind(message),
                reply_channel=reply_address(message.sender, state).channel,
                customer=customer,
            )
            channel = message.sender.channel
            reason = turn.handoff or await self.desk.trigger(turn, customer, channel)
            if reason:
                turn = await self.desk.open(turn, conversation, customer, channel, reason)
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
        pressed = message.postback is not None and turn.decision != "answer"
        if pressed or turn.decision == "rating":
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
