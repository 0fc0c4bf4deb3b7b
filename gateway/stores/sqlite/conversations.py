"""Conversations and their lifecycle in SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from gateway.stores.protocol import WITH_PEOPLE, Conversation
from gateway.stores.sqlite.db import Database, new_id, to_dt

_COLUMNS = {"status", "last_channel", "state", "resolved_at", "last_activity_at"}


def row_to_conversation(row: sqlite3.Row) -> Conversation:
    """A conversations row as a Conversation."""
    return Conversation(
        id=row["id"],
        customer_id=row["customer_id"],
        status=row["status"],
        opened_at=to_dt(row["opened_at"]),
        last_activity_at=to_dt(row["last_activity_at"]),
        last_channel=row["last_channel"],
        state=json.loads(row["state"]),
        resolved_at=to_dt(row["resolved_at"]),
        merged_into=row["merged_into"],
    )


def merge_open_conversations(conn: sqlite3.Connection, customer_id: str, at: float) -> None:
    """Leave one open conversation: when several are open, move their entries, in time order,
    into a new one, so that every client replays the merged thread from its first entry."""
    open_rows = conn.execute(
        "SELECT * FROM conversations WHERE customer_id = ? AND status = 'open'"
        " ORDER BY last_activity_at",
        (customer_id,),
    ).fetchall()
    if len(open_rows) < 2:
        return
    merged_id = new_id("con")
    latest = open_rows[-1]
    conn.execute(
        "INSERT INTO conversations (id, customer_id, status, opened_at, last_activity_at,"
        " last_channel, state) VALUES (?, ?, 'open', ?, ?, ?, ?)",
        (
            merged_id,
            customer_id,
            min(r["opened_at"] for r in open_rows),
            max(at, latest["last_activity_at"]),
            latest["last_channel"],
            latest["state"],
        ),
    )
    old_ids = [r["id"] for r in open_rows]
    marks = ",".join("?" * len(old_ids))
    moving = conn.execute(
        f"SELECT conversation_id, seq FROM entries WHERE conversation_id IN ({marks})"
        " ORDER BY ts, conversation_id, seq",
        old_ids,
    ).fetchall()
    for new_seq, row in enumerate(moving, start=1):
        conn.execute(
            "UPDATE entries SET conversation_id = ?, seq = ? WHERE conversation_id = ? AND seq = ?",
            (merged_id, new_seq, row["conversation_id"], row["seq"]),
        )
    # A handoff follows its conversation, so the agent's thread keeps reaching the customer.
    conn.execute(
        f"UPDATE handoffs SET conversation_id = ? WHERE conversation_id IN ({marks})",
        [merged_id, *old_ids],
    )
    conn.execute(
        f"UPDATE conversations SET status = 'merged', merged_into = ?, resolved_at = ?"
        f" WHERE id IN ({marks})",
        [merged_id, at, *old_ids],
    )


class SQLiteConversations:
    """ConversationStore on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def current(self, customer_id: str, now: datetime, idle_seconds: float) -> Conversation:
        """The open conversation, or a new one when none is open or the open one went idle."""
        ts = now.timestamp()

        def tx(conn: sqlite3.Connection) -> Conversation:
            row = conn.execute(
                "SELECT * FROM conversations WHERE customer_id = ? AND status = 'open'"
                " ORDER BY last_activity_at DESC LIMIT 1",
                (customer_id,),
            ).fetchone()
            if row is not None and (
                ts - row["last_activity_at"] <= idle_seconds
                or WITH_PEOPLE in json.loads(row["state"])
            ):
                return row_to_conversation(row)
            if row is not None:
                conn.execute(
                    "UPDATE conversations SET status = 'resolved', resolved_at = ?,"
                    " state = json_set(state, '$.resolution', 'idle') WHERE id = ?",
                    (ts, row["id"]),
                )
            conv_id = new_id("con")
            conn.execute(
                "INSERT INTO conversations (id, customer_id, status, opened_at, last_activity_at)"
                " VALUES (?, ?, 'open', ?, ?)",
                (conv_id, customer_id, ts, ts),
            )
            return row_to_conversation(
                conn.execute("SELECT * FROM conversations WHERE id = ?", (conv_id,)).fetchone()
            )

        return await self._db.run(tx)

    async def get(self, conversation_id: str) -> Conversation | None:
        """One conversation by id."""

        def tx(conn: sqlite3.Connection) -> Conversation | None:
            row = conn.execute(
                "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            return None if row is None else row_to_conversation(row)

        return await self._db.run(tx)

    async def list_for(self, customer_id: str) -> list[Conversation]:
        """Every conversation of the customer, oldest first."""

        def tx(conn: sqlite3.Connection) -> list[Conversation]:
            rows = conn.execute(
                "SELECT * FROM conversations WHERE customer_id = ? ORDER BY opened_at, id",
                (customer_id,),
            ).fetchall()
            return [row_to_conversation(r) for r in rows]

        return await self._db.run(tx)

    async def update(self, conversation_id: str, **changes: Any) -> Conversation:
        """Change status, state or last_channel."""
        unknown = set(changes) - _COLUMNS
        if unknown:
            raise ValueError(f"cannot update conversation fields {sorted(unknown)}")
        values = {
            k: json.dumps(v) if k == "state" else (v.timestamp() if isinstance(v, datetime) else v)
            for k, v in changes.items()
        }

        def tx(conn: sqlite3.Connection) -> Conversation:
            if values:
                assignments = ", ".join(f"{k} = ?" for k in values)
                conn.execute(
                    f"UPDATE conversations SET {assignments} WHERE id = ?",
                    [*values.values(), conversation_id],
                )
            row = conn.execute(
                "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                raise KeyError(conversation_id)
            return row_to_conversation(row)

        return await self._db.run(tx)
