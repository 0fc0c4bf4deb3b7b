"""The question log in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.stores.protocol import AskedQuestion
from gateway.stores.sqlite.db import Database, to_dt


class SQLiteQuestions:
    """QuestionLog on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, key: str, question: AskedQuestion) -> None:
        """Log once per key."""
        q = question

        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO questions (key, conversation_id, channel, text, decision,"
                " article_id, intent, score, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    q.conversation_id,
                    q.channel,
                    q.text,
                    q.decision,
                    q.article_id,
                    q.intent,
                    q.score,
                    q.at.timestamp(),
                ),
            )

        await self._db.run(tx)

    async def since(self, at: datetime, limit: int = 10_000) -> list[AskedQuestion]:
        """Questions asked at or after `at`, oldest first."""

        def tx(conn: sqlite3.Connection) -> list[AskedQuestion]:
            rows = conn.execute(
                "SELECT * FROM questions WHERE at >= ? ORDER BY at, key LIMIT ?",
                (at.timestamp(), limit),
            ).fetchall()
            return [
                AskedQuestion(
                    conversation_id=r["conversation_id"],
                    channel=r["channel"],
                    text=r["text"],
                    decision=r["decision"],
                    at=to_dt(r["at"]),
                    article_id=r["article_id"],
                    intent=r["intent"],
                    score=r["score"],
                )
                for r in rows
            ]

        return await self._db.run(tx)
