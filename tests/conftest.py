"""Fixtures shared by every test: stores under the contract suite, a clock-free way to wait."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis

from gateway.stores.protocol import Store
from gateway.stores.redis import RedisStore
from gateway.stores.sqlite import SQLiteStore
from tests.redis_server import redis_server


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One redis-server for the session (skipped without the binary, except in CI)."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


async def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return await SQLiteStore(str(tmp_path / "store.sqlite3")).open()


async def _redis(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    url = request.getfixturevalue("redis_url")
    with redis.Redis.from_url(url) as client:
        client.flushall()  # every test starts from an empty store
    return await RedisStore(url).open()


STORE_FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], Awaitable[Store]]] = {
    "sqlite": _sqlite,
    "redis": _redis,
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every store implementation in turn: the contract suite runs against each."""
    opened = await STORE_FACTORIES[request.param](request, tmp_path)
    yield opened
    await opened.close()
