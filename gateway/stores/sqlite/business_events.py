"""Customers' business events in SQLite."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

from gateway.stores.protocol import BusinessEvent
from gateway.stores.sqlite.customers import surviving_id
from gateway.stores.sqlite.db import Database, to_dt


def _event(row: sqlite3.Row) -> BusinessEvent:
    return BusinessEvent(
        id=row["id"],
        customer_id=row["customer_id"],
        type=row["type"],
        at=to_dt(row["at"]),
        data=json.loads(row["data"]),
        key=row["key"],
    )


class SQLiteBusinessEvents:
    """BusinessEventStore on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, event: BusinessEvent) -> tuple[BusinessEvent, bool]:
        """Store once per (customer, key), on the surviving customer; (stored event, is new)."""

        def tx(conn: sqlite3.Connection) -> tuple[BusinessEvent, bool]:
            owner = surviving_id(conn, event.customer_id) or event.customer_id
            if event.key is not None:
                found = conn.execute(
                    "SELECT * FROM business_events WHERE customer_id = ? AND key = ?",
                    (owner, event.key),
                ).fetchone()
                if found is not None:
                    return _event(found), False
            stored = dataclasses.replace(event, customer_id=owner)
            conn.execute(
                "INSERT INTO business_events (id, customer_id, type, at, data, key)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    owner,
                    stored.type,
                    stored.at.timestamp(),
                    json.dumps(stored.data),
                    stored.key,
                ),
            )
            return stored, True

        return await self._db.run(tx)

    async def recent(self, customer_id: str, limit: int = 20) -> list[BusinessEvent]:
        """Newest first; merges move events to the survivor, so this follows merges too."""

        def tx(conn: sqlite3.Connection) -> list[BusinessEvent]:
            owner = surviving_id(conn, customer_id)
            if owner is None:
                return []
            rows = conn.execute(
                "SELECT * FROM business_events WHERE customer_id = ? ORDER BY at DESC, rowid DESC"
                " LIMIT ?",
                (owner, limit),
            ).fetchall()
            return [_event(r) for r in rows]

        return await self._db.run(tx)
