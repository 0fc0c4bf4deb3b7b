"""The durable inbox on Redis Streams: accepted once per key, processed in order per sender."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from gateway.messages import Inbound
from gateway.stores.protocol import InboxItem
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, now_ts, ts_str
from gateway.stores.redis.streams import (
    RELEASE,
    ShardClaimer,
    item_id,
    shard_of_item,
    stream_key,
)

# KEYS: idempotency key, item, sender queue, pending counter, stream.
# ARGV: id, message key, sender, payload, accepted at, key ttl seconds.
_ACCEPT = """
local known = redis.call('GET', KEYS[1])
if known then return {tonumber(known), 0} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[6])
redis.call('HSET', KEYS[2], 'key', ARGV[2], 'sender', ARGV[3], 'payload', ARGV[4],
  'status', 'pending', 'attempts', 0, 'accepted_at', ARGV[5])
if redis.call('RPUSH', KEYS[3], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[5], '*', 'w', ARGV[3])
end
redis.call('INCR', KEYS[4])
return {tonumber(ARGV[1]), 1}
"""

# KEYS: item, stream. ARGV: shard prefix, outcome (done|retry|failed), error, done ttl.
_FINISH = (
    RELEASE
    + """
local item, stream, prefix, outcome = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
if redis.call('HGET', item, 'status') ~= 'pending' then return 0 end
local who = redis.call('HGET', item, 'sender')
local id = string.match(item, 'item:(%d+)$')
release(stream, item)
if outcome == 'retry' then
  redis.call('HINCRBY', item, 'attempts', 1)
  redis.call('HSET', item, 'last_error', ARGV[3])
else
  redis.call('LREM', prefix .. 'q:' .. who, 1, id)
  redis.call('DECR', prefix .. 'pending')
  if outcome == 'done' then
    redis.call('HSET', item, 'status', 'done')
    redis.call('HDEL', item, 'payload')
    redis.call('EXPIRE', item, ARGV[4])
  else
    redis.call('HSET', item, 'status', 'failed', 'last_error', ARGV[3])
  end
end
next_turn(stream, prefix, who)
return 1
"""
)


class RedisInbox:
    """Inbox on Redis; the message key, kept for `key_ttl` seconds, makes accepting idempotent."""

    def __init__(self, redis: Redis, key_ttl: int, reclaim_idle_ms: int) -> None:
        self._r = redis
        self._key_ttl = key_ttl
        self._accept = lua(redis, _ACCEPT)
        self._claimer = ShardClaimer(redis, "in", reclaim_idle_ms)
        self._finish = lua(redis, _FINISH)

    async def accept(self, message: Inbound) -> tuple[int, bool]:
        """Store the message once per key; returns (item id, whether it is new)."""
        sender = f"{message.sender.channel}:{message.sender.address}"
        shard = keys.shard_of(sender)
        prefix = keys.work("in", shard)
        new_id = item_id(await self._r.incr(keys.id_counter("in")), shard)
        found, is_new = await self._accept(
            keys=[
                prefix + "key:" + message.key,
                prefix + f"item:{new_id}",
                prefix + "q:" + sender,
                prefix + "pending",
                stream_key("in", shard),
            ],
            args=[
                new_id,
                message.key,
                sender,
                json.dumps(message.to_dict()),
                ts_str(now_ts()),
                self._key_ttl,
            ],
        )
        return int(found), bool(is_new)

    async def claim(self, owner: str, limit: int) -> list[InboxItem]:
        """The oldest pending item of each sender not already being processed."""
        return [
            InboxItem(item, Inbound.from_dict(json.loads(row["payload"])), int(row["attempts"]))
            for item, row in await self._claimer.claim(owner, limit)
        ]

    async def _end(self, item: int, outcome: str, error: str = "") -> None:
        shard = shard_of_item(item)
        prefix = keys.work("in", shard)
        await self._finish(
            keys=[prefix + f"item:{item}", stream_key("in", shard)],
            args=[prefix, outcome, error, self._key_ttl],
        )

    async def complete(self, item_id: int, error: str | None = None) -> None:
        """Mark processed; with an error, count an attempt and leave it for a retry."""
        if error is None:
            await self._end(item_id, "done")
        else:
            await self._end(item_id, "retry", error)

    async def fail(self, item_id: int, error: str) -> None:
        """Give up on an item that keeps failing: set aside, visible, not retried."""
        await self._end(item_id, "failed", error)

    async def pending(self) -> int:
        """How many items wait to be processed."""
        pipe = self._r.pipeline(transaction=False)
        for shard in range(keys.WORK_SHARDS):
            pipe.get(keys.work("in", shard) + "pending")
        return sum(int(v or 0) for v in await pipe.execute())

    async def erase_sender(self, sender: str) -> None:
        """Drop the content of a deleted customer's waiting messages; their keys stay, so a late
        redelivery is still a duplicate."""
        prefix = keys.work("in", keys.shard_of(sender))
        queue = prefix + "q:" + sender
        for raw in await self._r.lrange(queue, 0, -1):
            await self._r.hset(prefix + f"item:{raw}", "status", "erased")
            await self._r.hdel(prefix + f"item:{raw}", "payload")
            await self._r.lrem(queue, 1, raw)
            await self._r.decr(prefix + "pending")
