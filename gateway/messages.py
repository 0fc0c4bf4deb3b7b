"""The one message vocabulary every channel speaks: frozen dataclasses of plain data.

An adapter turns a provider's payload into an `Inbound`; the router answers with `Outbound`s; an
adapter turns each `Outbound` into a provider call. Nothing here holds a live client.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

CHANNELS = ("webchat", "sms", "whatsapp", "telegram", "messenger", "instagram")
Channel = Literal["webchat", "sms", "whatsapp", "telegram", "messenger", "instagram"]
Author = Literal["customer", "bot", "agent", "system"]
# Channels whose replies reach the customer through the live feed and transcript replay, not
# through a provider call.
FEED_CHANNELS = frozenset({"webchat"})


@dataclass(frozen=True)
class Address:
    """Where a message came from or goes to: a channel and that channel's address for a person."""

    channel: str
    address: str


def reply_address(sender: Address, state: dict[str, Any]) -> Address:
    """Where replies go: where the customer wrote, unless they chose another channel from there
    (`state["reply_to"]`, set when a web chat customer asks to continue by SMS)."""
    chosen = state.get("reply_to")
    if chosen and sender.channel in FEED_CHANNELS:
        return Address(chosen["channel"], chosen["address"])
    return sender


@dataclass(frozen=True)
class Evidence:
    """A verified fact about who the sender is: a phone (E.164) or email, and who vouches for it."""

    kind: Literal["phone", "email"]
    value: str
    verified_by: str


# The payload of a button asking for the customer's own contact card (Telegram can; others
# show it as an ordinary option).
SHARE_CONTACT = "share:contact"


@dataclass(frozen=True)
class QuickReply:
    """A button the customer can press; channels without buttons show numbered options."""

    title: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A media file by reference: its URL at the provider, type and optional name."""

    url: str
    content_type: str = "application/octet-stream"
    name: str | None = None


@dataclass(frozen=True)
class Location:
    """A point the customer shared."""

    latitude: float
    longitude: float
    label: str | None = None


@dataclass(frozen=True)
class Contact:
    """A contact card the customer shared; `user_id` set when the provider says it is theirs."""

    phone: str
    name: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One message from a customer, normalized.

    `key` is the idempotency key: the provider's message id (or the web chat client_msg_id),
    scoped by channel, so a redelivery is recognised and handled once.
    """

    key: str
    sender: Address
    received_at: datetime
    text: str = ""
    postback: str | None = None
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    contact: Contact | None = None
    evidence: tuple[Evidence, ...] = ()
    sender_name: str | None = None
    # Channel-specific facts the router needs beyond the text (an agent's Slack thread, say).
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, for the durable inbox."""
        data = dataclasses.asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inbound:
        """Inverse of `to_dict`."""
        return cls(
            key=data["key"],
            sender=Address(**data["sender"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            text=data.get("text", ""),
            postback=data.get("postback"),
            attachments=tuple(Attachment(**a) for a in data.get("attachments", ())),
            location=Location(**data["location"]) if data.get("location") else None,
            contact=Contact(**data["contact"]) if data.get("contact") else None,
            evidence=tuple(Evidence(**e) for e in data.get("evidence", ())),
            sender_name=data.get("sender_name"),
            meta=data.get("meta") or {},
        )


@dataclass(frozen=True)
class Outbound:
    """One reply to send: Markdown text (adapters convert it), quick replies, attachments."""

    to: Address
    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    author: Author = "bot"
    author_name: str | None = None
    # What the sender needs besides the text (which Slack operation, for which handoff).
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, for the durable outbox."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outbound:
        """Inverse of `to_dict`."""
        return cls(
            to=Address(**data["to"]),
            text=data["text"],
            quick_replies=tuple(QuickReply(**q) for q in data.get("quick_replies", ())),
            attachments=tuple(Attachment(**a) for a in data.get("attachments", ())),
            author=data.get("author", "bot"),
            author_name=data.get("author_name"),
            meta=data.get("meta") or {},
        )


@dataclass(frozen=True)
class Entry:
    """One line of a conversation's transcript, whatever channel it came or went on."""

    conversation_id: str
    seq: int
    author: Author
    channel: str
    text: str
    ts: datetime
    quick_replies: tuple[QuickReply, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    author_name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
