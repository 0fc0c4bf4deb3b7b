"""What the gateway needs from a store, as small protocols; SQLite and Redis implement them.

Every write that a crash could interrupt is idempotent on a key chosen by the caller, so the
pipeline can redo any step after a restart without doing it twice.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.messages import Address, Entry, Inbound, Outbound


@dataclass(frozen=True)
class Identity:
    """One way to reach or recognise a customer; `verified_by` says who vouches for it."""

    channel: str
    address: str
    verified_by: str | None


@dataclass(frozen=True)
class Customer:
    """A person, with every identity linked to them."""

    id: str
    name: str | None
    created_at: datetime
    identities: tuple[Identity, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)


# The state key of a conversation people are handling (see handoff/desk.py): such a conversation
# never goes idle, or a customer writing back after a long wait would reach the bot while an
# agent still has them.
WITH_PEOPLE = "handoff"


@dataclass(frozen=True)
class Conversation:
    """One conversation of a customer: open until resolved, idle-expired or merged."""

    id: str
    customer_id: str
    status: str  # open | resolved | merged
    opened_at: datetime
    last_activity_at: datetime
    last_channel: str | None
    state: dict[str, Any] = field(default_factory=dict)
    resolved_at: datetime | None = None
    merged_into: str | None = None


@dataclass(frozen=True)
class EntryDraft:
    """A transcript entry before the store gives it a seq."""

    author: str
    channel: str
    text: str
    ts: datetime
    quick_replies: tuple = ()
    attachments: tuple = ()
    author_name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboxItem:
    """An accepted inbound message waiting to be processed."""

    id: int
    message: Inbound
    attempts: int


@dataclass(frozen=True)
class OutboxItem:
    """A reply waiting to be delivered, with its delivery history."""

    id: int
    conversation_id: str
    message: Outbound
    attempts: int
    status: str  # pending | sent | dead
    last_error: str | None
    created_at: datetime
    provider_ids: tuple[str, ...] = ()
    receipt: str | None = None  # the provider's latest word: sent, delivered, read, failed…


class CustomerStore(Protocol):
    """Customers and the identities that point at them."""

    async def resolve(self, address: Address, verified_by: str | None, name: str | None) -> str:
        """The customer id owning this identity, creating customer and identity if new."""

    async def link(self, customer_id: str, identity: Identity) -> str | None:
        """Attach an identity; returns the customer that already owns it, if another does."""

    async def merge(self, survivor_id: str, absorbed_id: str, at: datetime) -> None:
        """Fold one customer into another: identities, conversations, transcripts in time order."""

    async def get(self, customer_id: str) -> Customer | None:
        """The customer, following merges to the surviving record."""

    async def update_attributes(self, customer_id: str, changes: dict[str, Any]) -> Customer | None:
        """Set attributes (a None value removes one), following merges; None if no customer."""

    async def delete(self, customer_id: str) -> bool:
        """Erase the customer and everything stored about them."""


class ConversationStore(Protocol):
    """Conversations and their lifecycle."""

    async def current(self, customer_id: str, now: datetime, idle_seconds: float) -> Conversation:
        """The open conversation, or a new one when none is open or the open one went idle.

        A conversation whose state holds a `handoff` (people are handling it) never goes idle.
        """

    async def get(self, conversation_id: str) -> Conversation | None:
        """One conversation by id."""

    async def list_for(self, customer_id: str) -> list[Conversation]:
        """Every conversation of the customer, oldest first."""

    async def update(self, conversation_id: str, **changes: Any) -> Conversation:
        """Change status, state or last_channel."""


class TranscriptStore(Protocol):
    """The append-only transcript of each conversation, with gap-free seq."""

    async def append(
        self,
        conversation_id: str,
        drafts: list[EntryDraft],
        key: str,
        deliveries: list[Outbound] | None = None,
        state: dict[str, Any] | None = None,
    ) -> list[Entry]:
        """Append entries, queue deliveries and save state in one atomic step, once per key."""

    async def entries(self, conversation_id: str, after_seq: int = 0) -> list[Entry]:
        """Entries with seq greater than after_seq, in order."""


class Inbox(Protocol):
    """Accepted inbound messages, durable before the provider is acknowledged."""

    async def accept(self, message: Inbound) -> tuple[int, bool]:
        """Store the message once per key; returns (item id, whether it is new)."""

    async def claim(self, owner: str, limit: int) -> list[InboxItem]:
        """The oldest pending item of each sender not already being processed."""

    async def complete(self, item_id: int, error: str | None = None) -> None:
        """Mark processed; with an error, count an attempt and leave it for a retry."""

    async def fail(self, item_id: int, error: str) -> None:
        """Give up on an item that keeps failing: set aside, visible, not retried."""

    async def pending(self) -> int:
        """How many items wait to be processed."""


class Outbox(Protocol):
    """Replies waiting for delivery, in order per recipient, with retries and dead letters."""

    async def claim_due(self, owner: str, now: datetime, limit: int) -> list[OutboxItem]:
        """The oldest due item of each recipient not already being delivered."""

    async def sent(self, item_id: int, provider_ids: list[str] | None = None) -> None:
        """Handed to the provider, which knows it by these ids."""

    async def retry_later(self, item_id: int, next_at: datetime, error: str) -> None:
        """Delivery failed; try again at next_at."""

    async def dead_letter(self, item_id: int, error: str) -> None:
        """Delivery keeps failing: give up, keep the item visible."""

    async def list(self, status: str, limit: int = 100) -> list[OutboxItem]:
        """Items with a status (pending, sent, dead), newest first."""

    async def receipt(self, provider_id: str, status: str) -> bool:
        """Record what the provider reports about a sent message; True when it was ours."""


class KnowledgeStore(Protocol):
    """Versioned knowledge-base content; every save is a new version."""

    async def latest(self) -> tuple[int, dict[str, Any]] | None:
        """The newest version number and content, or None before the first import."""

    async def save(self, content: dict[str, Any], author: str, note: str) -> int:
        """Store content as a new version; returns its number."""

    async def versions(self, limit: int = 50) -> list[dict[str, Any]]:
        """Version history: number, author, note, time; newest first."""

    async def version(self, number: int) -> dict[str, Any] | None:
        """The content of one version."""


@dataclass(frozen=True)
class AskedQuestion:
    """One customer message and what the bot decided for it, for editors' reports."""

    conversation_id: str
    channel: str
    text: str
    decision: str
    at: datetime
    article_id: str | None = None
    intent: str | None = None
    score: float = 0.0


class QuestionLog(Protocol):
    """What customers asked and how the bot decided: the editors' unanswered inbox and stats."""

    async def record(self, key: str, question: AskedQuestion) -> None:
        """Log once per key."""

    async def since(self, at: datetime, limit: int = 10_000) -> list[AskedQuestion]:
        """Questions asked at or after `at`, oldest first."""


@dataclass(frozen=True)
class Handoff:
    """A conversation passed to people: where it waits in Slack, who has it, how it ended."""

    id: str
    conversation_id: str
    customer_id: str
    reason: str
    queue: str
    status: str  # queued | claimed | resolved
    opened_at: datetime
    priority: str = "normal"  # normal | high
    slack_channel: str | None = None
    thread_ts: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    reminded_at: datetime | None = None
    rating: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class HandoffStore(Protocol):
    """Handoffs to human agents; at most one unresolved handoff per conversation."""

    async def open(self, handoff: Handoff) -> tuple[Handoff, bool]:
        """Store a new handoff unless the conversation has an unresolved one.

        Returns the handoff that counts and whether it is the new one.
        """

    async def get(self, handoff_id: str) -> Handoff | None:
        """One handoff by id."""

    async def active_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's queued or claimed handoff, if any."""

    async def latest_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's newest handoff, whatever its status."""

    async def by_thread(self, slack_channel: str, thread_ts: str) -> Handoff | None:
        """The handoff whose Slack thread this is."""

    async def update(self, handoff_id: str, **changes: Any) -> Handoff:
        """Change fields (status, slack_channel, thread_ts, agent, times, rating, detail)."""

    async def active(self) -> list[Handoff]:
        """Every queued or claimed handoff, oldest first."""

    async def since(self, at: datetime) -> list[Handoff]:
        """Handoffs opened at or after `at`, oldest first."""


@dataclass(frozen=True)
class BusinessEvent:
    """Something that happened to a customer outside the chat: an order shipped, a cart left."""

    id: str
    customer_id: str
    type: str  # snake_case: order_shipped, cart_abandoned, delivery_delayed, ticket_updated…
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # the sender's id for it: the same key twice is one event


class BusinessEventStore(Protocol):
    """Customers' business events, for their timeline and for agents at handoff."""

    async def record(self, event: BusinessEvent) -> tuple[BusinessEvent, bool]:
        """Store once per (customer, key), on the surviving customer; (stored event, is new)."""

    async def recent(self, customer_id: str, limit: int = 20) -> list[BusinessEvent]:
        """The customer's events, newest first (ties: last recorded first), merged ones included."""


class Locks(Protocol):
    """Mutual exclusion by key (a customer) among everyone sharing the store."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the key's lock for the duration of the block."""


@dataclass(frozen=True)
class AnalyticsEvent:
    """One thing that happened in a conversation, for the operators' figures.

    The kinds and what `data` holds for each are documented in `gateway/analytics/events.py`.
    """

    kind: str
    at: datetime
    conversation_id: str
    customer_id: str
    channel: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class EventLog(Protocol):
    """The analytics event log: append-only, once per key, read back by time."""

    async def record(self, key: str, event: AnalyticsEvent) -> bool:
        """Store the event once per key; True when it is new."""

    async def between(
        self, start: datetime, end: datetime, limit: int = 500_000
    ) -> list[AnalyticsEvent]:
        """Events with start <= at < end, oldest first (ties in the order they were recorded)."""


class Store(Protocol):
    """Everything the gateway keeps, reached through its parts."""

    customers: CustomerStore
    conversations: ConversationStore
    transcript: TranscriptStore
    inbox: Inbox
    outbox: Outbox
    knowledge: KnowledgeStore
    questions: QuestionLog
    handoffs: HandoffStore
    business_events: BusinessEventStore
    locks: Locks
    events: EventLog

    async def ping(self) -> bool:
        """True when the store answers."""

    async def close(self) -> None:
        """Release connections; pending writes are already durable."""
