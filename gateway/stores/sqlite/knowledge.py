"""Versioned knowledge-base content in SQLite: every save is a whole new version."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gateway.stores.sqlite.db import Database, now_ts, to_dt


class SQLiteKnowledge:
    """KnowledgeStore on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def latest(self) -> tuple[int, dict[str, Any]] | None:
        """The newest version number and content, or None before the first import."""

        def tx(conn: sqlite3.Connection) -> tuple[int, dict[str, Any]] | None:
            row = conn.execute(
                "SELECT number, content FROM kb_versions ORDER BY number DESC LIMIT 1"
            ).fetchone()
            return None if row is None else (row["number"], json.loads(row["content"]))

        return await self._db.run(tx)

    async def save(self, content: dict[str, Any], author: str, note: str) -> int:
        """Store content as a new version; returns its number."""

        def tx(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO kb_versions (content, author, note, created_at) VALUES (?, ?, ?, ?)",
                (json.dumps(content), author, note, now_ts()),
            )
            return int(cur.lastrowid)

        return await self._db.run(tx)

    async def versions(self, limit: int = 50) -> list[dict[str, Any]]:
        """Version history: number, author, note, time; newest first."""

        def tx(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT number, author, note, created_at FROM kb_versions"
                " ORDER BY number DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                {
                    "number": r["number"],
                    "author": r["author"],
                    "note": r["note"],
                    "created_at": to_dt(r["created_at"]).isoformat(),
                }
                for r in rows
            ]

        return await self._db.run(tx)

    async def version(self, number: int) -> dict[str, Any] | None:
        """The content of one version."""

        def tx(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT content FROM kb_versions WHERE number = ?", (number,)
            ).fetchone()
            return None if row is None else json.loads(row["content"])

        return await self._db.run(tx)
