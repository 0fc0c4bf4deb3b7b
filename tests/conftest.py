"""Fixtures shared by every test: stores under the contract suite, a clock-free way to wait."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from gateway.stores.protocol import Store
from gateway.stores.redis import RedisStore
from gateway.stores.sqlite import SQLiteStore
from tests.redis_server import flush, redis_cluster, redis_server


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One redis-server for the session (skipped without the binary, except in CI)."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A three-node Redis Cluster, where a step that spans hash slots fails with CROSSSLOT."""
    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as url:
        yield url


async def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return await SQLiteStore(str(tmp_path / "store.sqlite3")).open()


async def _redis_at(request: pytest.FixtureRequest, fixture: str) -> Store:
    url = request.getfixturevalue(fixture)
    flush(url)  # every test starts from an empty store
    return await RedisStore(url).open()


async def _redis(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return await _redis_at(request, "redis_url")


async def _redis_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return await _redis_at(request, "redis_cluster_url")


STORE_FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], Awaitable[Store]]] = {
    "sqlite": _sqlite,
    "redis": _redis,
    # The same store on a Redis Cluster, whose nodes refuse any step that spans hash slots.
    "redis-cluster": _redis_cluster,
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every store implementation in turn: the contract suite runs against each."""
    opened = await STORE_FACTORIES[request.param](request, tmp_path)
    yield opened
    await opened.close()
