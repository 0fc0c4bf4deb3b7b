"""The append-only transcript in SQLite: gap-free seq per conversation, idempotent appends."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

from gateway.messages import Attachment, Entry, Outbound, QuickReply
from gateway.stores.protocol import EntryDraft
from gateway.stores.sqlite.db import Database, now_ts, to_dt


def row_to_entry(row: sqlite3.Row) -> Entry:
    """An entries row as an Entry."""
    return Entry(
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        author=row["author"],
        channel=row["channel"],
        text=row["text"],
        ts=to_dt(row["ts"]),
        quick_replies=tuple(QuickReply(**q) for q in json.loads(row["quick_replies"])),
        attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
        author_name=row["author_name"],
        meta=json.loads(row["meta"]),
    )


def _entry_keys(key: str, count: int) -> list[str]:
    return [f"{key}#{i}" for i in range(count)]


class SQLiteTranscript:
    """TranscriptStore on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self,
        conversation_id: str,
        drafts: list[EntryDraft],
        key: str,
        deliveries: list[Outbound] | None = None,
        state: dict[str, Any] | None = None,
    ) -> list[Entry]:
        """Append entries, queue deliveries and save state in one atomic step, once per key."""
        keys = _entry_keys(key, max(1, len(drafts)))

        def tx(conn: sqlite3.Connection) -> list[Entry]:
            first_time = conn.execute(
                "INSERT OR IGNORE INTO steps (key, created_at) VALUES (?, ?)", (key, now_ts())
            ).rowcount
            if not first_time:
                marks = ",".join("?" * len(keys))
                rows = conn.execute(
                    f"SELECT * FROM entries WHERE key IN ({marks}) ORDER BY seq", keys
                ).fetchall()
                return [row_to_entry(r) for r in rows]
            (top,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM entries WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            for offset, (draft, entry_key) in enumerate(zip(drafts, keys, strict=False), start=1):
                conn.execute(
                    "INSERT INTO entries (conversation_id, seq, key, author, channel, text, ts,"
                    " quick_replies, attachments, author_name, meta)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conversation_id,
                        top + offset,
                        entry_key,
                        draft.author,
                        draft.channel,
                        draft.text,
                        draft.ts.timestamp(),
                        json.dumps([dataclasses.asdict(q) for q in draft.quick_replies]),
                        json.dumps([dataclasses.asdict(a) for a in draft.attachments]),
                        draft.author_name,
                        json.dumps(draft.meta),
                    ),
                )
            _queue(conn, conversation_id, deliveries or [])
            _touch(conn, conversation_id, drafts, state)
            rows = conn.execute(
                "SELECT * FROM entries WHERE conversation_id = ? AND seq > ? ORDER BY seq",
                (conversation_id, top),
            ).fetchall()
            return [row_to_entry(r) for r in rows]

        return await self._db.run(tx)

    async def entries(self, conversation_id: str, after_seq: int = 0) -> list[Entry]:
        """Entries with seq greater than after_seq, in order."""

        def tx(conn: sqlite3.Connection) -> list[Entry]:
            rows = conn.execute(
                "SELECT * FROM entries WHERE conversation_id = ? AND seq > ? ORDER BY seq",
                (conversation_id, after_seq),
            ).fetchall()
            return [row_to_entry(r) for r in rows]

        return await self._db.run(tx)


def _queue(conn: sqlite3.Connection, conversation_id: str, deliveries: list[Outbound]) -> None:
    ts = now_ts()
    for message in deliveries:
        conn.execute(
            "INSERT INTO outbox (conversation_id, recipient, payload, next_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                conversation_id,
                f"{message.to.channel}:{message.to.address}",
                json.dumps(message.to_dict()),
                ts,
                ts,
            ),
        )


def _touch(
    conn: sqlite3.Connection,
    conversation_id: str,
    drafts: list[EntryDraft],
    state: dict[str, Any] | None,
) -> None:
    if drafts:
        latest = max(d.ts.timestamp() for d in drafts)
        customer_channels = [d.channel for d in drafts if d.author == "customer"]
        conn.execute(
            "UPDATE conversations SET last_activity_at = MAX(last_activity_at, ?),"
            " last_channel = COALESCE(?, last_channel) WHERE id = ?",
            (latest, customer_channels[-1] if customer_channels else None, conversation_id),
        )
    if state is not None:
        conn.execute(
            "UPDATE conversations SET state = ? WHERE id = ?", (json.dumps(state), conversation_id)
        )
