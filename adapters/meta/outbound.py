"""A reply as Graph Send API bodies (Messenger, Instagram, WhatsApp Cloud), and Graph errors
as DeliveryErrors. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from adapters.base import DeliveryError
from adapters.text import numbered, split_text
from gateway.messages import Attachment, Outbound, QuickReply
from knowledge.render import markdown_to_text

MESSENGER_MAX_TEXT = 2000  # "Must be UTF-8 and has a 2000 character limit"
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE = 20
QUICK_REPLY_PAYLOAD = 1000

WHATSAPP_MAX_TEXT = 4096
WHATSAPP_MAX_BODY = 1024  # body text of an interactive message
MAX_BUTTONS = 3
BUTTON_TITLE = 20
BUTTON_ID = 256
MAX_LIST_ROWS = 10
ROW_TITLE = 24
ROW_ID = 200
LIST_BUTTON = "Options"  # the list's opening button, ≤ 20 characters
CHOOSE = "Choose an option:"  # body for buttons when the text does not fit in one

# Graph error codes meaning "slow down" (app, user, page, pair rate limits): retry later.
THROTTLED = frozenset({4, 17, 32, 613, 80007, 130429, 131048, 131056})
# Graph error codes meaning "our side hiccupped": retry.
TRANSIENT = frozenset({1, 2, 131000, 131016})


def render_text(message: Outbound, channel: str) -> str:
    """Plain text with links kept; an agent's reply is prefixed with their name.

    Messenger and Instagram show no Markdown, so every reply is converted. WhatsApp bot replies
    are already the article's WhatsApp text; only agents' Markdown is converted there.
    """
    text = message.text
    if channel != "whatsapp" or message.author != "bot":
        text = markdown_to_text(text)
    if message.author_name and message.author == "agent":
        text = f"{message.author_name}: {text}"
    return text.strip()


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- Messenger and Instagram -------------------------------------------------------------------


def messenger_messages(message: Outbound, channel: str = "messenger") -> list[dict[str, Any]]:
    """The Send API `message` objects, in order; quick replies ride on the last one."""
    text = render_text(message, channel)
    options = message.quick_replies
    if len(options) > MAX_QUICK_REPLIES or any(
        len(q.payload) > QUICK_REPLY_PAYLOAD for q in options
    ):
        text, options = numbered(text, options), ()
    out: list[dict[str, Any]] = [{"text": part} for part in split_text(text, MESSENGER_MAX_TEXT)]
    out.extend({"attachment": _messenger_attachment(a)} for a in message.attachments)
    if options:
        if not out:
            out.append({"text": CHOOSE})
        out[-1]["quick_replies"] = [
            {
                "content_type": "text",
                "title": clip(q.title, QUICK_REPLY_TITLE),
                "payload": q.payload,
            }
            for q in options
        ]
    return out


def _messenger_attachment(attachment: Attachment) -> dict[str, Any]:
    family = attachment.content_type.split("/", 1)[0]
    kind = family if family in ("image", "video", "audio") else "file"
    return {"type": kind, "payload": {"url": attachment.url, "is_reusable": False}}


# -- WhatsApp Cloud ----------------------------------------------------------------------------


def whatsapp_bodies(message: Outbound) -> list[dict[str, Any]]:
    """The Cloud API request bodies, in order: text parts, media, then any buttons or list."""
    to = "".join(ch for ch in message.to.address if ch.isdigit())
    text = render_text(message, "whatsapp")
    options = message.quick_replies
    id_limit = BUTTON_ID if len(options) <= MAX_BUTTONS else ROW_ID
    if len(options) > MAX_LIST_ROWS or any(len(q.payload) > id_limit for q in options):
        text, options = numbered(text, options), ()
    parts = split_text(text, WHATSAPP_MAX_TEXT)
    interactive = None
    if options:
        body = parts.pop() if parts and len(parts[-1]) <= WHATSAPP_MAX_BODY else CHOOSE
        interactive = _interactive(body, options)
    bodies = [_whatsapp(to, "text", {"body": part, "preview_url": True}) for part in parts]
    bodies.extend(_whatsapp_media(to, a) for a in message.attachments)
    if interactive is not None:
        bodies.append(_whatsapp(to, "interactive", interactive))
    return bodies


def _whatsapp(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


def _interactive(body: str, options: tuple[QuickReply, ...]) -> dict[str, Any]:
    if len(options) <= MAX_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": q.payload, "title": clip(q.title, BUTTON_TITLE)}}
            for q in options
        ]
        return {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    rows = [{"id": q.payload, "title": clip(q.title, ROW_TITLE)} for q in options]
    return {
        "type": "list",
        "body": {"text": body},
        "action": {"button": LIST_BUTTON, "sections": [{"rows": rows}]},
    }


def _whatsapp_media(to: str, attachment: Attachment) -> dict[str, Any]:
    family = attachment.content_type.split("/", 1)[0]
    if family in ("image", "video", "audio"):
        return _whatsapp(to, family, {"link": attachment.url})
    document: dict[str, Any] = {"link": attachment.url}
    if attachment.name:
        document["filename"] = attachment.name
    return _whatsapp(to, "document", document)


# -- errors ------------------------------------------------------------------------------------


def delivery_error(status: int, payload: Any, retry_after: str | None = None) -> DeliveryError:
    """A Graph error answer as a DeliveryError: throttling and outages retry, the rest is final.

    The reason carries Graph's code and message, never the request (which holds no token in
    its URL anyway: the token travels in the Authorization header).
    """
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    detail = str(error.get("message") or "no error message")[:300]
    codes = f"code {code}/{subcode}" if subcode else f"code {code}"
    reason = f"Graph API {status} ({codes}): {detail}"
    throttled = status == 429 or code in THROTTLED
    retryable = throttled or status >= 500 or code in TRANSIENT or error.get("is_transient") is True
    return DeliveryError(
        reason,
        retry_after=_seconds(retry_after) if retryable else None,
        permanent=not retryable,
    )


def _seconds(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None
