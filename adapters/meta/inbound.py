"""Meta webhook JSON → Inbound messages. Pure: no I/O.

One POST may carry several events: `entry` is an array (batched), each Messenger/Instagram entry
has a `messaging` array and each WhatsApp entry a `changes` array whose `value.messages` is an
array. Echoes of our own sends and reactions are skipped; delivery reports are read separately
by `parse_receipts`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.messages import Address, Attachment, Contact, Evidence, Inbound, Location

log = logging.getLogger(__name__)

OBJECTS = {"page": "messenger", "instagram": "instagram", "whatsapp_business_account": "whatsapp"}
VERIFIED_BY = "whatsapp_cloud"
MAX_MEDIA = 10
# Messenger attachment types → the MIME family we record (Meta gives a URL, not a MIME type).
_MESSENGER_MEDIA = {"image": "image/*", "video": "video/*", "audio": "audio/*"}
_WHATSAPP_MEDIA = ("image", "video", "audio", "document", "sticker")


def parse_webhook(
    payload: Any,
    *,
    graph_base_url: str = "https://graph.facebook.com/v21.0",
    now: datetime | None = None,
) -> list[Inbound]:
    """The customer messages a webhook carries, oldest first; ValueError when the shape is wrong.

    `graph_base_url` builds WhatsApp media URLs (`{graph}/{media-id}`, fetched with the token).
    """
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    kind = payload.get("object")
    channel = OBJECTS.get(kind) if isinstance(kind, str) else None
    if channel is None:
        raise ValueError(f"unknown object {payload.get('object')!r}")
    at = now or datetime.now(UTC)
    found: list[tuple[float, Inbound]] = []
    for entry in _list(payload, "entry", required=True):
        if channel == "whatsapp":
            for change in _list(entry, "changes"):
                found.extend(_whatsapp_change(change, graph_base_url, at))
        else:
            for event in _list(entry, "messaging"):
                message = _messaging_event(channel, event, at)
                if message is not None:
                    found.append(message)
    # Meta does not promise order inside a batch; the provider timestamp does (stable sort).
    found.sort(key=lambda pair: pair[0])
    return [message for _, message in found]


def parse_receipts(payload: Any) -> list[tuple[str, str]]:
    """(provider message id, status) for the delivery reports a webhook carries.

    WhatsApp reports each message (sent, delivered, read, failed); Messenger and Instagram list
    the delivered `mids`. Their read reports carry only a time watermark, so they are not used.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return []
    found: list[tuple[str, str]] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            for status in (value or {}).get("statuses") or []:
                if isinstance(status, dict) and status.get("id") and status.get("status"):
                    found.append((str(status["id"]), str(status["status"])))
        for event in entry.get("messaging") or []:
            delivery = event.get("delivery") if isinstance(event, dict) else None
            for mid in (delivery or {}).get("mids") or []:
                found.append((str(mid), "delivered"))
    return found


def _list(parent: Mapping[str, Any], key: str, *, required: bool = False) -> list[dict[str, Any]]:
    """parent[key] as a list of objects; missing → [] unless required; anything else → error."""
    value = parent.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{key} must be an array of objects")
    return value


def _dict(parent: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _number(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return 0.0


# -- Messenger and Instagram -------------------------------------------------------------------


def _messaging_event(
    channel: str, event: dict[str, Any], at: datetime
) -> tuple[float, Inbound] | None:
    sender_id = _dict(event, "sender").get("id")
    stamp = _number(event.get("timestamp")) / 1000
    if "message" in event:
        message = _dict(event, "message")
        if message.get("is_echo") or message.get("is_deleted"):
            return None  # our own send coming back, or a message the customer unsent
        mid = message.get("mid")
        if not mid or not sender_id:
            raise ValueError("a message needs message.mid and sender.id")
        attachments, location = _messenger_attachments(message)
        text = message.get("text")
        return stamp, Inbound(
            key=f"meta:{mid}",
            sender=Address(channel, str(sender_id)),
            received_at=at,
            text=text.strip() if isinstance(text, str) else "",
            postback=_dict(message, "quick_reply").get("payload") or None,
            attachments=attachments,
            location=location,
        )
    if "postback" in event:
        postback = _dict(event, "postback")
        if not sender_id:
            raise ValueError("a postback needs sender.id")
        # Older postbacks carry no mid: the sender and timestamp identify the press instead.
        mid = postback.get("mid") or f"postback:{sender_id}:{event.get('timestamp')}"
        title = postback.get("title")
        return stamp, Inbound(
            key=f"meta:{mid}",
            sender=Address(channel, str(sender_id)),
            received_at=at,
            text=title.strip() if isinstance(title, str) else "",
            postback=postback.get("payload") or None,
        )
    # delivery, read, reaction, message_edit, optin, referral…: not a customer message.
    return None


def _messenger_attachments(
    message: dict[str, Any],
) -> tuple[tuple[Attachment, ...], Location | None]:
    attachments: list[Attachment] = []
    location = None
    for item in _list(message, "attachments")[:MAX_MEDIA]:
        payload = _dict(item, "payload")
        coordinates = _dict(payload, "coordinates")
        if item.get("type") == "location" and "lat" in coordinates and "long" in coordinates:
            location = Location(
                float(coordinates["lat"]), float(coordinates["long"]), payload.get("title")
            )
        elif isinstance(payload.get("url"), str):
            kind = _MESSENGER_MEDIA.get(item.get("type", ""), "application/octet-stream")
            attachments.append(Attachment(payload["url"], kind, payload.get("title")))
    return tuple(attachments), location


# -- WhatsApp Cloud ----------------------------------------------------------------------------


def _whatsapp_change(
    change: dict[str, Any], graph_base_url: str, at: datetime
) -> list[tuple[float, Inbound]]:
    if change.get("field") != "messages":
        return []
    value = _dict(change, "value")
    names = {str(c.get("wa_id")): _dict(c, "profile").get("name") for c in _list(value, "contacts")}
    found = []
    for message in _list(value, "messages"):
        parsed = _whatsapp_message(message, names, graph_base_url, at)
        if parsed is not None:
            found.append((_number(message.get("timestamp")), parsed))
    return found


def _whatsapp_message(
    message: dict[str, Any], names: Mapping[str, Any], graph_base_url: str, at: datetime
) -> Inbound | None:
    wamid, wa_id = message.get("id"), message.get("from")
    if not wamid or not wa_id:
        raise ValueError("a WhatsApp message needs id and from")
    kind = message.get("type")
    if kind in ("reaction", "unsupported", "system", "ephemeral") or kind is None:
        return None
    phone = "+" + str(wa_id).lstrip("+")
    text, postback = "", None
    attachments: tuple[Attachment, ...] = ()
    location = contact = None
    if kind == "text":
        text = str(_dict(message, "text").get("body") or "")
    elif kind == "interactive":
        interactive = _dict(message, "interactive")
        reply = _dict(interactive, "button_reply") or _dict(interactive, "list_reply")
        text, postback = str(reply.get("title") or ""), reply.get("id") or None
    elif kind == "button":  # a quick-reply button on a template message
        button = _dict(message, "button")
        text, postback = str(button.get("text") or ""), button.get("payload") or None
    elif kind in _WHATSAPP_MEDIA:
        media = _dict(message, kind)
        if media.get("id"):
            attachments = (
                Attachment(
                    f"{graph_base_url}/{media['id']}",
                    media.get("mime_type") or "application/octet-stream",
                    media.get("filename"),
                ),
            )
        text = str(media.get("caption") or "")
    elif kind == "location":
        place = _dict(message, "location")
        if "latitude" not in place or "longitude" not in place:
            raise ValueError("a WhatsApp location needs latitude and longitude")
        label = place.get("name") or place.get("address")
        location = Location(float(place["latitude"]), float(place["longitude"]), label)
    elif kind == "contacts":
        contact = _shared_contact(message, str(wa_id))
    else:
        log.info("whatsapp message %s of type %r ignored", wamid, kind)
        return None
    return Inbound(
        key=f"whatsapp:{wamid}",
        sender=Address("whatsapp", phone),
        received_at=at,
        text=text.strip(),
        postback=postback,
        attachments=attachments,
        location=location,
        contact=contact,
        # Meta delivered this from that WhatsApp number: the same evidence as a Twilio sender.
        evidence=(Evidence("phone", phone, VERIFIED_BY),),
        sender_name=names.get(str(wa_id)) or None,
    )


def _shared_contact(message: dict[str, Any], wa_id: str) -> Contact | None:
    for card in _list(message, "contacts"):
        for phone in _list(card, "phones"):
            number = phone.get("wa_id") or phone.get("phone")
            if not number:
                continue
            digits = "".join(ch for ch in str(number) if ch.isdigit())
            return Contact(
                phone="+" + digits,
                name=_dict(card, "name").get("formatted_name"),
                # Only a card of the sender's own WhatsApp number is known to be theirs.
                user_id=wa_id if phone.get("wa_id") == wa_id else None,
            )
    return None
