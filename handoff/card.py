"""What agents see in Slack: the customer card on the thread's root, and the transcript lines.

Pure functions from stored records to Block Kit, kept within Slack's limits (section text 3,000
characters, header 150, 50 blocks a message) so a long name or message never gets a post refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gateway.messages import Entry
from gateway.stores.protocol import Customer, Handoff

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
HEADER_LIMIT = 150
# Slack advises keeping `text` under 4,000 characters; a transcript message stays well below.
MESSAGE_LIMIT = 3500
# More than this many messages of transcript and it goes up as one file instead.
MAX_TRANSCRIPT_MESSAGES = 3

CHANNEL_LABELS = {
    "webchat": "Web chat",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "messenger": "Messenger",
    "instagram": "Instagram",
}

REASON_LABELS = {
    "human_agent": "Customer asked for a person",
    "complaint": "Complaint",
    "repeated_misses": "The bot could not answer",
    "flow_failed": "A self-service flow failed",
    "backend_error": "The order system did not answer",
}

STATUS_LABELS = {"queued": "Waiting", "claimed": "Claimed", "resolved": "Resolved"}


def escape(text: str) -> str:
    """Slack mrkdwn control characters as entities, so customer text cannot ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def channel_label(channel: str) -> str:
    """The channel's display name."""
    return CHANNEL_LABELS.get(channel, channel)


def reason_label(reason: str) -> str:
    """A reason code in words; rule reasons (`rule:vip`) keep their name."""
    if reason.startswith("rule:"):
        return f"Rule: {reason[5:]}"
    return REASON_LABELS.get(reason, reason.replace("_", " ").capitalize())


def waited(since: datetime, until: datetime) -> str:
    """A duration the way people say it: 45 s, 12 min, 3 h 5 min."""
    seconds = max(0, int((until - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class CardView:
    """Everything the card shows, gathered by the caller."""

    handoff: Handoff
    customer: Customer | None
    channels_used: tuple[str, ...]
    recent: tuple[str, ...]  # the customer's latest messages, already redacted
    queues: tuple[str, ...]
    now: datetime
    events: tuple[str, ...] = ()  # business events (order shipped…), newest first
    opens_at: str | None = None  # when the queue opens, if it is closed now
    extra: dict[str, str] = field(default_factory=dict)


def _status_line(view: CardView) -> str:
    h = view.handoff
    if h.status == "claimed":
        return f"*Claimed* by {escape(h.agent_name or h.agent_id or 'an agent')}" + (
            f" after {waited(h.opened_at, h.claimed_at)}" if h.claimed_at else ""
        )
    if h.status == "resolved":
        rating = f", rated {h.rating}/5" if h.rating else ""
        by = f" by {escape(h.agent_name)}" if h.agent_name else ""
        return f"*Resolved*{by}{rating}"
    line = f"*Waiting* for {waited(h.opened_at, view.now)}"
    if view.opens_at:
        line += f" (queue opens {view.opens_at})"
    return line


def _identities(customer: Customer | None) -> str:
    if customer is None or not customer.identities:
        return "none"
    lines = []
    for identity in customer.identities:
        mark = "verified" if identity.verified_by else "unverified"
        lines.append(f"{channel_label(identity.channel)}: {escape(identity.address)} ({mark})")
    return "\n".join(lines)


def card_text(view: CardView) -> str:
    """The plain-text fallback: notifications and screen readers show this."""
    name = (view.customer.name if view.customer else None) or "A customer"
    status = STATUS_LABELS.get(view.handoff.status, view.handoff.status)
    return f"{status}: {name} needs help ({reason_label(view.handoff.reason)})"


def card_blocks(view: CardView) -> list[dict]:
    """The root message's blocks: who, why, status, context, and the agent's buttons."""
    h = view.handoff
    name = (view.customer.name if view.customer else None) or "Customer"
    priority = " · :rotating_light: high priority" if h.priority == "high" else ""
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(f"{name}: {reason_label(h.reason)}", HEADER_LIMIT),
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _status_line(view) + priority}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": clip(f"*Customer*\n{escape(name)}", FIELD_LIMIT)},
                {"type": "mrkdwn", "text": f"*Queue*\n{escape(h.queue)}"},
                {
                    "type": "mrkdwn",
                    "text": clip(f"*Identities*\n{_identities(view.customer)}", FIELD_LIMIT),
                },
                {
                    "type": "mrkdwn",
                    "text": "*Channels used*\n"
                    + (", ".join(channel_label(c) for c in view.channels_used) or "—"),
                },
            ],
        },
    ]
    if view.recent:
        recent = "\n".join(f"> {escape(line)}" for line in view.recent)
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip(f"*Recent*\n{recent}", SECTION_LIMIT)},
            }
        )
    if view.events:
        events = "\n".join(f"• {escape(e)}" for e in view.events)
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip(f"*Events*\n{events}", SECTION_LIMIT)},
            }
        )
    if h.status != "resolved":
        blocks.append(
            {"type": "actions", "block_id": "onethread.actions", "elements": _buttons(view)}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Handoff `{h.id}` · conversation `{h.conversation_id}` · reply in "
                    "this thread to answer the customer; start with `note:` to keep it internal",
                }
            ],
        }
    )
    return blocks


def _buttons(view: CardView) -> list[dict]:
    h = view.handoff
    elements: list[dict] = []
    if h.status == "queued":
        elements.append(
            {
                "type": "button",
                "action_id": "onethread.claim",
                "text": {"type": "plain_text", "text": "Claim"},
                "style": "primary",
                "value": h.id,
            }
        )
    elements.append(
        {
            "type": "button",
            "action_id": "onethread.resolve",
            "text": {"type": "plain_text", "text": "Resolve"},
            "value": h.id,
            "confirm": {
                "title": {"type": "plain_text", "text": "Resolve this conversation?"},
                "text": {
                    "type": "plain_text",
                    "text": "The bot takes over again and asks the customer for a rating.",
                },
                "confirm": {"type": "plain_text", "text": "Resolve"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        }
    )
    others = [q for q in view.queues if q != h.queue]
    if others:
        elements.append(
            {
                "type": "static_select",
                "action_id": "onethread.transfer",
                "placeholder": {"type": "plain_text", "text": "Transfer to…"},
                "options": [
                    {"text": {"type": "plain_text", "text": clip(q, 75)}, "value": f"{h.id}|{q}"}
                    for q in others[:100]
                ],
            }
        )
    return elements


def entry_line(entry: Entry, redact: Callable[[str], str]) -> str:
    """One transcript entry as a line: time, channel, author, text."""
    who = {"customer": "Customer", "bot": "Bot", "agent": "Agent", "system": "System"}.get(
        entry.author, entry.author
    )
    if entry.author_name:
        who = f"{who} ({entry.author_name})"
    stamp = entry.ts.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"[{stamp}] {channel_label(entry.channel)} · {who}: {redact(entry.text)}"


def transcript_messages(lines: Sequence[str]) -> list[str] | None:
    """The transcript as a few thread messages, or None when it is long enough for a file."""
    messages: list[str] = []
    current = ""
    for line in lines:
        piece = escape(clip(line, MESSAGE_LIMIT - 10))
        if current and len(current) + len(piece) + 1 > MESSAGE_LIMIT:
            messages.append(current)
            current = ""
        current = f"{current}\n{piece}" if current else piece
    if current:
        messages.append(current)
    if len(messages) > MAX_TRANSCRIPT_MESSAGES:
        return None
    return [f"*Transcript*\n{m}" if i == 0 else m for i, m in enumerate(messages)]
