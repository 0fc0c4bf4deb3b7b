"""The analytics events and the one API that records them.

Every figure an operator sees is computed from these events (`gateway/analytics/figures.py`), so
each kind is recorded in exactly one place, once per key (a replay after a crash adds nothing).

Each kind, who records it, its `channel`, and what its `data` holds:

- `message_in` (router, each customer message; where it came from):
  `new_conversation` when it opened the conversation.
- `recontact` (router, a customer message opening a new conversation for a customer who had one
  before; where it came from): `previous_conversation_id`, `previous_channel`, `gap_seconds`
  since that conversation's last activity.
- `message_out` (router, each bot turn; where the customer wrote): `decision` (answer, clarify,
  fallback, intent, handoff, flow, acknowledged), `intent`, `article_id`, `score`; `question`, the
  customer's words, when the bot could not answer (clarify, fallback).
- `handoff` (handoff code, a handoff opened; the customer's last channel): `handoff_id`, `reason`,
  `queue`.
- `claim` (handoff code, an agent took it; `slack`): `handoff_id`, `queue`, `agent_id`.
- `agent_reply` (handoff code, each agent reply sent to the customer; `slack`): `handoff_id`,
  `queue`, `first` when it is the handoff's first reply.
- `resolve` (handoff code, the handoff closed; `slack`): `handoff_id`, `queue`.
- `rating` (handoff code, the customer rated the help; their channel): `handoff_id`, `queue`,
  `rating` 1 (bad) to 5 (great).

Conversations and customers are named by id as they were when the event happened; readers follow
merges (`gateway/analytics/load.py`).

The handoff code records its steps with the Handoff record as the store holds it after each change
(the router's recorder is `router.analytics`; any `EventRecorder(store.events,
store.conversations)` is the same):

    opened, is_new = await store.handoffs.open(handoff)
    if is_new:
        await recorder.handoff(opened, channel=conversation.last_channel)
    claimed = await store.handoffs.update(h.id, status="claimed", claimed_at=now, agent_id=user)
    await recorder.claim(claimed)
    await recorder.agent_reply(current, key=slack_message_ts, at=sent_at)
    await recorder.resolve(await store.handoffs.update(h.id, status="resolved", resolved_at=now))
    await recorder.rating(rated, 5, channel="sms")

Each call is idempotent (keyed by the handoff id, and the reply's key), so a retried Slack event
records nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.analytics import prom
from gateway.messages import Inbound
from gateway.stores.protocol import (
    AnalyticsEvent,
    Conversation,
    ConversationStore,
    EventLog,
    Handoff,
)

MESSAGE_IN = "message_in"
MESSAGE_OUT = "message_out"
RECONTACT = "recontact"
HANDOFF = "handoff"
CLAIM = "claim"
AGENT_REPLY = "agent_reply"
RESOLVE = "resolve"
RATING = "rating"
KINDS = (MESSAGE_IN, MESSAGE_OUT, RECONTACT, HANDOFF, CLAIM, AGENT_REPLY, RESOLVE, RATING)

# Bot decisions below the answer threshold: the customer's words are kept for the editors.
UNANSWERED = frozenset({"clarify", "fallback"})
AGENT_CHANNEL = "slack"


def _seconds(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else max(0.0, (end - start).total_seconds())


class EventRecorder:
    """Records analytics events and counts them on /metrics; every method is idempotent."""

    def __init__(self, log: EventLog, conversations: ConversationStore) -> None:
        self._log = log
        self._conversations = conversations

    async def _record(self, key: str, event: AnalyticsEvent, duration: float | None = None) -> bool:
        new = await self._log.record(key, event)
        if new:
            prom.observe(event, duration)
        return new

    # ---- the router's calls ----

    async def customer_message(
        self, key: str, conversation: Conversation, message: Inbound, opened: bool
    ) -> None:
        """A customer message stored in `conversation`; `opened`: it is the conversation's first."""
        channel = message.sender.channel
        at = message.received_at
        ids = {"conversation_id": conversation.id, "customer_id": conversation.customer_id}
        data = {"new_conversation": True} if opened else {}
        await self._record(
            f"in:{key}", AnalyticsEvent(MESSAGE_IN, at, channel=channel, data=data, **ids)
        )
        if not opened:
            return
        earlier = [
            c
            for c in await self._conversations.list_for(conversation.customer_id)
            if c.id != conversation.id and c.opened_at <= conversation.opened_at
        ]
        if not earlier:
            return
        previous = max(earlier, key=lambda c: c.last_activity_at)
        gap = _seconds(previous.last_activity_at, at) or 0.0
        data = {
            "previous_conversation_id": previous.id,
            "previous_channel": previous.last_channel,
            "gap_seconds": gap,
        }
        event = AnalyticsEvent(RECONTACT, at, channel=channel, data=data, **ids)
        await self._record(f"recontact:{key}", event, gap)

    async def bot_turn(
        self,
        key: str,
        conversation: Conversation,
        channel: str,
        question: str,
        decision: str,
        intent: str | None = None,
        article_id: str | None = None,
        score: float = 0.0,
        at: datetime | None = None,
    ) -> None:
        """What the bot decided for one customer message."""
        data: dict[str, Any] = {
            "decision": decision,
            "intent": intent,
            "article_id": article_id,
            "score": round(float(score), 4),
        }
        if decision in UNANSWERED and question.strip():
            data["question"] = question.strip()[:500]
        event = AnalyticsEvent(
            MESSAGE_OUT,
            at or datetime.now(UTC),
            conversation.id,
            conversation.customer_id,
            channel,
            data,
        )
        await self._record(f"out:{key}", event)

    # ---- the handoff code's calls: pass the Handoff record as it stands after the change ----

    def _handoff_event(
        self, kind: str, handoff: Handoff, at: datetime, channel: str | None, **data: Any
    ) -> AnalyticsEvent:
        return AnalyticsEvent(
            kind,
            at,
            handoff.conversation_id,
            handoff.customer_id,
            channel,
            {"handoff_id": handoff.id, "queue": handoff.queue, **data},
        )

    async def handoff(self, handoff: Handoff, channel: str | None = None) -> bool:
        """A handoff was opened (at `handoff.opened_at`); `channel`: the customer's last one."""
        event = self._handoff_event(
            HANDOFF, handoff, handoff.opened_at, channel, reason=handoff.reason
        )
        return await self._record(f"handoff:{handoff.id}", event)

    async def claim(self, handoff: Handoff) -> bool:
        """An agent claimed it (at `handoff.claimed_at`, else now)."""
        at = handoff.claimed_at or datetime.now(UTC)
        event = self._handoff_event(CLAIM, handoff, at, AGENT_CHANNEL, agent_id=handoff.agent_id)
        return await self._record(f"claim:{handoff.id}", event, _seconds(handoff.opened_at, at))

    async def agent_reply(self, handoff: Handoff, key: str, at: datetime | None = None) -> bool:
        """An agent's reply went to the customer; `key` names the reply (e.g. its Slack ts)."""
        at = at or datetime.now(UTC)
        first = handoff.first_response_at is None or handoff.first_response_at >= at
        event = self._handoff_event(AGENT_REPLY, handoff, at, AGENT_CHANNEL, first=first)
        wait = _seconds(handoff.opened_at, at) if first else None
        return await self._record(f"agent_reply:{handoff.id}:{key}", event, wait)

    async def resolve(self, handoff: Handoff) -> bool:
        """The handoff was resolved (at `handoff.resolved_at`, else now)."""
        at = handoff.resolved_at or datetime.now(UTC)
        event = self._handoff_event(RESOLVE, handoff, at, AGENT_CHANNEL)
        return await self._record(f"resolve:{handoff.id}", event, _seconds(handoff.opened_at, at))

    async def rating(
        self, handoff: Handoff, rating: int, channel: str | None = None, at: datetime | None = None
    ) -> bool:
        """The customer rated the help they got, 1 (bad) to 5 (great); the first rating counts."""
        if not 1 <= int(rating) <= 5:
            raise ValueError(f"a rating is 1 to 5, got {rating!r}")
        event = self._handoff_event(
            RATING, handoff, at or datetime.now(UTC), channel, rating=int(rating)
        )
        return await self._record(f"rating:{handoff.id}", event)
