"""The analytics events on /metrics: counters and histograms whose label sets stay bounded.

Labels are channels, decisions, kinds, reasons, queues, intents and ratings. Channels, decisions,
kinds and ratings are fixed sets; reasons, queues and intents come from configuration and content,
so each keeps its first few distinct values and folds the rest into `other`. No label ever holds a
customer, a conversation or free text.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram

from gateway.messages import CHANNELS
from gateway.metrics import REGISTRY
from gateway.stores.protocol import AnalyticsEvent

OTHER = "other"
RATING_VALUES = frozenset({"1", "2", "3", "4", "5"})
KNOWN_CHANNELS = frozenset({*CHANNELS, "slack"})
KNOWN_DECISIONS = frozenset(
    {"answer", "clarify", "fallback", "intent", "handoff", "flow", "acknowledged"}
)
KNOWN_KINDS = frozenset(
    {
        "message_in",
        "message_out",
        "recontact",
        "handoff",
        "claim",
        "agent_reply",
        "resolve",
        "rating",
    }
)
WAIT_BUCKETS = (15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
GAP_BUCKETS = (600, 3600, 4 * 3600, 24 * 3600, 72 * 3600, 7 * 24 * 3600)


class BoundedLabel:
    """Keeps the first `limit` distinct values of a label; later new ones become `other`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        """The label value to use for `value`."""
        value = (value or "none")[:60]
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) < self.limit:
                self._seen.add(value)
                return value
        return OTHER


def _fixed(value: str | None, known: frozenset[str]) -> str:
    return value if value in known else OTHER


QUEUES = BoundedLabel(20)
INTENTS = BoundedLabel(60)
REASONS = BoundedLabel(20)


def reason_label(reason: str | None) -> str:
    """`rule:vip-refunds` counts as `rule`: rule names are many, the kind of reason is few."""
    return REASONS((reason or "none").split(":", 1)[0])


EVENTS = Counter(
    "onethread_analytics_events_total",
    "Analytics events recorded, by kind and channel.",
    ["kind", "channel"],
    registry=REGISTRY,
)
CONVERSATIONS = Counter(
    "onethread_conversations_started_total",
    "Conversations opened by a customer message, by the channel it came on.",
    ["channel"],
    registry=REGISTRY,
)
BOT_OUTCOMES = Counter(
    "onethread_bot_outcomes_total",
    "Bot turns by channel and decision (answer, clarify, fallback, intent, handoff, ...).",
    ["channel", "decision"],
    registry=REGISTRY,
)
INTENT_TURNS = Counter(
    "onethread_intents_total",
    "Bot turns that recognised a self-service intent.",
    ["intent"],
    registry=REGISTRY,
)
RECONTACTS = Counter(
    "onethread_recontacts_total",
    "New conversations of a customer who had one before, by channel and the previous channel.",
    ["channel", "previous_channel"],
    registry=REGISTRY,
)
RECONTACT_GAP = Histogram(
    "onethread_recontact_gap_seconds",
    "Time from the end of a customer's previous conversation to their next contact.",
    ["channel"],
    buckets=GAP_BUCKETS,
    registry=REGISTRY,
)
HANDOFFS = Counter(
    "onethread_handoffs_total",
    "Conversations handed to people, by reason and queue.",
    ["reason", "queue"],
    registry=REGISTRY,
)
TIME_TO_CLAIM = Histogram(
    "onethread_handoff_time_to_claim_seconds",
    "Time from a handoff to an agent claiming it.",
    ["queue"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)
FIRST_RESPONSE = Histogram(
    "onethread_handoff_first_response_seconds",
    "Time from a handoff to the agent's first reply reaching the customer.",
    ["queue"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)
RESOLUTION = Histogram(
    "onethread_handoff_resolution_seconds",
    "Time from a handoff to its resolution.",
    ["queue"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)
RATINGS = Counter(
    "onethread_csat_ratings_total",
    "Customer satisfaction ratings (1 to 5) by queue.",
    ["queue", "rating"],
    registry=REGISTRY,
)
RATES = Gauge(
    "onethread_rate",
    "Operator figures over the last 7 days, recomputed each minute from the event log "
    "(deflection, handoff, containment, channel_switching, first_contact_resolution, csat).",
    ["figure"],
    registry=REGISTRY,
)


def observe(event: AnalyticsEvent, duration: float | None = None) -> None:
    """Count one newly recorded event; `duration` is the wait it ends, when it ends one."""
    channel = _fixed(event.channel, KNOWN_CHANNELS)
    EVENTS.labels(kind=_fixed(event.kind, KNOWN_KINDS), channel=channel).inc()
    data = event.data
    queue = QUEUES(data.get("queue"))
    if event.kind == "message_in" and data.get("new_conversation"):
        CONVERSATIONS.labels(channel=channel).inc()
    elif event.kind == "message_out":
        decision = _fixed(data.get("decision"), KNOWN_DECISIONS)
        BOT_OUTCOMES.labels(channel=channel, decision=decision).inc()
        if data.get("intent"):
            INTENT_TURNS.labels(intent=INTENTS(data["intent"])).inc()
    elif event.kind == "recontact":
        previous = _fixed(data.get("previous_channel"), KNOWN_CHANNELS)
        RECONTACTS.labels(channel=channel, previous_channel=previous).inc()
        if duration is not None:
            RECONTACT_GAP.labels(channel=channel).observe(duration)
    elif event.kind == "handoff":
        HANDOFFS.labels(reason=reason_label(data.get("reason")), queue=queue).inc()
    elif event.kind == "rating":
        rating = str(data.get("rating"))
        RATINGS.labels(queue=queue, rating=rating if rating in RATING_VALUES else OTHER).inc()
    elif duration is not None:
        histogram = {"claim": TIME_TO_CLAIM, "agent_reply": FIRST_RESPONSE, "resolve": RESOLUTION}
        if event.kind in histogram:
            histogram[event.kind].labels(queue=queue).observe(duration)
