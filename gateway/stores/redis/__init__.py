"""The shared store: Redis (a single server or a Cluster), for many gateway processes.

Keys and hash slots are described in `keys.py`; durable work in `streams.py`; what is atomic and
what is a sequence of idempotent steps in docs/redis.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from gateway.stores.redis.business_events import RedisBusinessEvents
from gateway.stores.redis.conversations import RedisConversations
from gateway.stores.redis.customers import RedisCustomers
from gateway.stores.redis.events import RedisEvents
from gateway.stores.redis.handoffs import RedisHandoffs
from gateway.stores.redis.inbox import RedisInbox
from gateway.stores.redis.knowledge import RedisKnowledge
from gateway.stores.redis.locks import RedisLocks
from gateway.stores.redis.outbox import RedisOutbox
from gateway.stores.redis.questions import RedisQuestions
from gateway.stores.redis.streams import ensure_groups
from gateway.stores.redis.transcript import RedisTranscript

log = logging.getLogger(__name__)

# How long idempotency keys (provider message keys, step keys, receipts) and finished work are
# kept: far longer than any provider retries a webhook or a crashed step is replayed.
KEY_TTL_SECONDS = 7 * 24 * 3600


def connect(url: str) -> Redis:
    """A client that retries a lost connection with exponential backoff before giving up.

    `redis://HOST:PORT/0?cluster=yes` connects to a Redis Cluster through any of its nodes.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    cluster = query.pop("cluster", "no").lower() in {"yes", "true", "1"}
    plain_url = urlunsplit(parts._replace(query=urlencode(query)))
    options = {
        "decode_responses": True,
        "retry": Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=6),
        "socket_connect_timeout": 2.0,
        "socket_timeout": 10.0,
    }
    if cluster:
        # The cluster client follows MOVED/ASK and sends each command to the node of its slot.
        return RedisCluster.from_url(plain_url, **options)  # type: ignore[return-value]
    return Redis.from_url(
        plain_url,
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=15,
        **options,
    )


class RedisStore:
    """Store on Redis."""

    def __init__(
        self,
        url: str,
        reclaim_idle_seconds: float = 30.0,
        key_ttl: int = KEY_TTL_SECONDS,
        lock_lease_seconds: float | None = None,
    ) -> None:
        self.redis = connect(url)
        self.key_ttl = key_ttl
        reclaim_ms = int(reclaim_idle_seconds * 1000)
        self.customers = RedisCustomers(self.redis, self)
        self.conversations = RedisConversations(self.redis)
        self.inbox = RedisInbox(self.redis, key_ttl, reclaim_ms)
        self.outbox = RedisOutbox(self.redis, key_ttl, reclaim_ms)
        self.transcript = RedisTranscript(self.redis, self.outbox, key_ttl)
        self.knowledge = RedisKnowledge(self.redis)
        self.questions = RedisQuestions(self.redis)
        self.handoffs = RedisHandoffs(self.redis)
        self.business_events = RedisBusinessEvents(self.redis, self.customers)
        self.events = RedisEvents(self.redis)
        self.locks = RedisLocks(self.redis, lock_lease_seconds or reclaim_idle_seconds)

    async def open(self, wait_seconds: float = 60.0) -> RedisStore:
        """Create the consumer groups; returns self. A Redis still starting (a fresh deploy) is
        waited for, with backoff, up to `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        delay = 0.5
        while True:
            try:
                await ensure_groups(self.redis, "in")
                await ensure_groups(self.redis, "out")
                return self
            except (ConnectionError, TimeoutError) as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("waiting for Redis (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def ping(self) -> bool:
        """True when the store answers (within a second, without retrying)."""
        try:
            async with asyncio.timeout(1.0):
                return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        """Release connections; every write was acknowledged by Redis when it returned."""
        await self.redis.aclose()
