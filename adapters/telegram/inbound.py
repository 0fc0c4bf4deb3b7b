"""Telegram Update → Inbound, read with python-telegram-bot's own types. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Update

from gateway.messages import Address, Attachment, Contact, Evidence, Inbound, Location

VERIFIED_BY = "telegram_contact"


class NotAMessage(ValueError):
    """A valid update that carries nothing to answer (an edit, a channel post, a bot's own)."""


@dataclass(frozen=True)
class ParsedUpdate:
    """The customer message, and the callback query to acknowledge if a button was pressed."""

    message: Inbound
    callback_query_id: str | None = None


def parse_update(data: dict[str, Any], now: datetime | None = None) -> ParsedUpdate:
    """The message an update carries; raises NotAMessage or ValueError otherwise."""
    if not isinstance(data.get("update_id"), int):
        raise ValueError("update_id is required")
    update = Update.de_json(data, None)
    received = now or datetime.now(UTC)
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message else query.from_user.id
        message = Inbound(
            key=f"telegram:{update.update_id}",
            sender=Address("telegram", str(chat)),
            received_at=received,
            postback=query.data or "",
            sender_name=query.from_user.full_name,
        )
        return ParsedUpdate(message, query.id)
    msg = update.message
    if msg is None or msg.from_user is None or msg.from_user.is_bot:
        raise NotAMessage("no new message from a person in this update")
    return ParsedUpdate(
        Inbound(
            key=f"telegram:{update.update_id}",
            sender=Address("telegram", str(msg.chat.id)),
            received_at=received,
            text=(msg.text or msg.caption or "").strip(),
            attachments=_attachments(msg),
            location=Location(msg.location.latitude, msg.location.longitude)
            if msg.location
            else None,
            contact=_contact(msg),
            evidence=_evidence(msg),
            sender_name=msg.from_user.full_name,
        )
    )


def _contact(msg: Any) -> Contact | None:
    if msg.contact is None:
        return None
    user_id = str(msg.contact.user_id) if msg.contact.user_id else None
    name = " ".join(p for p in (msg.contact.first_name, msg.contact.last_name) if p) or None
    return Contact(_e164(msg.contact.phone_number), name, user_id)


def _evidence(msg: Any) -> tuple[Evidence, ...]:
    # Only the customer's own card proves a phone: Telegram fills user_id with the sender's id
    # when they share themselves, and anyone can forward someone else's contact.
    contact = msg.contact
    if contact is None or contact.user_id is None or contact.user_id != msg.from_user.id:
        return ()
    return (Evidence("phone", _e164(contact.phone_number), VERIFIED_BY),)


def _e164(number: str) -> str:
    digits = number.strip()
    return digits if digits.startswith("+") else f"+{digits}"


def _attachments(msg: Any) -> tuple[Attachment, ...]:
    found = []
    if msg.photo:
        found.append(Attachment(f"telegram-file:{msg.photo[-1].file_id}", "image/jpeg"))
    if msg.document:
        found.append(
            Attachment(
                f"telegram-file:{msg.document.file_id}",
                msg.document.mime_type or "application/octet-stream",
                msg.document.file_name,
            )
        )
    return tuple(found)
