"""What the customer is told at each step of a handoff: short, true, and what happens next."""

from __future__ import annotations

from datetime import datetime

from gateway.messages import QuickReply

CONNECTING = (
    "I'm passing this conversation to our team. A person will reply right here, and you can keep "
    "writing in the meantime: they'll see everything."
)

OFFLINE = (
    "Our team is offline right now. They'll be back {when}, and your conversation is saved in "
    "their queue: the reply will come right here."
)

DELAYED = (
    "It's taking longer than usual to reach our team. Your request is saved and will reach them "
    "as soon as possible; you don't need to write again."
)

UNREACHABLE = (
    "I'm sorry: I couldn't reach our team, so nobody has seen this conversation yet. Please try "
    "again later. I'm here in the meantime if I can help."
)

JOINED = "{agent} from our team has joined the conversation."

RESOLVED = (
    "{agent} has marked this conversation as resolved. How did we do? Rate us from 1 (poor) to 5 "
    "(great)."
)

RATED = "Thank you for your rating! I'm here if you need anything else."

RATING_OPTIONS = tuple(QuickReply(str(n), f"csat:{n}") for n in range(1, 6))


def offline(opens: datetime, now: datetime) -> str:
    """The offline notice, naming when the queue opens in the queue's own time zone."""
    local_now = now.astimezone(opens.tzinfo)
    if opens.date() == local_now.date():
        day = "today"
    elif (opens.date() - local_now.date()).days == 1:
        day = "tomorrow"
    else:
        day = opens.strftime("%A")
    return OFFLINE.format(when=f"{day} at {opens.strftime('%H:%M')} ({opens.tzname()})")


def rating_of(text: str, postback: str | None) -> int | None:
    """A 1-5 rating from a pressed button or a typed digit."""
    if postback and postback.startswith("csat:"):
        value = postback[5:]
    else:
        value = text.strip().rstrip(".!").split("/")[0].strip()
    return int(value) if value in {"1", "2", "3", "4", "5"} else None
