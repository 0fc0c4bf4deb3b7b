"""Plain values to Redis strings and back: times as epoch seconds, absent fields as no field."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from gateway.messages import Attachment, Entry, QuickReply
from gateway.stores.protocol import EntryDraft


def now_ts() -> float:
    """Seconds since the epoch, UTC."""
    return datetime.now(UTC).timestamp()


def ts_str(value: float) -> str:
    """An epoch float as a string that round-trips exactly."""
    return repr(float(value))


def to_dt(raw: str | None) -> datetime | None:
    """A stored epoch string as an aware UTC datetime."""
    return None if raw is None or raw == "" else datetime.fromtimestamp(float(raw), UTC)


def entry_json(draft: EntryDraft, key: str) -> str:
    """A transcript entry as stored; its seq is its place in the list."""
    return json.dumps(
        {
            "a": draft.author,
            "ch": draft.channel,
            "t": draft.text,
            "ts": draft.ts.timestamp(),
            "qr": [dataclasses.asdict(q) for q in draft.quick_replies],
            "at": [dataclasses.asdict(a) for a in draft.attachments],
            "n": draft.author_name,
            "m": draft.meta,
            "k": key,
        },
        separators=(",", ":"),
    )


def entry_from(raw: str, conversation_id: str, seq: int) -> Entry:
    """A stored entry as an Entry."""
    data: dict[str, Any] = json.loads(raw)
    return Entry(
        conversation_id=conversation_id,
        seq=seq,
        author=data["a"],
        channel=data["ch"],
        text=data["t"],
        ts=datetime.fromtimestamp(data["ts"], UTC),
        quick_replies=tuple(QuickReply(**q) for q in data["qr"]),
        attachments=tuple(Attachment(**a) for a in data["at"]),
        author_name=data["n"],
        meta=data["m"],
    )


def entry_sort_key(raw: str) -> tuple[float, str]:
    """Time, then the step key: the order a merge lays entries out in."""
    data = json.loads(raw)
    return data["ts"], data.get("k") or ""


def lua(redis: Redis, body: str) -> AsyncScript:
    """A Lua script with a shebang: in a Redis Cluster, Redis then refuses any key it touches
    outside the slot of its declared keys, so a key-layout mistake fails loudly, never silently."""
    return redis.register_script("#!lua\n" + body)
