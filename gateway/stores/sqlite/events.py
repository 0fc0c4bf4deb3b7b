"""The analytics event log in SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from gateway.stores.protocol import AnalyticsEvent
from gateway.stores.sqlite.db import Database, to_dt


class SQLiteEvents:
    """EventLog on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, key: str, event: AnalyticsEvent) -> bool:
        """Store the event once per key; True when it is new."""
        e = event
        row = (
            key,
            e.kind,
            e.at.timestamp(),
            e.conversation_id,
            e.customer_id,
            e.channel,
            json.dumps(e.data, sort_keys=True),
        )

        def tx(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO events (key, kind, at, conversation_id, customer_id,"
                " channel, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return cursor.rowcount == 1

        return await self._db.run(tx)

    async def between(
        self, start: datetime, end: datetime, limit: int = 500_000
    ) -> list[AnalyticsEvent]:
        """Events with start <= at < end, oldest first (ties in the order they were recorded)."""

        def tx(conn: sqlite3.Connection) -> list[AnalyticsEvent]:
            rows = conn.execute(
                "SELECT * FROM events WHERE at >= ? AND at < ? ORDER BY at, seq LIMIT ?",
                (start.timestamp(), end.timestamp(), limit),
            ).fetchall()
            return [
                AnalyticsEvent(
                    kind=r["kind"],
                    at=to_dt(r["at"]),
                    conversation_id=r["conversation_id"],
                    customer_id=r["customer_id"],
                    channel=r["channel"],
                    data=json.loads(r["data"]),
                )
                for r in rows
            ]

        return await self._db.run(tx)
