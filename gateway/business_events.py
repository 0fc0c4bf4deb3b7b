"""Business events: what happened to a customer outside the chat, kept in their timeline.

A shop's systems post them (order shipped, cart abandoned, delivery delayed, ticket updated);
agents see the recent ones when a conversation is handed to them; and an event may ask for a
proactive message, sent on the customer's preferred channel as a bot entry of their conversation
(so it is in the transcript, in the web chat, and queued for delivery like any reply).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.messages import Address, Outbound
from gateway.stores.protocol import BusinessEvent, Customer, EntryDraft, Store

TYPE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CHANNELS = ("sms", "whatsapp", "telegram", "messenger", "instagram", "webchat")
MAX_MESSAGE = 1000

# What to tell the customer when the sender asks for a message but writes none.
NOTICES = {
    "order_shipped": "Good news: your order {order_number} has shipped.{tracking}",
    "delivery_delayed": "Sorry: your order {order_number} is running late.{eta} "
    "Reply here if you need help.",
    "cart_abandoned": "You left something in your cart at Fernhill. It's saved for you at "
    "https://fernhill.example/cart",
    "ticket_updated": "There's an update on your request{ticket}. Reply here to continue.",
}


class EventError(ValueError):
    """The posted event is malformed; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class EventRequest:
    """A validated POST body."""

    type: str
    data: dict[str, Any]
    at: datetime
    key: str | None
    notify: bool
    message: str | None
    channel: str | None


def parse_request(body: Any, now: datetime) -> EventRequest:
    """Validate a posted event; EventError names every problem."""
    if not isinstance(body, dict):
        raise EventError(["body must be a JSON object"])
    problems = []
    known = {"type", "data", "at", "id", "notify", "message", "channel"}
    problems += [f"unknown field '{k}'" for k in sorted(set(body) - known)]
    kind = body.get("type")
    if not isinstance(kind, str) or not TYPE.match(kind) or len(kind) > 64:
        problems.append("'type' must be a snake_case name such as order_shipped")
    data = body.get("data", {})
    if not isinstance(data, dict):
        problems.append("'data' must be an object")
    at = now
    if "at" in body:
        try:
            at = datetime.fromisoformat(str(body["at"]))
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
        except ValueError:
            problems.append("'at' must be an ISO-8601 time")
    key = body.get("id")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
        problems.append("'id' must be a string of 1 to 200 characters")
    notify = body.get("notify", False)
    if not isinstance(notify, bool):
        problems.append("'notify' must be true or false")
    message = body.get("message")
    if message is not None and (not isinstance(message, str) or not message.strip()
                                or len(message) > MAX_MESSAGE):
        problems.append(f"'message' must be text of at most {MAX_MESSAGE} characters")
    channel = body.get("channel")
    if channel is not None and channel not in CHANNELS:
        problems.append(f"'channel' must be one of {', '.join(CHANNELS)}")
    if notify is True and message is None and isinstance(kind, str) and kind not in NOTICES:
        problems.append(f"'message' is required to notify about '{kind}' (no ready wording)")
    if problems:
        raise EventError(problems)
    return EventRequest(kind, data, at, key, notify, message, channel)


def notice(event: BusinessEvent, message: str | None) -> str | None:
    """The proactive message for an event: the sender's own words, or our wording for its type."""
    if message:
        return message.strip()
    template = NOTICES.get(event.type)
    if template is None:
        return None
    data = event.data
    tracking = f" Track it: {data['tracking_url']}" if data.get("tracking_url") else ""
    eta = f" It should arrive by {data['eta']}." if data.get("eta") else ""
    ticket = f" {data['ticket']}" if data.get("ticket") else ""
    return template.format(
        order_number=data.get("order_number", ""), tracking=tracking, eta=eta, ticket=ticket
    ).replace("  ", " ")


def preferred_address(
    customer: Customer, asked: str | None, last_channel: str | None, can_send: set[str]
) -> Address | None:
    """Where to reach the customer: the channel asked for, their preference, where they wrote last.

    Only channels the customer has an identity on and the gateway can send on count; a verified
    phone counts for SMS.
    """
    reachable: dict[str, str] = {}
    for identity in customer.identities:
        if identity.channel in CHANNELS:
            reachable.setdefault(identity.channel, identity.address)
        elif identity.channel == "phone" and identity.verified_by:
            reachable.setdefault("sms", identity.address)
    reachable = {c: a for c, a in reachable.items() if c in can_send or c == "webchat"}
    order = [asked, customer.attributes.get("preferred_channel"), last_channel, *CHANNELS]
    if asked is not None:
        order = [asked]  # asked for one channel: that one or none
    for channel in order:
        if channel in reachable:
            return Address(channel, reachable[channel])
    return None


def describe(event: BusinessEvent) -> str:
    """One line for an agent: when, what, and the order it concerns."""
    what = event.type.replace("_", " ")
    about = event.data.get("order_number") or event.data.get("ticket") or ""
    return f"{event.at:%Y-%m-%d %H:%M} UTC · {what}" + (f" · {about}" if about else "")


async def recent_events(store: Store, customer_id: str, limit: int = 5) -> list[str]:
    """The customer's latest events, one line each, newest first: for the agent at handoff."""
    return [describe(e) for e in await store.business_events.recent(customer_id, limit)]


@dataclass(frozen=True)
class Recorded:
    """What posting an event did."""

    event: BusinessEvent
    new: bool
    notified: Address | None
    entries: list[Any]


async def record(
    store: Store, customer: Customer, request: EventRequest, can_send: set[str],
    idle_seconds: float,
) -> Recorded:
    """Store the event once and, when asked and possible, message the customer about it."""
    event = BusinessEvent(
        id=f"ev_{uuid.uuid4().hex[:20]}", customer_id=customer.id, type=request.type,
        at=request.at, data=request.data, key=request.key,
    )
    event, new = await store.business_events.record(event)
    text = notice(event, request.message) if request.notify else None
    if text is None:
        return Recorded(event, new, None, [])
    conversations = await store.conversations.list_for(customer.id)
    last = conversations[-1].last_channel if conversations else None
    to = preferred_address(customer, request.channel, last, can_send)
    if to is None:
        return Recorded(event, new, None, [])
    now = datetime.now(UTC)
    conversation = await store.conversations.current(customer.id, now, idle_seconds)
    draft = EntryDraft("bot", to.channel, text, now, meta={"event": event.id, "proactive": True})
    deliveries = [] if to.channel == "webchat" else [Outbound(to, text)]
    # Keyed by the event: posting it again finds the message instead of sending it twice.
    entries = await store.transcript.append(
        conversation.id, [draft], key=f"event:{event.id}", deliveries=deliveries
    )
    return Recorded(event, new, to, entries)
