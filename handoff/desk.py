"""The handoff desk: opens handoffs, relays between the customer and the agent's Slack thread.

Everything here is a keyed, idempotent store write, like the router's: the Slack side is reached
only through the outbox (`slack_op` deliveries, in order per handoff), so a handoff made while
Slack is down reaches Slack when it is back, and a crash redoes a step without doing it twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dialogs.bot import Reply, Turn
from dialogs.replies import HANDOFF_UNAVAILABLE
from gateway.analytics.events import EventRecorder
from gateway.messages import (
    FEED_CHANNELS,
    Address,
    Entry,
    Inbound,
    Outbound,
    QuickReply,
    reply_address,
)
from gateway.stores.protocol import (
    WITH_PEOPLE,
    Conversation,
    Customer,
    EntryDraft,
    Handoff,
    InboxItem,
    OutboxItem,
    Store,
)
from handoff import texts
from handoff.card import MESSAGE_LIMIT, channel_label, clip, escape, waited
from handoff.config import Facts, HandoffConfig
from handoff.redact import redact

log = logging.getLogger(__name__)


def slack_op(handoff_id: str, op: str, text: str = "", **meta: Any) -> Outbound:
    """A Slack operation for one handoff, queued in the outbox behind the handoff's earlier ones."""
    return Outbound(Address("slack", handoff_id), text, author="system", meta={"op": op, **meta})


def marker(handoff: Handoff) -> dict[str, Any]:
    """What the conversation state keeps about its active handoff."""
    return {"id": handoff.id, "status": handoff.status, "agent": handoff.agent_name}


def customer_address(state: dict[str, Any]) -> Address | None:
    """Where the customer wrote last (or chose to be answered), for agent replies."""
    last = state.get("last_address")
    return reply_address(Address(last["channel"], last["address"]), state) if last else None


class AgentDirectory(Protocol):
    """Agents' display names, by Slack user id."""

    async def name_of(self, user_id: str, fallback: str | None = None) -> str:
        """The name customers see for this agent."""


class HandoffDesk:
    """Opens handoffs and carries each step of the agent's work to the customer and to Slack."""

    def __init__(
        self,
        store: Store,
        config: HandoffConfig,
        directory: AgentDirectory | None,
        remind_seconds: float,
        publish: Callable[[str, list[Entry]], None],
    ) -> None:
        self.store = store
        self.config = config
        self.directory = directory
        self.remind_seconds = remind_seconds
        self.publish = publish
        self.analytics = EventRecorder(store.events, store.conversations)
        self.on_queued: Callable[[], None] = lambda: None

    @property
    def enabled(self) -> bool:
        """True when agents are connected (Slack is configured)."""
        return self.directory is not None

    def redact(self, text: str) -> str:
        """Text as it may appear in Slack."""
        return redact(text, self.config.redact)

    # Customer side -----------------------------------------------------------------------

    async def trigger(self, turn: Turn, customer: Customer | None, channel: str) -> str | None:
        """A configured rule's reason to hand this turn off, if one matches."""
        if not self.enabled or not self.config.triggers or turn.handoff:
            return None
        reason = self.config.trigger(_facts(turn, customer, channel))
        return f"rule:{reason}" if reason else None

    async def open(
        self,
        turn: Turn,
        conversation: Conversation,
        customer: Customer | None,
        channel: str,
        reason: str,
    ) -> Turn:
        """Turn the bot's turn into a handoff: queue it for Slack and tell the customer."""
        handing = {**turn.state, "misses": 0, "offered": []}
        if not self.enabled:
            # Promising a person nobody will send would be a lie.
            return dataclasses.replace(
                turn, replies=(Reply(HANDOFF_UNAVAILABLE),), state=handing, decision="handoff"
            )
        queue, priority = self.config.route(_facts(turn, customer, channel))
        now = datetime.now(UTC)
        opens = None
        if queue.hours is not None and not queue.hours.is_open(now):
            opens = queue.hours.next_open(now)
        handoff, is_new = await self.store.handoffs.open(
            Handoff(
                id=f"hof_{uuid.uuid4().hex[:20]}",
                conversation_id=conversation.id,
                customer_id=conversation.customer_id,
                reason=reason,
                queue=queue.name,
                status="queued",
                opened_at=now,
                priority=priority,
                detail={"opens_at": opens.isoformat() if opens else None},
            )
        )
        if is_new:
            await self.analytics.handoff(handoff, channel=channel)
        text = texts.offline(opens, now) if opens else texts.CONNECTING
        return dataclasses.replace(
            turn,
            replies=(Reply(text),),
            state={**handing, WITH_PEOPLE: marker(handoff)},
            decision="handoff",
            handoff=reason,
            private=(*turn.private, slack_op(handoff.id, "open")),
            meta={**turn.meta, "handoff": handoff.id, "queue": queue.name, "reason": reason},
        )

    def mirror(self, state: dict[str, Any], draft: EntryDraft) -> list[Outbound]:
        """The customer's message, for the agent's thread, while people have the conversation."""
        active = state.get(WITH_PEOPLE)
        if not active or not self.enabled:
            return []
        name = f" ({draft.author_name})" if draft.author_name else ""
        said = clip(escape(self.redact(draft.text)), MESSAGE_LIMIT)
        text = f"*{channel_label(draft.channel)}* · Customer{escape(name)}: {said}"
        return [slack_op(active["id"], "mirror", text, ts=draft.ts.isoformat())]

    async def rating_turn(
        self, text: str, postback: str | None, state: dict[str, Any], channel: str | None = None
    ) -> Turn | None:
        """The thanks for a rating, when the customer was asked for one and gave it."""
        handoff_id = state.get("rating_for")
        if not handoff_id:
            return None
        rating = texts.rating_of(text, postback)
        if rating is None:
            return None
        handoff = await self.store.handoffs.update(handoff_id, rating=rating)
        await self.analytics.rating(handoff, rating, channel=channel)
        rest = {k: v for k, v in state.items() if k not in {"rating_for", "offered"}}
        ops = (
            slack_op(
                handoff.id, "note", f":star: The customer rated this conversation {rating}/5."
            ),
            slack_op(handoff.id, "update"),
        )
        return Turn(
            (Reply(texts.RATED),),
            rest,
            "rating",
            meta={"rating": rating, "handoff": handoff.id},
            private=ops if self.enabled else (),
        )

    # Agent side --------------------------------------------------------------------------

    async def handoff_for(self, item: InboxItem) -> Handoff | None:
        """The handoff an agent's Slack action or reply is about."""
        return await self.store.handoffs.get(item.message.sender.address)

    async def handle_agent(self, item: InboxItem, handoff: Handoff) -> None:
        """One agent action from Slack: claim, reply, note, resolve or transfer."""
        message = item.message
        kind = message.meta.get("kind", "reply")
        agent_id = message.meta.get("user_id", "")
        agent = await self._agent_name(agent_id, message.sender_name)
        conversation = await self.store.conversations.get(handoff.conversation_id)
        if conversation is None:
            log.warning("handoff %s has no conversation any more; ignoring %s", handoff.id, kind)
            return
        key = f"in:{item.id}"
        if kind == "note":
            await self._ops(conversation, key, [_react(handoff, message, "memo")])
            return
        if handoff.status == "resolved" and kind != "transfer":
            note = "This conversation is resolved; the customer is with the bot again."
            await self._ops(conversation, key, [_ephemeral(handoff, message, note)])
            return
        if kind == "claim":
            await self._claim(item, handoff, conversation, agent_id, agent)
        elif kind == "reply":
            await self._reply(item, handoff, conversation, agent_id, agent)
        elif kind == "resolve":
            await self._resolve(item, handoff, conversation, agent_id, agent)
        elif kind == "transfer":
            await self._transfer(item, handoff, conversation, agent)
        else:
            log.warning("unknown agent action %r for handoff %s", kind, handoff.id)

    async def _agent_name(self, agent_id: str, fallback: str | None) -> str:
        if self.directory is None or not agent_id:
            return fallback or "Our team"
        return await self.directory.name_of(agent_id, fallback)

    async def _claim(
        self,
        item: InboxItem,
        handoff: Handoff,
        conversation: Conversation,
        agent_id: str,
        agent: str,
    ) -> None:
        key = f"in:{item.id}"
        if handoff.status == "claimed" and handoff.agent_id != agent_id:
            note = f"{handoff.agent_name or 'Someone'} has already claimed this conversation."
            await self._ops(conversation, key, [_ephemeral(handoff, item.message, note)])
            return
        handoff = await self._assign(handoff, agent_id, agent, item.message.received_at)
        draft, deliveries = self._to_customer(
            conversation.state, texts.JOINED.format(agent=agent), "system", None
        )
        ops = [
            *deliveries,
            slack_op(handoff.id, "update"),
            slack_op(handoff.id, "note", f":raising_hand: {agent} claimed this conversation."),
        ]
        state = {**conversation.state, WITH_PEOPLE: marker(handoff)}
        await self._record(conversation, [draft] if draft else [], key, ops, state)

    async def _assign(self, handoff: Handoff, agent_id: str, agent: str, at: datetime) -> Handoff:
        if handoff.status != "claimed" or handoff.agent_id != agent_id:
            handoff = await self.store.handoffs.update(
                handoff.id, status="claimed", agent_id=agent_id, agent_name=agent, claimed_at=at
            )
        # Once per handoff, however often this step is replayed.
        await self.analytics.claim(handoff)
        return handoff

    async def _reply(
        self,
        item: InboxItem,
        handoff: Handoff,
        conversation: Conversation,
        agent_id: str,
        agent: str,
    ) -> None:
        drafts: list[EntryDraft] = []
        ops: list[Outbound] = []
        # The time Slack's event was accepted: the same when this step is replayed.
        at = item.message.received_at
        if handoff.status == "queued":
            # Answering is taking the conversation: no separate click needed.
            handoff = await self._assign(handoff, agent_id, agent, at)
            joined, deliveries = self._to_customer(
                conversation.state, texts.JOINED.format(agent=agent), "system", None
            )
            drafts += [joined] if joined else []
            ops += [*deliveries, slack_op(handoff.id, "update")]
        if handoff.first_response_at is None:
            handoff = await self.store.handoffs.update(handoff.id, first_response_at=at)
        draft, deliveries = self._to_customer(conversation.state, item.message.text, "agent", agent)
        if draft is None:
            note = "The customer has no channel to reach them on yet; nothing was sent."
            await self._ops(
                conversation, f"in:{item.id}", [_ephemeral(handoff, item.message, note)]
            )
            return
        state = {**conversation.state, WITH_PEOPLE: marker(handoff)}
        await self._record(
            conversation, [*drafts, draft], f"in:{item.id}", [*ops, *deliveries], state
        )
        await self.analytics.agent_reply(handoff, key=str(item.id), at=at)

    async def _resolve(
        self,
        item: InboxItem,
        handoff: Handoff,
        conversation: Conversation,
        agent_id: str,
        agent: str,
    ) -> None:
        handoff = await self.store.handoffs.update(
            handoff.id,
            status="resolved",
            resolved_at=handoff.resolved_at or datetime.now(UTC),
            agent_id=handoff.agent_id or agent_id,
            agent_name=handoff.agent_name or agent,
        )
        await self.analytics.resolve(handoff)
        draft, deliveries = self._to_customer(
            conversation.state,
            texts.RESOLVED.format(agent=handoff.agent_name or agent),
            "bot",  # the bot has the conversation again, and asks
            None,
            texts.RATING_OPTIONS,
        )
        state = {k: v for k, v in conversation.state.items() if k != WITH_PEOPLE}
        state.update(rating_for=handoff.id, misses=0)
        if draft is not None:
            state["offered"] = [
                {"title": q.title, "payload": q.payload} for q in draft.quick_replies
            ]
        ops = [
            *deliveries,
            slack_op(handoff.id, "update"),
            slack_op(
                handoff.id,
                "note",
                f":white_check_mark: {agent} resolved this conversation; the bot has it again.",
            ),
        ]
        await self._record(conversation, [draft] if draft else [], f"in:{item.id}", ops, state)

    async def _transfer(
        self, item: InboxItem, handoff: Handoff, conversation: Conversation, agent: str
    ) -> None:
        key = f"in:{item.id}"
        target = item.message.meta.get("queue", "")
        if target not in self.config.queues:
            note = f"There is no queue named {target!r}."
            await self._ops(conversation, key, [_ephemeral(handoff, item.message, note)])
            return
        if target == handoff.queue and handoff.status != "resolved":
            return
        moved = _moved_op(handoff, target, agent)
        handoff = await self.store.handoffs.update(
            handoff.id,
            queue=target,
            status="queued",
            slack_channel=None,
            thread_ts=None,
            agent_id=None,
            agent_name=None,
            claimed_at=None,
            reminded_at=None,
            resolved_at=None,
            opened_at=handoff.opened_at,
            detail={**handoff.detail, "transferred_by": agent},
        )
        state = {k: v for k, v in conversation.state.items() if k != "rating_for"}
        state[WITH_PEOPLE] = marker(handoff)
        await self._record(conversation, [], key, [moved, slack_op(handoff.id, "open")], state)

    # Delivery feedback and timers --------------------------------------------------------

    async def delivery_failed(self, item: OutboxItem, final: bool, error: str) -> None:
        """Tell the customer the truth when their handoff cannot reach Slack, and the agent when
        a reply cannot reach the customer (WhatsApp's 24-hour window, a number gone…)."""
        item_message, attempts = item.message, item.attempts
        if final and item_message.meta.get("handoff") and item_message.to.channel != "slack":
            await self._undelivered(item, error)
            return
        if item_message.to.channel != "slack" or item_message.meta.get("op") != "open":
            return
        handoff = await self.store.handoffs.get(item_message.to.address)
        if handoff is None or handoff.thread_ts is not None:
            return
        conversation = await self.store.conversations.get(handoff.conversation_id)
        if conversation is None:
            return
        if final:
            await self.store.handoffs.update(
                handoff.id,
                status="resolved",
                resolved_at=datetime.now(UTC),
                detail={**handoff.detail, "failed": "Slack unreachable"},
            )
            draft, deliveries = self._to_customer(conversation.state, texts.UNREACHABLE, "system")
            state = {k: v for k, v in conversation.state.items() if k != WITH_PEOPLE}
            await self._record(
                conversation,
                [draft] if draft else [],
                f"unreachable:{handoff.id}",
                deliveries,
                state,
            )
        elif attempts == 0:
            draft, deliveries = self._to_customer(conversation.state, texts.DELAYED, "system")
            await self._record(
                conversation, [draft] if draft else [], f"delayed:{handoff.id}", deliveries, None
            )

    async def _undelivered(self, item: OutboxItem, error: str) -> None:
        handoff = await self.store.handoffs.get(item.message.meta["handoff"])
        if handoff is None or not self.enabled:
            return
        said = clip(escape(self.redact(item.message.text)), 1000)
        note = (
            f":warning: Not delivered to the customer by {channel_label(item.message.to.channel)}"
            f" ({escape(error)}). They have not seen:\n> {said}"
        )
        await self.store.transcript.append(
            handoff.conversation_id,
            [],
            key=f"undelivered:{item.id}",
            deliveries=[slack_op(handoff.id, "note", note)],
        )
        self.on_queued()

    async def remind_due(self, now: datetime) -> int:
        """Remind and escalate every handoff left unclaimed too long; returns how many."""
        reminded = 0
        for handoff in await self.store.handoffs.active():
            if handoff.status != "queued" or handoff.reminded_at or handoff.thread_ts is None:
                continue
            queue = self.config.queues.get(handoff.queue)
            if queue is None:
                continue
            if queue.hours is not None and not queue.hours.is_open(now):
                continue
            since = handoff.opened_at
            if handoff.detail.get("opens_at"):
                since = max(since, datetime.fromisoformat(handoff.detail["opens_at"]))
            limit = queue.remind_after_seconds or self.remind_seconds
            if now - since < timedelta(seconds=limit):
                continue
            await self.store.handoffs.update(handoff.id, reminded_at=now)
            ops = [
                slack_op(
                    handoff.id,
                    "note",
                    f":alarm_clock: Waiting {waited(since, now)} and nobody has claimed it yet.",
                ),
                slack_op(handoff.id, "update"),
            ]
            if queue.escalation_channel:
                ops.append(slack_op(handoff.id, "escalate", channel=queue.escalation_channel))
            await self.store.transcript.append(
                handoff.conversation_id, [], key=f"remind:{handoff.id}", deliveries=ops
            )
            reminded += 1
        if reminded:
            self.on_queued()
        return reminded

    async def watch(self, interval: float) -> None:
        """Check for unclaimed handoffs every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.remind_due(datetime.now(UTC))
            except Exception:  # the store may be down for a moment; the next round tries again
                log.exception("checking unclaimed handoffs failed")

    # Writing -----------------------------------------------------------------------------

    def _to_customer(
        self,
        state: dict[str, Any],
        text: str,
        author: str,
        name: str | None = None,
        quick_replies: tuple[QuickReply, ...] = (),
    ) -> tuple[EntryDraft | None, list[Outbound]]:
        to = customer_address(state)
        if to is None:
            return None, []
        draft = EntryDraft(
            author, to.channel, text, datetime.now(UTC), quick_replies, author_name=name
        )
        if to.channel in FEED_CHANNELS:
            return draft, []
        # Naming the handoff lets a failed delivery be reported in the agent's thread.
        meta = {"handoff": state[WITH_PEOPLE]["id"]} if state.get(WITH_PEOPLE) else {}
        return draft, [
            Outbound(to, text, quick_replies, author=author, author_name=name, meta=meta)
        ]

    async def _ops(self, conversation: Conversation, key: str, ops: list[Outbound]) -> None:
        await self._record(conversation, [], key, ops, None)

    async def _record(
        self,
        conversation: Conversation,
        drafts: list[EntryDraft],
        key: str,
        deliveries: list[Outbound],
        state: dict[str, Any] | None,
    ) -> None:
        entries = await self.store.transcript.append(
            conversation.id, drafts, key=key, deliveries=deliveries, state=state
        )
        if deliveries:
            self.on_queued()
        if entries:
            self.publish(conversation.customer_id, entries)


def _facts(turn: Turn, customer: Customer | None, channel: str) -> Facts:
    attributes = customer.attributes if customer else {}
    return Facts(channel, turn.intent, attributes.get("language"), attributes)


def _react(handoff: Handoff, message: Inbound, name: str) -> Outbound:
    return slack_op(
        handoff.id,
        "react",
        name=name,
        channel=message.meta.get("channel"),
        ts=message.meta.get("ts"),
    )


def _ephemeral(handoff: Handoff, message: Inbound, text: str) -> Outbound:
    return slack_op(
        handoff.id,
        "ephemeral",
        text,
        user=message.meta.get("user_id"),
        channel=message.meta.get("channel") or handoff.slack_channel,
    )


def _moved_op(handoff: Handoff, target: str, agent: str) -> Outbound:
    return slack_op(
        handoff.id,
        "moved",
        f":arrow_right: {agent} transferred this conversation to the {target} queue.",
        channel=handoff.slack_channel,
        ts=handoff.thread_ts,
    )
