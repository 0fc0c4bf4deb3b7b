"""Handoffs to human agents in Redis, all in one hash slot (`{hof}`): there are few of them
(one per conversation that reached a person), and keeping them together lets `open` check
"one unresolved per conversation" and insert in one script."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from gateway.stores.protocol import Handoff
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, to_dt, ts_str

_TIMES = ("opened_at", "claimed_at", "first_response_at", "resolved_at", "reminded_at")
_FIELDS = {
    "reason", "queue", "status", "priority", "slack_channel", "thread_ts", "agent_id",
    "agent_name", "rating", "detail", "conversation_id", *_TIMES,
}  # fmt: skip

# Index upkeep shared by open and update. P is the slot's key prefix.
_INDEX = """
local P = ARGV[1]
local function reindex(id, before)
  local h = P .. 'h:' .. id
  local conv = redis.call('HGET', h, 'conversation_id')
  local status = redis.call('HGET', h, 'status')
  if before and before ~= conv then
    redis.call('LREM', P .. 'conv:' .. before, 1, id)
    redis.call('RPUSH', P .. 'conv:' .. conv, id)
    if redis.call('GET', P .. 'active:' .. before) == id then
      redis.call('DEL', P .. 'active:' .. before)
    end
  end
  if status == 'resolved' then
    if redis.call('GET', P .. 'active:' .. conv) == id then
      redis.call('DEL', P .. 'active:' .. conv)
    end
    redis.call('ZREM', P .. 'active', id)
  else
    redis.call('SET', P .. 'active:' .. conv, id)
  end
  local channel = redis.call('HGET', h, 'slack_channel')
  local ts = redis.call('HGET', h, 'thread_ts')
  if channel and ts then redis.call('SET', P .. 'thread:' .. channel .. ':' .. ts, id) end
end
"""

# ARGV: prefix, id, conversation id, customer id, opened_at, then field/value pairs.
_OPEN = (
    _INDEX
    + """
local existing = redis.call('GET', P .. 'active:' .. ARGV[3])
if existing then
  local status = redis.call('HGET', P .. 'h:' .. existing, 'status')
  if status and status ~= 'resolved' then return existing end
end
local h = P .. 'h:' .. ARGV[2]
for i = 6, #ARGV, 2 do redis.call('HSET', h, ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', P .. 'conv:' .. ARGV[3], ARGV[2])
redis.call('ZADD', P .. 'opened', ARGV[5], ARGV[2])
redis.call('ZADD', P .. 'active', ARGV[5], ARGV[2])
redis.call('SADD', P .. 'cus:' .. ARGV[4], ARGV[2])
reindex(ARGV[2], nil)
return ''
"""
)

# ARGV: prefix, id, then field/value pairs ('' deletes the field).
_UPDATE = (
    _INDEX
    + """
local h = P .. 'h:' .. ARGV[2]
if redis.call('EXISTS', h) == 0 then return 0 end
local before = redis.call('HGET', h, 'conversation_id')
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', h, ARGV[i])
  else redis.call('HSET', h, ARGV[i], ARGV[i + 1]) end
end
reindex(ARGV[2], before)
return 1
"""
)


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in _TIMES:
        return ts_str(value.timestamp())
    if name == "detail":
        return json.dumps(value)
    return str(value)


def _handoff_from(row: dict[str, str]) -> Handoff:
    values: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
    for name in _TIMES:
        values[name] = to_dt(values.get(name))
    values["detail"] = json.loads(row.get("detail") or "{}")
    if values.get("rating") is not None:
        values["rating"] = int(values["rating"])
    return Handoff(**values)


class RedisHandoffs:
    """HandoffStore on Redis."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis
        self._p = keys.HANDOFFS
        self._open = lua(redis, _OPEN)
        self._update = lua(redis, _UPDATE)

    def _pairs(self, changes: dict[str, Any]) -> list[str]:
        pairs: list[str] = []
        for name, value in changes.items():
            pairs += [name, _text(name, value)]
        return pairs

    async def open(self, handoff: Handoff) -> tuple[Handoff, bool]:
        """Store a new handoff unless the conversation has an unresolved one."""
        values = {name: getattr(handoff, name) for name in _FIELDS}
        values = {k: v for k, v in values.items() if v is not None}
        values["id"] = handoff.id
        values["customer_id"] = handoff.customer_id
        existing = await self._open(
            keys=[self._p + "h:" + handoff.id],
            args=[
                self._p,
                handoff.id,
                handoff.conversation_id,
                handoff.customer_id,
                ts_str(handoff.opened_at.timestamp()),
                *self._pairs(values),
            ],
        )
        if existing:
            found = await self.get(existing)
            assert found is not None
            return found, False
        return handoff, True

    async def get(self, handoff_id: str) -> Handoff | None:
        """One handoff by id."""
        row = await self._r.hgetall(self._p + "h:" + handoff_id)
        return _handoff_from(row) if row else None

    async def _pointed(self, index: str) -> Handoff | None:
        handoff_id = await self._r.get(self._p + index)
        return None if handoff_id is None else await self.get(handoff_id)

    async def active_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's queued or claimed handoff, if any."""
        found = await self._pointed("active:" + conversation_id)
        return found if found is not None and found.status != "resolved" else None

    async def latest_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's newest handoff, whatever its status."""
        ids = await self._r.lrange(self._p + "conv:" + conversation_id, 0, -1)
        found = [h for h in [await self.get(i) for i in ids] if h is not None]
        if not found:
            return None
        # Newest opened; among equals the one stored last.
        return max(enumerate(found), key=lambda p: (p[1].opened_at, p[0]))[1]

    async def by_thread(self, slack_channel: str, thread_ts: str) -> Handoff | None:
        """The handoff whose Slack thread this is."""
        return await self._pointed(f"thread:{slack_channel}:{thread_ts}")

    async def update(self, handoff_id: str, **changes: Any) -> Handoff:
        """Change fields (status, slack_channel, thread_ts, agent, times, rating, detail)."""
        unknown = set(changes) - _FIELDS
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")
        if not await self._update(
            keys=[self._p + "h:" + handoff_id], args=[self._p, handoff_id, *self._pairs(changes)]
        ):
            raise KeyError(handoff_id)
        found = await self.get(handoff_id)
        assert found is not None
        return found

    async def _ordered(self, index: str, low: float | str) -> list[Handoff]:
        ids = await self._r.zrangebyscore(self._p + index, low, "+inf")
        return [h for h in [await self.get(i) for i in ids] if h is not None]

    async def active(self) -> list[Handoff]:
        """Every queued or claimed handoff, oldest first."""
        return await self._ordered("active", "-inf")

    async def since(self, at: datetime) -> list[Handoff]:
        """Handoffs opened at or after `at`, oldest first."""
        return await self._ordered("opened", at.timestamp())

    async def reassign_customer(self, old: str, new: str) -> None:
        """A merge: the absorbed customer's handoffs belong to the survivor."""
        for handoff_id in await self._r.smembers(self._p + "cus:" + old):
            await self._r.hset(self._p + "h:" + handoff_id, "customer_id", new)
            await self._r.sadd(self._p + "cus:" + new, handoff_id)
        await self._r.delete(self._p + "cus:" + old)

    async def move_conversations(self, old_ids: list[str], new_id: str) -> None:
        """A handoff follows its conversation into a merge, so the agent's thread keeps working."""
        for old in old_ids:
            for handoff_id in await self._r.lrange(self._p + "conv:" + old, 0, -1):
                await self.update(handoff_id, conversation_id=new_id)

    async def erase_conversation(self, conversation_id: str) -> None:
        """Forget every handoff of a deleted conversation."""
        for handoff_id in await self._r.lrange(self._p + "conv:" + conversation_id, 0, -1):
            found = await self.get(handoff_id)
            if found is not None and found.slack_channel and found.thread_ts:
                await self._r.delete(self._p + f"thread:{found.slack_channel}:{found.thread_ts}")
            await self._r.zrem(self._p + "active", handoff_id)
            await self._r.zrem(self._p + "opened", handoff_id)
            await self._r.srem(self._p + "cus:" + (found.customer_id if found else ""), handoff_id)
            await self._r.delete(self._p + "h:" + handoff_id)
        await self._r.delete(
            self._p + "conv:" + conversation_id, self._p + "active:" + conversation_id
        )
