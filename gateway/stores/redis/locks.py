"""Per-customer locks across processes: a lease in Redis, renewed while held.

Why a lock and not partitioning: a customer writes on several channels (an SMS number, a web
chat visitor, a Telegram chat) and those senders are spread over different inbox shards; only the
router knows they are one customer, after resolving identity. So the router takes the customer's
lock around a turn. Inside one process waiters queue on an asyncio lock first, so only one task
per process polls Redis for a busy customer. The lease (SET NX PX) ends by itself if its process
dies, and is renewed every third of its length while held; release deletes it only if it still
holds our token. A process stalled longer than the lease can overlap with the next holder; the
steps it writes are keyed, so the overlap can reorder replies at worst, never duplicate them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from gateway.keyed_lock import KeyedLock
from gateway.stores.redis import keys
from gateway.stores.redis.codec import lua

log = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisLocks:
    """Lease locks by key, shared by every process on the same Redis."""

    def __init__(self, redis: Redis, lease_seconds: float = 30.0) -> None:
        self._r = redis
        self._lease_ms = int(lease_seconds * 1000)
        self._local = KeyedLock()
        self._release = lua(redis, _RELEASE)
        self._renew = lua(redis, _RENEW)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the key's lock, in every process, for the duration of the block."""
        async with self._local.hold(key):
            name, token = keys.lock(key), uuid.uuid4().hex
            delay = 0.005
            while not await self._r.set(name, token, nx=True, px=self._lease_ms):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.2)
            renewal = asyncio.create_task(self._keep(name, token))
            try:
                yield
            finally:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
                await self._release(keys=[name], args=[token])

    async def _keep(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                if not await self._renew(keys=[name], args=[token, self._lease_ms]):
                    log.warning("lost the lease on %s; the next holder may overlap", name)
                    return
            except Exception:
                log.exception("could not renew the lease on %s", name)
