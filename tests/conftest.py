"""Fixtures shared by every test: stores under the contract suite, a clock-free way to wait."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.stores.protocol import Store
from gateway.stores.sqlite import SQLiteStore


async def _sqlite(tmp_path: Path) -> Store:
    return await SQLiteStore(str(tmp_path / "store.sqlite3")).open()


STORE_FACTORIES = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every store implementation in turn: the contract suite runs against each."""
    opened = await STORE_FACTORIES[request.param](tmp_path)
    yield opened
    await opened.close()
