"""The question log in Redis (slot `{q}`): one record per key, a time index for reports."""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio import Redis

from gateway.stores.protocol import AskedQuestion
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, to_dt, ts_str

# KEYS: records, time index, the conversation's keys. ARGV: key, record, time.
_RECORD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""


class RedisQuestions:
    """QuestionLog on Redis."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis
        self._record = lua(redis, _RECORD)
        self._records = keys.QUESTIONS + "records"
        self._at = keys.QUESTIONS + "at"

    async def record(self, key: str, question: AskedQuestion) -> None:
        """Log once per key."""
        q = question
        record = {
            "conversation_id": q.conversation_id,
            "channel": q.channel,
            "text": q.text,
            "decision": q.decision,
            "at": ts_str(q.at.timestamp()),
            "article_id": q.article_id,
            "intent": q.intent,
            "score": q.score,
        }
        await self._record(
            keys=[self._records, self._at, keys.QUESTIONS + "conv:" + q.conversation_id],
            args=[key, json.dumps(record), ts_str(q.at.timestamp())],
        )

    async def since(self, at: datetime, limit: int = 10_000) -> list[AskedQuestion]:
        """Questions asked at or after `at`, oldest first (ties by key)."""
        found = await self._r.zrangebyscore(self._at, at.timestamp(), "+inf", start=0, num=limit)
        if not found:
            return []
        questions = []
        for raw in await self._r.hmget(self._records, found):
            if raw is None:
                continue
            r = json.loads(raw)
            questions.append(
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
            )
        return questions

    async def erase_conversation(self, conversation_id: str) -> None:
        """Forget what was asked in a deleted conversation."""
        index = keys.QUESTIONS + "conv:" + conversation_id
        asked = list(await self._r.smembers(index))
        if asked:
            await self._r.hdel(self._records, *asked)
            await self._r.zrem(self._at, *asked)
        await self._r.delete(index)
