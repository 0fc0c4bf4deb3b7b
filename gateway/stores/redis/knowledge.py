"""Versioned knowledge-base content in Redis (slot `{kb}`); a save is announced to every process."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, now_ts, to_dt, ts_str

# KEYS: counter, contents, history. ARGV: content, history record (without number), channel.
_SAVE = """
local number = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], number, ARGV[1])
redis.call('HSET', KEYS[3], number, ARGV[2])
redis.call('PUBLISH', ARGV[3], number)
return number
"""


class RedisKnowledge:
    """KnowledgeStore on Redis."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis
        self._save = lua(redis, _SAVE)
        self._counter = keys.KNOWLEDGE + "number"
        self._contents = keys.KNOWLEDGE + "contents"
        self._history = keys.KNOWLEDGE + "history"

    async def latest(self) -> tuple[int, dict[str, Any]] | None:
        """The newest version number and content, or None before the first import."""
        number = await self._r.get(self._counter)
        if number is None:
            return None
        content = await self.version(int(number))
        return None if content is None else (int(number), content)

    async def save(self, content: dict[str, Any], author: str, note: str) -> int:
        """Store content as a new version; returns its number."""
        record = json.dumps({"author": author, "note": note, "created_at": ts_str(now_ts())})
        return int(
            await self._save(
                keys=[self._counter, self._contents, self._history],
                args=[json.dumps(content), record, keys.KNOWLEDGE_CHANNEL],
            )
        )

    async def versions(self, limit: int = 50) -> list[dict[str, Any]]:
        """Version history: number, author, note, time; newest first."""
        top = int(await self._r.get(self._counter) or 0)
        numbers = list(range(top, max(0, top - limit), -1))
        if not numbers:
            return []
        records = await self._r.hmget(self._history, [str(n) for n in numbers])
        history = []
        for number, raw in zip(numbers, records, strict=True):
            if raw is None:
                continue
            record = json.loads(raw)
            history.append(
                {
                    "number": number,
                    "author": record["author"],
                    "note": record["note"],
                    "created_at": to_dt(record["created_at"]).isoformat(),
                }
            )
        return history

    async def version(self, number: int) -> dict[str, Any] | None:
        """The content of one version."""
        raw = await self._r.hget(self._contents, str(number))
        return None if raw is None else json.loads(raw)
