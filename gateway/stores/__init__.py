"""Stores: what the gateway keeps, behind the protocols in `protocol.py`."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Protocol

from gateway.feed import Feed
from gateway.settings import SettingsError, StoreURL
from gateway.stores.protocol import Store


class Relay(Protocol):
    """Passes feed events and knowledge announcements between processes sharing a store."""

    async def close(self) -> None:
        """Stop relaying."""


class _NoRelay:
    """An embedded store has one process: nothing to relay."""

    async def close(self) -> None:
        """Nothing to stop."""


async def open_relay(
    store: Store, feed: Feed, on_knowledge: Callable[[], Awaitable[object]]
) -> Relay:
    """Link this process's feed and knowledge to the other processes on a shared store."""
    # Only a Redis store has other processes to relay to, and one exists only once its module
    # is loaded: importing it just to ask would load redis-py (~9 MB) into every SQLite gateway.
    redis_module = sys.modules.get("gateway.stores.redis")
    if redis_module is None or not isinstance(store, redis_module.RedisStore):
        return _NoRelay()
    from gateway.stores.redis.relay import RedisRelay

    relay = RedisRelay(store.redis, feed, on_knowledge)
    await relay.start()
    return relay


async def open_store(url: StoreURL, reclaim_idle_seconds: float = 30.0) -> Store:
    """Open the store a URL names; `reclaim_idle_seconds` is how long work a process took stays
    its own before others may take it over (shared stores only)."""
    if url.scheme == "sqlite":
        from gateway.stores.sqlite import SQLiteStore

        return await SQLiteStore(url.path).open()
    if url.scheme == "redis":
        from gateway.stores.redis import RedisStore

        return await RedisStore(url.raw, reclaim_idle_seconds).open()
    raise SettingsError(
        f"ONETHREAD_STORE_URL: the {url.scheme} store is not available in this version"
    )
