"""Handoffs to human agents in SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from gateway.stores.protocol import Handoff
from gateway.stores.sqlite.db import Database, to_dt

_TIMES = ("opened_at", "claimed_at", "first_response_at", "resolved_at", "reminded_at")
_FIELDS = {
    "reason", "queue", "status", "priority", "slack_channel", "thread_ts", "agent_id",
    "agent_name", "rating", "detail", "conversation_id", *_TIMES,
}  # fmt: skip


def _row_to_handoff(row: sqlite3.Row) -> Handoff:
    values = dict(row)
    for name in _TIMES:
        values[name] = to_dt(values[name])
    values["detail"] = json.loads(values["detail"])
    return Handoff(**values)


def _column_value(name: str, value: Any) -> Any:
    if name in _TIMES:
        return None if value is None else value.timestamp()
    if name == "detail":
        return json.dumps(value)
    return value


class SQLiteHandoffs:
    """HandoffStore on SQLite; `open` checks and inserts in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, handoff: Handoff) -> tuple[Handoff, bool]:
        """Store a new handoff unless the conversation has an unresolved one."""
        values = {name: _column_value(name, getattr(handoff, name)) for name in _FIELDS}
        values["id"] = handoff.id
        values["customer_id"] = handoff.customer_id
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))

        def tx(conn: sqlite3.Connection) -> tuple[Handoff, bool]:
            existing = conn.execute(
                "SELECT * FROM handoffs WHERE conversation_id = ? AND status != 'resolved'",
                (handoff.conversation_id,),
            ).fetchone()
            if existing is not None:
                return _row_to_handoff(existing), False
            conn.execute(f"INSERT INTO handoffs ({columns}) VALUES ({marks})", [*values.values()])
            return handoff, True

        return await self._db.run(tx)

    async def _one(self, sql: str, params: tuple) -> Handoff | None:
        def tx(conn: sqlite3.Connection) -> Handoff | None:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else _row_to_handoff(row)

        return await self._db.run(tx)

    async def _many(self, sql: str, params: tuple) -> list[Handoff]:
        def tx(conn: sqlite3.Connection) -> list[Handoff]:
            return [_row_to_handoff(row) for row in conn.execute(sql, params)]

        return await self._db.run(tx)

    async def get(self, handoff_id: str) -> Handoff | None:
        """One handoff by id."""
        return await self._one("SELECT * FROM handoffs WHERE id = ?", (handoff_id,))

    async def active_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's queued or claimed handoff, if any."""
        return await self._one(
            "SELECT * FROM handoffs WHERE conversation_id = ? AND status != 'resolved'",
            (conversation_id,),
        )

    async def latest_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's newest handoff, whatever its status."""
        return await self._one(
            "SELECT * FROM handoffs WHERE conversation_id = ? ORDER BY opened_at DESC, rowid DESC"
            " LIMIT 1",
            (conversation_id,),
        )

    async def by_thread(self, slack_channel: str, thread_ts: str) -> Handoff | None:
        """The handoff whose Slack thread this is."""
        return await self._one(
            "SELECT * FROM handoffs WHERE slack_channel = ? AND thread_ts = ?",
            (slack_channel, thread_ts),
        )

    async def update(self, handoff_id: str, **changes: Any) -> Handoff:
        """Change fields (status, slack_channel, thread_ts, agent, times, rating, detail)."""
        unknown = set(changes) - _FIELDS
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")

        def tx(conn: sqlite3.Connection) -> Handoff:
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)
                params = [_column_value(n, v) for n, v in changes.items()]
                conn.execute(
                    f"UPDATE handoffs SET {assignments} WHERE id = ?", [*params, handoff_id]
                )
            row = conn.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)).fetchone()
            if row is None:
                raise KeyError(handoff_id)
            return _row_to_handoff(row)

        return await self._db.run(tx)

    async def active(self) -> list[Handoff]:
        """Every queued or claimed handoff, oldest first."""
        return await self._many(
            "SELECT * FROM handoffs WHERE status != 'resolved' ORDER BY opened_at", ()
        )

    async def since(self, at: datetime) -> list[Handoff]:
        """Handoffs opened at or after `at`, oldest first."""
        return await self._many(
            "SELECT * FROM handoffs WHERE opened_at >= ? ORDER BY opened_at", (at.timestamp(),)
        )
