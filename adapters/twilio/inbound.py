"""Twilio Messaging webhook form → Inbound. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from gateway.messages import Address, Attachment, Evidence, Inbound, Location

WHATSAPP_PREFIX = "whatsapp:"
MAX_MEDIA = 10
VERIFIED_BY = "twilio"


class NotAMessage(ValueError):
    """A valid callback that carries no customer message (a delivery status, say)."""


class StatusReport(NotAMessage):
    """A delivery status callback for a message we sent."""

    def __init__(self, sid: str, status: str) -> None:
        super().__init__(f"status callback: {sid} {status}")
        self.sid = sid
        self.status = status


def sender_of(raw_from: str) -> Address:
    """`whatsapp:+1555…` → (whatsapp, +1555…); `+1555…` → (sms, +1555…)."""
    if raw_from.startswith(WHATSAPP_PREFIX):
        return Address("whatsapp", raw_from[len(WHATSAPP_PREFIX) :])
    return Address("sms", raw_from)


def parse_form(form: Mapping[str, str], now: datetime | None = None) -> Inbound:
    """The customer message a webhook carries; raises NotAMessage or ValueError otherwise."""
    if "MessageStatus" in form and "Body" not in form:
        raise StatusReport(form.get("MessageSid", ""), form["MessageStatus"])
    sid, raw_from = form.get("MessageSid") or form.get("SmsSid"), form.get("From")
    if not sid or not raw_from:
        raise ValueError("MessageSid and From are required")
    sender = sender_of(raw_from)
    attachments = tuple(
        Attachment(
            form[f"MediaUrl{i}"], form.get(f"MediaContentType{i}", "application/octet-stream")
        )
        for i in range(min(_int(form.get("NumMedia")), MAX_MEDIA))
        if form.get(f"MediaUrl{i}")
    )
    location = None
    if form.get("Latitude") and form.get("Longitude"):
        location = Location(float(form["Latitude"]), float(form["Longitude"]), form.get("Label"))
    return Inbound(
        key=f"twilio:{sid}",
        sender=sender,
        received_at=now or datetime.now(UTC),
        text=form.get("Body", "").strip(),
        postback=form.get("ButtonPayload") or None,
        attachments=attachments,
        location=location,
        # The carrier delivered this from that number: the strongest evidence of a phone we get.
        evidence=(Evidence("phone", sender.address, VERIFIED_BY),),
        sender_name=form.get("ProfileName") or None,
    )


def _int(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0
