"""Stores: what the gateway keeps, behind the protocols in `protocol.py`."""

from __future__ import annotations

from gateway.settings import SettingsError, StoreURL
from gateway.stores.protocol import Store


async def open_store(url: StoreURL) -> Store:
    """Open the store a URL names."""
    if url.scheme == "sqlite":
        from gateway.stores.sqlite import SQLiteStore

        return await SQLiteStore(url.path).open()
    raise SettingsError(
        f"ONETHREAD_STORE_URL: the {url.scheme} store is not available in this version"
    )
