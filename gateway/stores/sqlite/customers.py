"""Customers and identities in SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from gateway.messages import Address
from gateway.stores.protocol import Customer, Identity
from gateway.stores.sqlite.conversations import merge_open_conversations
from gateway.stores.sqlite.db import Database, new_id, now_ts, to_dt


def surviving_id(conn: sqlite3.Connection, customer_id: str) -> str | None:
    """Follow merged_into links to the record that absorbed this one."""
    seen = set()
    current = customer_id
    while current not in seen:
        seen.add(current)
        row = conn.execute("SELECT merged_into FROM customers WHERE id = ?", (current,)).fetchone()
        if row is None:
            return None
        if row["merged_into"] is None:
            return current
        current = row["merged_into"]
    return None


class SQLiteCustomers:
    """CustomerStore on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def resolve(self, address: Address, verified_by: str | None, name: str | None) -> str:
        """The customer id owning this identity, creating customer and identity if new."""

        def tx(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT customer_id, verified_by FROM identities WHERE channel = ? AND address = ?",
                (address.channel, address.address),
            ).fetchone()
            if row is not None:
                if verified_by and not row["verified_by"]:
                    conn.execute(
                        "UPDATE identities SET verified_by = ? WHERE channel = ? AND address = ?",
                        (verified_by, address.channel, address.address),
                    )
                if name:
                    conn.execute(
                        "UPDATE customers SET name = ? WHERE id = ? AND name IS NULL",
                        (name, row["customer_id"]),
                    )
                return row["customer_id"]
            customer_id = new_id("cus")
            ts = now_ts()
            conn.execute(
                "INSERT INTO customers (id, name, created_at) VALUES (?, ?, ?)",
                (customer_id, name, ts),
            )
            conn.execute(
                "INSERT INTO identities (channel, address, customer_id, verified_by, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (address.channel, address.address, customer_id, verified_by, ts),
            )
            return customer_id

        return await self._db.run(tx)

    async def link(self, customer_id: str, identity: Identity) -> str | None:
        """Attach an identity; returns the customer that already owns it, if another does."""

        def tx(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT customer_id FROM identities WHERE channel = ? AND address = ?",
                (identity.channel, identity.address),
            ).fetchone()
            if row is not None:
                return None if row["customer_id"] == customer_id else row["customer_id"]
            conn.execute(
                "INSERT INTO identities (channel, address, customer_id, verified_by, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (identity.channel, identity.address, customer_id, identity.verified_by, now_ts()),
            )
            return None

        return await self._db.run(tx)

    async def merge(self, survivor_id: str, absorbed_id: str, at: datetime) -> None:
        """Fold one customer into another: identities, conversations, transcripts in time order."""

        def tx(conn: sqlite3.Connection) -> None:
            survivor = surviving_id(conn, survivor_id)
            absorbed = surviving_id(conn, absorbed_id)
            if survivor is None or absorbed is None or survivor == absorbed:
                return
            conn.execute(
                "UPDATE identities SET customer_id = ? WHERE customer_id = ?", (survivor, absorbed)
            )
            for table in ("conversations", "handoffs", "business_events"):
                conn.execute(
                    f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?",
                    (survivor, absorbed),
                )
            names = conn.execute(
                "SELECT id, name, attributes FROM customers WHERE id IN (?, ?)",
                (survivor, absorbed),
            ).fetchall()
            by_id = {r["id"]: r for r in names}
            attributes = {
                **json.loads(by_id[absorbed]["attributes"]),
                **json.loads(by_id[survivor]["attributes"]),
            }
            conn.execute(
                "UPDATE customers SET name = COALESCE(name, ?), attributes = ? WHERE id = ?",
                (by_id[absorbed]["name"], json.dumps(attributes), survivor),
            )
            conn.execute("UPDATE customers SET merged_into = ? WHERE id = ?", (survivor, absorbed))
            merge_open_conversations(conn, survivor, at.timestamp())

        await self._db.run(tx)

    async def update_attributes(self, customer_id: str, changes: dict[str, Any]) -> Customer | None:
        """Set attributes (a None value removes one), following merges; None if no customer."""

        def tx(conn: sqlite3.Connection) -> str | None:
            survivor = surviving_id(conn, customer_id)
            if survivor is None:
                return None
            (raw,) = conn.execute(
                "SELECT attributes FROM customers WHERE id = ?", (survivor,)
            ).fetchone()
            attributes = {**json.loads(raw), **changes}
            attributes = {k: v for k, v in attributes.items() if v is not None}
            conn.execute(
                "UPDATE customers SET attributes = ? WHERE id = ?",
                (json.dumps(attributes), survivor),
            )
            return survivor

        survivor = await self._db.run(tx)
        return None if survivor is None else await self.get(survivor)

    async def get(self, customer_id: str) -> Customer | None:
        """The customer, following merges to the surviving record."""

        def tx(conn: sqlite3.Connection) -> Customer | None:
            cid = surviving_id(conn, customer_id)
            if cid is None:
                return None
            row = conn.execute("SELECT * FROM customers WHERE id = ?", (cid,)).fetchone()
            identities = conn.execute(
                "SELECT channel, address, verified_by FROM identities WHERE customer_id = ?"
                " ORDER BY created_at, channel",
                (cid,),
            ).fetchall()
            return Customer(
                id=cid,
                name=row["name"],
                created_at=to_dt(row["created_at"]),
                identities=tuple(
                    Identity(i["channel"], i["address"], i["verified_by"]) for i in identities
                ),
                attributes=json.loads(row["attributes"]),
            )

        return await self._db.run(tx)

    async def delete(self, customer_id: str) -> bool:
        """Erase the customer and everything stored about them."""

        def tx(conn: sqlite3.Connection) -> bool:
            cid = surviving_id(conn, customer_id)
            if cid is None:
                return False
            ids = [cid] + [
                r["id"]
                for r in conn.execute("SELECT id FROM customers WHERE merged_into = ?", (cid,))
            ]
            marks = ",".join("?" * len(ids))
            senders = [
                f"{r['channel']}:{r['address']}"
                for r in conn.execute(
                    f"SELECT channel, address FROM identities WHERE customer_id IN ({marks})", ids
                )
            ]
            convs = [
                r["id"]
                for r in conn.execute(
                    f"SELECT id FROM conversations WHERE customer_id IN ({marks})", ids
                )
            ]
            for conv in convs:
                conn.execute("DELETE FROM entries WHERE conversation_id = ?", (conv,))
                conn.execute("DELETE FROM outbox WHERE conversation_id = ?", (conv,))
                conn.execute("DELETE FROM questions WHERE conversation_id = ?", (conv,))
                conn.execute("DELETE FROM handoffs WHERE conversation_id = ?", (conv,))
            for sender in senders:
                # Keep the key so a late redelivery stays a duplicate, drop the content.
                conn.execute(
                    "UPDATE inbox SET payload = '{}', status = 'erased' WHERE sender = ?",
                    (sender,),
                )
            conn.execute(f"DELETE FROM business_events WHERE customer_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM events WHERE customer_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM conversations WHERE customer_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM identities WHERE customer_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM customers WHERE id IN ({marks})", ids)
            return True

        return await self._db.run(tx)
