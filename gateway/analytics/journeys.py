"""From the event log to one record per conversation: what the figures are computed over."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from gateway.analytics import events as kinds
from gateway.stores.protocol import AnalyticsEvent

# Asking for a person is a request for a handoff, whether or not an agent was there to take it.
HANDOFF_INTENTS = frozenset({"human_agent", "complaint"})
NO_VALUE = "none"
BOT_QUEUE = "bot"


@dataclass
class Journey:
    """One conversation, everything the log says about it, in time order."""

    id: str
    customer_id: str
    events: list[AnalyticsEvent] = field(default_factory=list)
    recontacted: bool = False

    def of(self, kind: str) -> list[AnalyticsEvent]:
        """This conversation's events of one kind, oldest first."""
        return self._by_kind.get(kind, [])

    # The derived facts below are read by every figure and slice: computed once, after
    # `journeys` has gathered all the events.
    @cached_property
    def _by_kind(self) -> dict[str, list[AnalyticsEvent]]:
        grouped: dict[str, list[AnalyticsEvent]] = defaultdict(list)
        for event in self.events:
            grouped[event.kind].append(event)
        return dict(grouped)

    @property
    def started_at(self) -> datetime:
        """The first event."""
        return self.events[0].at

    @property
    def ended_at(self) -> datetime:
        """The last event: after this, a new contact is a re-contact."""
        return self.events[-1].at

    @cached_property
    def channels(self) -> list[str]:
        """The channels the customer wrote on, in the order first used."""
        used = (e.channel for e in self.of(kinds.MESSAGE_IN) if e.channel)
        return list(dict.fromkeys(used))

    @cached_property
    def channel(self) -> str:
        """Where the conversation began: its figures are counted under this channel."""
        return next(iter(self.channels), None) or self.events[0].channel or NO_VALUE

    @cached_property
    def intent(self) -> str:
        """The first self-service intent the bot recognised, or `none`."""
        found = (e.data.get("intent") for e in self.of(kinds.MESSAGE_OUT))
        return next((i for i in found if i), NO_VALUE)

    @cached_property
    def queue(self) -> str:
        """The queue of the first handoff, or `bot` when no person was involved."""
        handoffs = self.of(kinds.HANDOFF)
        return str(handoffs[0].data.get("queue") or NO_VALUE) if handoffs else BOT_QUEUE

    @cached_property
    def handed_off(self) -> bool:
        """A handoff to people was opened."""
        return bool(self.of(kinds.HANDOFF))

    @cached_property
    def asked_for_person(self) -> bool:
        """The customer asked for a person (whether or not one was available)."""
        return any(
            e.data.get("decision") == "handoff" or e.data.get("intent") in HANDOFF_INTENTS
            for e in self.of(kinds.MESSAGE_OUT)
        )

    @cached_property
    def contained(self) -> bool:
        """The bot kept it: no handoff and no request for a person."""
        return not self.handed_off and not self.asked_for_person

    @cached_property
    def resolved_at(self) -> datetime | None:
        """When it ended well: the last resolve of a handed-off one, the bot's last reply of a
        contained one; None while a handoff is unresolved or when the customer asked for a person
        and got none."""
        if self.handed_off:
            resolves = self.of(kinds.RESOLVE)
            return resolves[-1].at if resolves else None
        replies = self.of(kinds.MESSAGE_OUT)
        return replies[-1].at if replies and self.contained else None


def journeys(events: list[AnalyticsEvent], window: timedelta) -> list[Journey]:
    """Group events by conversation and mark those the customer came back after within `window`.

    Events must already name surviving customers and conversations (merges followed).
    """
    by_id: dict[str, Journey] = {}
    for event in sorted(events, key=lambda e: e.at):
        journey = by_id.get(event.conversation_id)
        if journey is None:
            journey = by_id[event.conversation_id] = Journey(
                event.conversation_id, event.customer_id
            )
        journey.events.append(event)
    contacts: dict[str, list[AnalyticsEvent]] = defaultdict(list)
    for event in events:
        if event.kind == kinds.MESSAGE_IN:
            contacts[event.customer_id].append(event)
    for journey in by_id.values():
        end = journey.ended_at
        journey.recontacted = any(
            e.conversation_id != journey.id and end < e.at <= end + window
            for e in contacts[journey.customer_id]
        )
    return sorted(by_id.values(), key=lambda j: (j.started_at, j.id))
