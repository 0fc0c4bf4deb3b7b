"""Work shards on Redis Streams: one token per sender in a stream, read by a consumer group.

Each shard holds, in one hash slot, a stream and one list of pending item ids per sender (or
recipient). A sender with pending items has exactly one token in the stream. Reading a token
(XREADGROUP) claims the head item of that sender's list, so one sender's items are processed one
at a time and in order, by whichever process read the token. Finishing the head acknowledges and
deletes the token and adds a fresh one when more items wait. A token left in the pending list of
a process that died is taken over by another process after the idle time (XAUTOCLAIM), which
then processes that head item again; every step the pipeline takes is keyed, so redoing it
writes nothing twice.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua

# Reclaim tokens idle too long, then read new ones; answer the head item of each token's queue.
# KEYS[1] = the shard's stream; ARGV: consumer, limit, min idle ms ('' = not this time), shard
# key prefix, due time.
# In outbox shards, recipients whose head came due are first given a token (ARGV[5] ~= '').
CLAIM = """
local stream, consumer, limit, prefix = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[4]
if ARGV[5] ~= '' then
  local due = redis.call('ZRANGEBYSCORE', prefix .. 'due', '-inf', ARGV[5])
  for _, who in ipairs(due) do
    redis.call('ZREM', prefix .. 'due', who)
    redis.call('XADD', stream, '*', 'w', who)
  end
end
local tokens = {}
if ARGV[3] ~= '' then
  -- Every process start is a new consumer: forget those idle a day with nothing pending.
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, 'workers')) do
    local info = {}
    for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
    if info['pending'] == 0 and info['idle'] > 86400000 then
      redis.call('XGROUP', 'DELCONSUMER', stream, 'workers', info['name'])
    end
  end
  local reclaimed = redis.call('XAUTOCLAIM', stream, 'workers', consumer, ARGV[3], '0-0',
    'COUNT', limit)
  for _, t in ipairs(reclaimed[2]) do
    if t and t[2] then table.insert(tokens, t) end
  end
end
if #tokens < limit then
  local fresh = redis.call('XREADGROUP', 'GROUP', 'workers', consumer,
    'COUNT', limit - #tokens, 'STREAMS', stream, '>')
  if fresh then
    for _, t in ipairs(fresh[1][2]) do table.insert(tokens, t) end
  end
end
local out = {}
for _, t in ipairs(tokens) do
  local who = t[2][2]
  local head = redis.call('LINDEX', prefix .. 'q:' .. who, 0)
  if head then
    local item = prefix .. 'item:' .. head
    redis.call('HSET', item, 'token', t[1], 'owner', consumer)
    table.insert(out, head)
    table.insert(out, redis.call('HGETALL', item))
  else
    redis.call('XACK', stream, 'workers', t[1])
    redis.call('XDEL', stream, t[1])
  end
end
return out
"""

# Lua helpers shared by the scripts that finish a head item: drop its token, and hand the
# sender's next item a token (inbox) or a due time (outbox).
RELEASE = """
local function release(stream, item)
  local token = redis.call('HGET', item, 'token')
  if token and token ~= '' then
    redis.call('XACK', stream, 'workers', token)
    redis.call('XDEL', stream, token)
    redis.call('HSET', item, 'token', '', 'owner', '')
  end
end
local function next_turn(stream, prefix, who)
  local head = redis.call('LINDEX', prefix .. 'q:' .. who, 0)
  if not head then return end
  local next_at = redis.call('HGET', prefix .. 'item:' .. head, 'next_at')
  if next_at then
    redis.call('ZADD', prefix .. 'due', next_at, who)
  else
    redis.call('XADD', stream, '*', 'w', who)
  end
end
"""


# Hand back a head item claimed beyond the caller's limit: its sender gets a fresh token.
# KEYS: item, stream. ARGV: shard prefix, who.
UNCLAIM = (
    RELEASE
    + """
release(KEYS[2], KEYS[1])
next_turn(KEYS[2], ARGV[1], ARGV[2])
return 1
"""
)


def stream_key(kind: str, shard: int) -> str:
    """The token stream of one work shard."""
    return keys.work(kind, shard) + "stream"


async def ensure_groups(redis: Redis, kind: str) -> None:
    """Create the consumer group of every shard (reading tokens added before it existed)."""
    for shard in range(keys.WORK_SHARDS):
        try:
            await redis.xgroup_create(stream_key(kind, shard), keys.GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def item_id(counter: int, shard: int) -> int:
    """An item id that orders by arrival and names its shard."""
    return counter * keys.WORK_SHARDS + shard


def shard_of_item(item: int) -> int:
    """The shard an item id lives in."""
    return item % keys.WORK_SHARDS


class ShardClaimer:
    """Claims from every shard of one kind in a single round trip (a pipeline of one script per
    shard), then hands back whatever exceeds the limit."""

    def __init__(self, redis: Redis, kind: str, reclaim_idle_ms: int) -> None:
        self._r = redis
        self._kind = kind
        self._idle_ms = reclaim_idle_ms
        self._reclaimed_at = 0.0
        self._claim: AsyncScript = lua(redis, CLAIM)
        self._unclaim: AsyncScript = lua(redis, UNCLAIM)

    async def claim(
        self, owner: str, limit: int, due: str = ""
    ) -> list[tuple[int, dict[str, str]]]:
        """Up to `limit` head items, oldest first, as (id, fields)."""
        try:
            found = await self._all(owner, limit, due)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await ensure_groups(self._r, self._kind)  # Redis lost its data (flushed, no AOF)
            found = await self._all(owner, limit, due)
        found.sort(key=lambda pair: pair[0])
        for item, fields in found[limit:]:
            prefix = keys.work(self._kind, shard_of_item(item))
            who = fields.get("sender") or fields["recipient"]
            await self._unclaim(
                keys=[prefix + f"item:{item}", stream_key(self._kind, shard_of_item(item))],
                args=[prefix, who],
            )
        return found[:limit]

    async def _all(self, owner: str, limit: int, due: str) -> list[tuple[int, dict[str, str]]]:
        per_shard = -(-limit // keys.WORK_SHARDS)
        # Looking for abandoned work on every claim would cost a scan of each shard's pending
        # list; a few times per idle period is enough to take it over soon after it qualifies.
        now = time.monotonic()
        idle: int | str = ""
        if now - self._reclaimed_at >= self._idle_ms / 4000:
            self._reclaimed_at, idle = now, self._idle_ms
        calls = [
            (
                [stream_key(self._kind, shard)],
                [owner, per_shard, idle, keys.work(self._kind, shard), due],
            )
            for shard in range(keys.WORK_SHARDS)
        ]
        if isinstance(self._r, RedisCluster):
            # A cluster pipeline cannot carry scripts; the shards' nodes answer concurrently.
            replies = await asyncio.gather(*(self._claim(keys=k, args=a) for k, a in calls))
        else:
            pipe = self._r.pipeline(transaction=False)
            for k, a in calls:
                await self._claim(keys=k, args=a, client=pipe)
            replies = await pipe.execute()
        found: list[tuple[int, dict[str, str]]] = []
        for reply in replies:
            for raw_id, fields in zip(reply[::2], reply[1::2], strict=True):
                found.append((int(raw_id), dict(zip(fields[::2], fields[1::2], strict=True))))
        return found
