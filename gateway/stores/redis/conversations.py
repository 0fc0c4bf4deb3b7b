"""Conversations and their lifecycle in Redis, each in its customer's home slot."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from gateway.stores.protocol import WITH_PEOPLE, Conversation
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, to_dt, ts_str

_FIELDS = {"status", "last_channel", "state", "resolved_at", "last_activity_at"}

# Open a new conversation unless another caller already replaced the open one (compare-and-set
# on the customer's open pointer), all in the customer's home slot.
_OPEN = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'customer_id', ARGV[3], 'status', 'open', 'opened_at', ARGV[4],
  'last_activity_at', ARGV[4], 'state', '{}')
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# Resolve an idle conversation only if nothing touched it since it was read.
_RESOLVE_IDLE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end
if redis.call('HGET', KEYS[1], 'last_activity_at') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'resolved', 'resolved_at', ARGV[2], 'state', ARGV[3])
return 1
"""

_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
  else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1
"""


def conversation_from(vid: str, row: dict[str, str]) -> Conversation:
    """A conversation hash as a Conversation."""
    return Conversation(
        id=vid,
        customer_id=row["customer_id"],
        status=row["status"],
        opened_at=to_dt(row["opened_at"]),
        last_activity_at=to_dt(row["last_activity_at"]),
        last_channel=row.get("last_channel") or None,
        state=json.loads(row.get("state") or "{}"),
        resolved_at=to_dt(row.get("resolved_at")),
        merged_into=row.get("merged_into") or None,
    )


class RedisConversations:
    """ConversationStore on Redis."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis
        self._open = lua(redis, _OPEN)
        self._resolve_idle = lua(redis, _RESOLVE_IDLE)
        self._update = lua(redis, _UPDATE)

    async def current(self, customer_id: str, now: datetime, idle_seconds: float) -> Conversation:
        """The open conversation, or a new one when none is open or the open one went idle."""
        ts = now.timestamp()
        while True:
            pointer = await self._r.get(keys.open_pointer(customer_id)) or ""
            if pointer:
                row = await self._r.hgetall(keys.conversation(pointer))
                if row and row["status"] == "open":
                    idle = ts - float(row["last_activity_at"]) > idle_seconds
                    if not idle or WITH_PEOPLE in json.loads(row.get("state") or "{}"):
                        return conversation_from(pointer, row)
                    state = {**json.loads(row.get("state") or "{}"), "resolution": "idle"}
                    await self._resolve_idle(
                        keys=[keys.conversation(pointer)],
                        args=[row["last_activity_at"], ts_str(ts), json.dumps(state)],
                    )
            vid = keys.new_conversation_id(keys.home_of(customer_id))
            created = await self._open(
                keys=[
                    keys.open_pointer(customer_id),
                    keys.conversation(vid),
                    keys.conversations_of(customer_id),
                ],
                args=[pointer, vid, customer_id, ts_str(ts)],
            )
            if created:
                return conversation_from(vid, await self._r.hgetall(keys.conversation(vid)))

    async def get(self, conversation_id: str) -> Conversation | None:
        """One conversation by id."""
        row = await self._r.hgetall(keys.conversation(conversation_id))
        return conversation_from(conversation_id, row) if row else None

    async def list_for(self, customer_id: str) -> list[Conversation]:
        """Every conversation of the customer, oldest first."""
        ids = await self._r.zrange(keys.conversations_of(customer_id), 0, -1)
        found = [await self.get(vid) for vid in ids]
        return [c for c in found if c is not None]

    async def update(self, conversation_id: str, **changes: Any) -> Conversation:
        """Change status, state or last_channel."""
        unknown = set(changes) - _FIELDS
        if unknown:
            raise ValueError(f"cannot update conversation fields {sorted(unknown)}")
        args: list[str] = []
        for name, value in changes.items():
            if name == "state":
                text = json.dumps(value)
            elif isinstance(value, datetime):
                text = ts_str(value.timestamp())
            elif isinstance(value, float | int) and not isinstance(value, bool):
                text = ts_str(value)
            else:
                text = "" if value is None else str(value)
            args += [name, text]
        if not await self._update(keys=[keys.conversation(conversation_id)], args=args):
            raise KeyError(conversation_id)
        found = await self.get(conversation_id)
        assert found is not None
        return found
