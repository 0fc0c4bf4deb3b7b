"""Customers' business events in Redis: a list per customer, in the customer's home slot.

Merges leave each customer's events where they are; reading follows the surviving customer and
the customers merged into it, as erasure does.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from gateway.stores.protocol import BusinessEvent
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua, to_dt

if TYPE_CHECKING:
    from gateway.stores.redis.customers import RedisCustomers

# KEYS: events list, keys hash. ARGV: event JSON, sender's key ('' for none).
# Returns the JSON already stored under that key, or nil when this one was added.
_RECORD = """
if ARGV[2] ~= '' then
  local had = redis.call('HGET', KEYS[2], ARGV[2])
  if had then return had end
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
end
redis.call('RPUSH', KEYS[1], ARGV[1])
return false
"""


def _encode(event: BusinessEvent) -> str:
    return json.dumps(
        {
            "id": event.id,
            "customer_id": event.customer_id,
            "type": event.type,
            "at": event.at.timestamp(),
            "data": event.data,
            "key": event.key,
            "recorded": time.time_ns(),
        }
    )


def _decode(raw: str) -> tuple[BusinessEvent, int]:
    row = json.loads(raw)
    event = BusinessEvent(
        id=row["id"],
        customer_id=row["customer_id"],
        type=row["type"],
        at=to_dt(row["at"]),
        data=row.get("data") or {},
        key=row.get("key"),
    )
    return event, int(row.get("recorded", 0))


class RedisBusinessEvents:
    """BusinessEventStore on Redis."""

    def __init__(self, redis: Redis, customers: RedisCustomers) -> None:
        self._r = redis
        self._customers = customers
        self._record = lua(redis, _RECORD)

    async def _family(self, customer_id: str) -> list[str]:
        owner = await self._customers.surviving_id(customer_id)
        if owner is None:
            return []
        return [owner, *sorted(await self._r.smembers(keys.absorbed(owner)))]

    async def record(self, event: BusinessEvent) -> tuple[BusinessEvent, bool]:
        """Store once per (customer, key), on the surviving customer; (stored event, is new)."""
        family = await self._family(event.customer_id) or [event.customer_id]
        owner = family[0]
        if event.key is not None:
            for cid in family[1:]:  # a key used before a merge, kept by the absorbed customer
                had = await self._r.hget(keys.business_event_keys(cid), event.key)
                if had:
                    return _decode(had)[0], False
        stored = dataclasses.replace(event, customer_id=owner)
        had = await self._record(
            keys=[keys.business_events(owner), keys.business_event_keys(owner)],
            args=[_encode(stored), event.key or ""],
        )
        if had:
            return _decode(had)[0], False
        return stored, True

    async def recent(self, customer_id: str, limit: int = 20) -> list[BusinessEvent]:
        """The customer's events, newest first (ties: last recorded first), merged ones included."""
        family = await self._family(customer_id)
        found: list[tuple[BusinessEvent, int]] = []
        for cid in family:
            raws = await self._r.lrange(keys.business_events(cid), 0, -1)
            found += [_decode(raw) for raw in raws]
        found.sort(key=lambda pair: (pair[0].at, pair[1]), reverse=True)
        # Merged customers' events now belong to the survivor, as in every other store.
        return [dataclasses.replace(e, customer_id=family[0]) for e, _ in found[:limit]]

    async def erase(self, customer_ids: list[str]) -> None:
        """Forget the events of these customers (each in its own slot)."""
        for cid in customer_ids:
            await self._r.delete(keys.business_events(cid), keys.business_event_keys(cid))
