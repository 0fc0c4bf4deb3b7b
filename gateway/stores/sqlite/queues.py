"""The durable inbox and outbox in SQLite, each processed in order per sender or recipient."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from gateway.messages import Inbound, Outbound
from gateway.stores.protocol import InboxItem, OutboxItem
from gateway.stores.receipts import receipt_rank
from gateway.stores.sqlite.db import Database, now_ts, to_dt


class SQLiteInbox:
    """Inbox on SQLite; the unique key is also the idempotency record of each provider message."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def accept(self, message: Inbound) -> tuple[int, bool]:
        """Store the message once per key; returns (item id, whether it is new)."""
        sender = f"{message.sender.channel}:{message.sender.address}"
        payload = json.dumps(message.to_dict())

        def tx(conn: sqlite3.Connection) -> tuple[int, bool]:
            cur = conn.execute(
                "INSERT OR IGNORE INTO inbox (key, sender, payload, accepted_at)"
                " VALUES (?, ?, ?, ?)",
                (message.key, sender, payload, now_ts()),
            )
            if cur.rowcount:
                return int(cur.lastrowid), True
            (item_id,) = conn.execute(
                "SELECT id FROM inbox WHERE key = ?", (message.key,)
            ).fetchone()
            return int(item_id), False

        # The provider is acknowledged after this commit: it must survive power loss too.
        return await self._db.run(tx, durable=True)

    async def claim(self, owner: str, limit: int) -> list[InboxItem]:
        """The oldest pending item of each sender not already being processed."""

        def tx(conn: sqlite3.Connection) -> list[InboxItem]:
            rows = conn.execute(
                "SELECT * FROM inbox AS i WHERE status = 'pending' AND owner IS NULL AND id ="
                " (SELECT MIN(id) FROM inbox WHERE status = 'pending' AND sender = i.sender)"
                " ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
            for row in rows:
                conn.execute("UPDATE inbox SET owner = ? WHERE id = ?", (owner, row["id"]))
            return [
                InboxItem(r["id"], Inbound.from_dict(json.loads(r["payload"])), r["attempts"])
                for r in rows
            ]

        return await self._db.run(tx)

    async def complete(self, item_id: int, error: str | None = None) -> None:
        """Mark processed; with an error, count an attempt and leave it for a retry."""

        def tx(conn: sqlite3.Connection) -> None:
            if error is None:
                conn.execute(
                    "UPDATE inbox SET status = 'done', owner = NULL WHERE id = ?", (item_id,)
                )
            else:
                conn.execute(
                    "UPDATE inbox SET attempts = attempts + 1, owner = NULL, last_error = ?"
                    " WHERE id = ?",
                    (error, item_id),
                )

        await self._db.run(tx)

    async def fail(self, item_id: int, error: str) -> None:
        """Give up on an item that keeps failing: set aside, visible, not retried."""

        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE inbox SET status = 'failed', owner = NULL, last_error = ? WHERE id = ?",
                (error, item_id),
            )

        await self._db.run(tx)

    async def pending(self) -> int:
        """How many items wait to be processed."""

        def tx(conn: sqlite3.Connection) -> int:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM inbox WHERE status = 'pending'"
            ).fetchone()
            return int(count)

        return await self._db.run(tx)


def _row_to_outbox(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        conversation_id=row["conversation_id"],
        message=Outbound.from_dict(json.loads(row["payload"])),
        attempts=row["attempts"],
        status=row["status"],
        last_error=row["last_error"],
        created_at=to_dt(row["created_at"]),
        provider_ids=tuple(json.loads(row["provider_ids"])),
        receipt=row["receipt"],
    )


class SQLiteOutbox:
    """Outbox on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_due(self, owner: str, now: datetime, limit: int) -> list[OutboxItem]:
        """The oldest due item of each recipient not already being delivered."""
        ts = now.timestamp()

        def tx(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows = conn.execute(
                "SELECT * FROM outbox AS o WHERE status = 'pending' AND owner IS NULL"
                " AND next_at <= ? AND id ="
                " (SELECT MIN(id) FROM outbox WHERE status = 'pending' AND recipient = o.recipient)"
                " ORDER BY id LIMIT ?",
                (ts, limit),
            ).fetchall()
            for row in rows:
                conn.execute("UPDATE outbox SET owner = ? WHERE id = ?", (owner, row["id"]))
            return [_row_to_outbox(r) for r in rows]

        return await self._db.run(tx)

    async def _set(self, sql: str, params: tuple) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(sql, params)

        await self._db.run(tx)

    async def sent(self, item_id: int, provider_ids: list[str] | None = None) -> None:
        """Handed to the provider, which knows it by these ids."""
        ids = list(provider_ids or [])

        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE outbox SET status = 'sent', owner = NULL, attempts = attempts + 1,"
                " updated_at = ?, provider_ids = ? WHERE id = ?",
                (now_ts(), json.dumps(ids), item_id),
            )
            for provider_id in ids:
                conn.execute(
                    "INSERT OR IGNORE INTO receipts (provider_id, outbox_id) VALUES (?, ?)",
                    (provider_id, item_id),
                )

        await self._db.run(tx)

    async def receipt(self, provider_id: str, status: str) -> bool:
        """Record what the provider reports about a sent message; True when it was ours."""

        def tx(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT o.id, o.receipt FROM receipts r JOIN outbox o ON o.id = r.outbox_id"
                " WHERE r.provider_id = ?",
                (provider_id,),
            ).fetchone()
            if row is None:
                return False
            # Reports arrive out of order ("delivered" after "read"): keep the furthest.
            if receipt_rank(status) > receipt_rank(row["receipt"]):
                conn.execute(
                    "UPDATE outbox SET receipt = ?, updated_at = ? WHERE id = ?",
                    (status, now_ts(), row["id"]),
                )
            return True

        return await self._db.run(tx)

    async def retry_later(self, item_id: int, next_at: datetime, error: str) -> None:
        """Delivery failed; try again at next_at."""
        await self._set(
            "UPDATE outbox SET owner = NULL, attempts = attempts + 1, next_at = ?,"
            " last_error = ?, updated_at = ? WHERE id = ?",
            (next_at.timestamp(), error, now_ts(), item_id),
        )

    async def dead_letter(self, item_id: int, error: str) -> None:
        """Delivery keeps failing: give up, keep the item visible."""
        await self._set(
            "UPDATE outbox SET status = 'dead', owner = NULL, attempts = attempts + 1,"
            " last_error = ?, updated_at = ? WHERE id = ?",
            (error, now_ts(), item_id),
        )

    async def list(self, status: str, limit: int = 100) -> list[OutboxItem]:
        """Items with a status (pending, sent, dead), newest first."""

        def tx(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?", (status, limit)
            ).fetchall()
            return [_row_to_outbox(r) for r in rows]

        return await self._db.run(tx)
