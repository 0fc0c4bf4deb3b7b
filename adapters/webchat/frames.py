"""Web chat frames: parsing the client's, building the server's. Pure functions, no I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gateway.messages import Entry

MAX_TEXT_CHARS = 4000
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class FrameError(ValueError):
    """A client frame that cannot be accepted; `code` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Hello:
    """The client introduces itself and says what it has already seen."""

    visitor_id: str
    identity_token: str | None
    last_seq: int
    conversation_id: str | None


@dataclass(frozen=True)
class Said:
    """The customer sent text."""

    text: str
    client_msg_id: str


@dataclass(frozen=True)
class Pressed:
    """The customer pressed a quick reply."""

    payload: str
    client_msg_id: str | None


def _optional_str(frame: dict[str, Any], key: str, pattern: re.Pattern[str] | None) -> str | None:
    value = frame.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise FrameError("bad_frame", f"{key} must be a string of letters, digits, - _ . :")
    return value


def parse_frame(raw: str) -> Hello | Said | Pressed:
    """Parse and validate one client frame."""
    try:
        frame = json.loads(raw)
    except ValueError:
        raise FrameError("bad_json", "frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", "frame must be a JSON object")
    kind = frame.get("type")
    if kind == "hello":
        visitor_id = _optional_str(frame, "visitor_id", _ID)
        if visitor_id is None:
            raise FrameError("bad_frame", "hello needs a visitor_id")
        last_seq = frame.get("last_seq", 0) or 0
        if not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
            raise FrameError("bad_frame", "last_seq must be a non-negative integer")
        token = frame.get("identity_token")
        if token is not None and (not isinstance(token, str) or len(token) > 8192):
            raise FrameError("bad_frame", "identity_token must be a string")
        return Hello(
            visitor_id, token or None, last_seq, _optional_str(frame, "conversation_id", _ID)
        )
    if kind == "message":
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FrameError("bad_message", "message needs non-empty text")
        if len(text) > MAX_TEXT_CHARS:
            raise FrameError("too_long", f"text is longer than {MAX_TEXT_CHARS} characters")
        client_msg_id = _optional_str(frame, "client_msg_id", _ID)
        if client_msg_id is None:
            raise FrameError("bad_message", "message needs a client_msg_id")
        return Said(text.strip(), client_msg_id)
    if kind == "postback":
        payload = frame.get("payload")
        if not isinstance(payload, str) or not payload or len(payload) > 256:
            raise FrameError("bad_postback", "postback needs a payload string")
        return Pressed(payload, _optional_str(frame, "client_msg_id", _ID))
    raise FrameError("unknown_type", f"unknown frame type {kind!r}")


def welcome_frame(customer_id: str, conversation_id: str) -> dict[str, Any]:
    """The server's greeting: who the visitor is and which conversation follows."""
    return {"type": "welcome", "customer_id": customer_id, "conversation_id": conversation_id}


def entry_frame(entry: Entry) -> dict[str, Any]:
    """One transcript entry as a message frame."""
    frame: dict[str, Any] = {
        "type": "message",
        "seq": entry.seq,
        "from": entry.author,
        "channel": entry.channel,
        "text": entry.text,
        "ts": entry.ts.isoformat().replace("+00:00", "Z"),
    }
    if entry.quick_replies:
        frame["quick_replies"] = [
            {"title": q.title, "payload": q.payload} for q in entry.quick_replies
        ]
    if entry.author_name:
        frame["author_name"] = entry.author_name
    return frame


def error_frame(code: str, message: str) -> dict[str, Any]:
    """A refusal of one frame; the socket stays open."""
    return {"type": "error", "code": code, "message": message}
