"""The analytics event log in Redis: one sorted set by time, in a slot of its own.

Members are `SEQ:JSON` with a zero-padded sequence number, so events at the same time come back
in the order they were recorded (Redis orders equal scores by member). The log is read by time
across every customer, which is why it does not live in customers' slots; erasing a customer
removes their members through a per-customer index. At a scale where one slot's node is too
small for the log, shard it by day (`{ev:YYYY-MM-DD}`); every read is a time range already.
"""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio import Redis

from gateway.stores.protocol import AnalyticsEvent
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, to_dt

# KEYS: key hash, sequence, log, the customer's index. ARGV: key, at, event JSON.
_RECORD = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
local member = string.format('%016d', seq) .. ':' .. ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], member)
redis.call('ZADD', KEYS[3], ARGV[2], member)
redis.call('SADD', KEYS[4], member)
return 1
"""


def _decode(member: str) -> AnalyticsEvent:
    row = json.loads(member.split(":", 1)[1])
    return AnalyticsEvent(
        kind=row["kind"],
        at=to_dt(row["at"]),
        conversation_id=row["conversation_id"],
        customer_id=row["customer_id"],
        channel=row.get("channel"),
        data=row.get("data") or {},
    )


class RedisEvents:
    """EventLog on Redis."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis
        self._record = lua(redis, _RECORD)

    async def record(self, key: str, event: AnalyticsEvent) -> bool:
        """Store the event once per key; True when it is new."""
        body = json.dumps(
            {
                "kind": event.kind,
                "at": event.at.timestamp(),
                "conversation_id": event.conversation_id,
                "customer_id": event.customer_id,
                "channel": event.channel,
                "data": event.data,
            },
            sort_keys=True,
        )
        added = await self._record(
            keys=[
                keys.EVENT_KEYS,
                keys.EVENT_SEQ,
                keys.EVENT_LOG,
                keys.events_of(event.customer_id),
            ],
            args=[key, repr(event.at.timestamp()), body],
        )
        return bool(added)

    async def between(
        self, start: datetime, end: datetime, limit: int = 500_000
    ) -> list[AnalyticsEvent]:
        """Events with start <= at < end, oldest first (ties in the order they were recorded)."""
        members = await self._r.zrangebyscore(
            keys.EVENT_LOG, start.timestamp(), f"({end.timestamp()!r}", start=0, num=limit
        )
        return [_decode(m) for m in members]

    async def erase(self, customer_ids: list[str]) -> None:
        """Remove every event about these customers."""
        for cid in customer_ids:
            members = list(await self._r.smembers(keys.events_of(cid)))
            if members:
                await self._r.zrem(keys.EVENT_LOG, *members)
            await self._r.delete(keys.events_of(cid))
