"""The outbox on Redis Streams: in order per recipient, with retries, dead letters and receipts."""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio import Redis

from gateway.messages import Outbound
from gateway.stores.protocol import OutboxItem
from gateway.stores.receipts import RECEIPT_FINAL, RECEIPT_ORDER, receipt_rank
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, now_ts, to_dt, ts_str
from gateway.stores.redis.streams import (
    RELEASE,
    ShardClaimer,
    item_id,
    shard_of_item,
    stream_key,
)

# How many sent and dead items each shard keeps listed; older ones expire with their ttl.
LISTED_PER_SHARD = 10_000

# KEYS: delivery key, item, recipient queue, shard prefix's pending index.
# ARGV: id, recipient, payload, conversation id, now, key ttl, shard prefix.
_ENQUEUE = """
local known = redis.call('GET', KEYS[1])
if known then return tonumber(known) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[6])
redis.call('HSET', KEYS[2], 'conversation_id', ARGV[4], 'recipient', ARGV[2],
  'payload', ARGV[3], 'status', 'pending', 'attempts', 0, 'next_at', ARGV[5],
  'created_at', ARGV[5], 'provider_ids', '[]')
if redis.call('RPUSH', KEYS[3], ARGV[1]) == 1 then
  redis.call('ZADD', ARGV[7] .. 'due', ARGV[5], ARGV[2])
end
redis.call('ZADD', KEYS[4], ARGV[1], ARGV[1])
return tonumber(ARGV[1])
"""

# KEYS: item, stream. ARGV: shard prefix, outcome (sent|retry|dead), now, error or provider ids,
# next_at (retry), ttl of finished items.
_FINISH = (
    RELEASE
    + """
local item, stream, prefix, outcome = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
if redis.call('HGET', item, 'status') ~= 'pending' then return 0 end
local who = redis.call('HGET', item, 'recipient')
local id = string.match(item, 'item:(%d+)$')
release(stream, item)
redis.call('HINCRBY', item, 'attempts', 1)
redis.call('HSET', item, 'updated_at', ARGV[3])
if outcome == 'retry' then
  redis.call('HSET', item, 'next_at', ARGV[5], 'last_error', ARGV[4])
  redis.call('ZADD', prefix .. 'due', ARGV[5], who)
  return 1
end
redis.call('LREM', prefix .. 'q:' .. who, 1, id)
redis.call('ZREM', prefix .. 'st:pending', id)
if outcome == 'sent' then
  redis.call('HSET', item, 'status', 'sent', 'provider_ids', ARGV[4])
else
  redis.call('HSET', item, 'status', 'dead', 'last_error', ARGV[4])
end
local listed = prefix .. 'st:' .. outcome
redis.call('ZADD', listed, id, id)
redis.call('ZREMRANGEBYRANK', listed, 0, -(tonumber(ARGV[7]) + 1))
redis.call('EXPIRE', item, ARGV[6])
next_turn(stream, prefix, who)
return 1
"""
)

# Keep the furthest status: reports arrive out of order ("delivered" after "read").
# KEYS: item. ARGV: status, its rank, ranks of every known status as name/rank pairs, now.
_RECEIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ranks = {}
for i = 4, #ARGV, 2 do ranks[ARGV[i]] = tonumber(ARGV[i + 1]) end
local old = redis.call('HGET', KEYS[1], 'receipt')
if tonumber(ARGV[2]) > (old and ranks[old] or 0) then
  redis.call('HSET', KEYS[1], 'receipt', ARGV[1], 'updated_at', ARGV[3])
end
return 1
"""


def _outbox_item(raw_id: str | int, row: dict[str, str]) -> OutboxItem:
    return OutboxItem(
        id=int(raw_id),
        conversation_id=row["conversation_id"],
        message=Outbound.from_dict(json.loads(row["payload"])),
        attempts=int(row["attempts"]),
        status=row["status"],
        last_error=row.get("last_error") or None,
        created_at=to_dt(row["created_at"]),
        provider_ids=tuple(json.loads(row.get("provider_ids") or "[]")),
        receipt=row.get("receipt") or None,
    )


class RedisOutbox:
    """Outbox on Redis."""

    def __init__(self, redis: Redis, key_ttl: int, reclaim_idle_ms: int) -> None:
        self._r = redis
        self._key_ttl = key_ttl
        self._enqueue = lua(redis, _ENQUEUE)
        self._claimer = ShardClaimer(redis, "out", reclaim_idle_ms)
        self._finish = lua(redis, _FINISH)
        self._receipt = lua(redis, _RECEIPT)
        self._ranks: list[str] = []
        for name in (*RECEIPT_ORDER, *RECEIPT_FINAL):
            self._ranks += [name, str(receipt_rank(name))]

    async def enqueue(self, conversation_id: str, message: Outbound, key: str) -> int:
        """Queue one delivery once per key (the second step of a transcript append)."""
        recipient = f"{message.to.channel}:{message.to.address}"
        shard = keys.shard_of(recipient)
        prefix = keys.work("out", shard)
        new_id = item_id(await self._r.incr(keys.id_counter("out")), shard)
        return int(
            await self._enqueue(
                keys=[
                    prefix + "dk:" + key,
                    prefix + f"item:{new_id}",
                    prefix + "q:" + recipient,
                    prefix + "st:pending",
                ],
                args=[
                    new_id,
                    recipient,
                    json.dumps(message.to_dict()),
                    conversation_id,
                    ts_str(now_ts()),
                    self._key_ttl,
                    prefix,
                ],
            )
        )

    async def claim_due(self, owner: str, now: datetime, limit: int) -> list[OutboxItem]:
        """The oldest due item of each recipient not already being delivered."""
        claimed = await self._claimer.claim(owner, limit, due=ts_str(now.timestamp()))
        return [_outbox_item(item, row) for item, row in claimed]

    async def _end(self, item: int, outcome: str, detail: str, next_at: float = 0.0) -> int:
        shard = shard_of_item(item)
        prefix = keys.work("out", shard)
        return int(
            await self._finish(
                keys=[prefix + f"item:{item}", stream_key("out", shard)],
                args=[
                    prefix,
                    outcome,
                    ts_str(now_ts()),
                    detail,
                    ts_str(next_at),
                    self._key_ttl,
                    LISTED_PER_SHARD,
                ],
            )
        )

    async def sent(self, item_id: int, provider_ids: list[str] | None = None) -> None:
        """Handed to the provider, which knows it by these ids."""
        ids = list(provider_ids or [])
        if await self._end(item_id, "sent", json.dumps(ids)):
            for provider_id in ids:
                await self._r.set(keys.receipt(provider_id), item_id, ex=self._key_ttl, nx=True)

    async def receipt(self, provider_id: str, status: str) -> bool:
        """Record what the provider reports about a sent message; True when it was ours."""
        item = await self._r.get(keys.receipt(provider_id))
        if item is None:
            return False
        prefix = keys.work("out", shard_of_item(int(item)))
        return bool(
            await self._receipt(
                keys=[prefix + f"item:{item}"],
                args=[status, receipt_rank(status), ts_str(now_ts()), *self._ranks],
            )
        )

    async def retry_later(self, item_id: int, next_at: datetime, error: str) -> None:
        """Delivery failed; try again at next_at."""
        await self._end(item_id, "retry", error, next_at.timestamp())

    async def dead_letter(self, item_id: int, error: str) -> None:
        """Delivery keeps failing: give up, keep the item visible."""
        await self._end(item_id, "dead", error)

    async def list(self, status: str, limit: int = 100) -> list[OutboxItem]:
        """Items with a status (pending, sent, dead), newest first."""
        ids: list[int] = []
        for shard in range(keys.WORK_SHARDS):
            listed = keys.work("out", shard) + "st:" + status
            ids += [int(i) for i in await self._r.zrevrange(listed, 0, limit - 1)]
        items: list[OutboxItem] = []
        for item in sorted(ids, reverse=True)[:limit]:
            row = await self._r.hgetall(keys.work("out", shard_of_item(item)) + f"item:{item}")
            if row:
                items.append(_outbox_item(item, row))
        return items

    async def erase_conversation(self, conversation_id: str, recipients: list[str]) -> None:
        """Forget the deliveries of a deleted conversation to these recipients."""
        for recipient in recipients:
            shard = keys.shard_of(recipient)
            prefix = keys.work("out", shard)
            for status in ("pending", "sent", "dead"):
                for raw in await self._r.zrange(prefix + "st:" + status, 0, -1):
                    item = prefix + f"item:{raw}"
                    if await self._r.hget(item, "conversation_id") == conversation_id:
                        await self._r.lrem(prefix + "q:" + recipient, 1, raw)
                        await self._r.zrem(prefix + "st:" + status, raw)
                        await self._r.delete(item)
