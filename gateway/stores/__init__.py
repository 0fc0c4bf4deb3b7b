"""Stores: what the gateway keeps, behind the protocols in `protocol.py`."""

from __future__ import annotations

from gateway.settings import SettingsError, StoreURL
from gateway.stores.protocol import Store


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
