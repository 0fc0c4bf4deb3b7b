"""The commerce interface: the demo backend over HTTP, and the client's handling of failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dialogs.commerce import CommerceRefused, CommerceUnavailable
from dialogs.commerce.demo import DemoCommerce
from dialogs.commerce.http_app import create_app
from dialogs.commerce.http_client import HttpCommerce


@pytest.fixture
async def served() -> AsyncIterator[tuple[DemoCommerce, HttpCommerce]]:
    backend = DemoCommerce()
    server = TestServer(create_app(backend))
    await server.start_server()
    client = HttpCommerce(str(server.make_url("")))
    yield backend, client
    await client.close()
    await server.close()


async def test_orders_are_read_and_changed_over_http(served) -> None:
    backend, client = served
    order = await client.order("FH-482913")
    assert order == await backend.order("FH-482913")
    assert await client.order("FH-000000") is None
    mine = await client.orders_for(["+14155550123"], [])
    assert [o.number for o in mine] == ["FH-310577", "FH-482913"]
    assert (await client.change_address("FH-310577", "1 Main St, Reno, NV 89501")).changeable
    assert (await client.cancel("FH-310577")).status == "cancelled"
    opened = await client.start_return("FH-774201", "rain pants")
    assert opened.item == "Cascade rain pants"
    await client.reset_password("Jordan.Lee@example.com")
    assert backend.password_resets == ["jordan.lee@example.com"]


async def test_the_backends_no_is_a_refusal_with_its_reason(served) -> None:
    _, client = served
    with pytest.raises(CommerceRefused) as late:
        await client.cancel("FH-482913")
    assert late.value.reason == "too_late"
    with pytest.raises(CommerceRefused) as wrong_item:
        await client.start_return("FH-774201", "the kayak")
    assert wrong_item.value.reason == "no_such_item"
    with pytest.raises(CommerceRefused) as unknown:
        await client.cancel("FH-000000")
    assert unknown.value.reason == "no_such_order"


async def test_a_broken_or_silent_backend_is_unavailable_not_a_hang(served) -> None:
    backend, client = served
    backend.down = True
    with pytest.raises(CommerceUnavailable):
        await client.order("FH-482913")

    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    app = web.Application()
    app.router.add_get("/orders/{number}", hang)
    silent = TestServer(app)
    await silent.start_server()
    slow_client = HttpCommerce(str(silent.make_url("")), timeout=0.2)
    try:
        with pytest.raises(CommerceUnavailable):
            await slow_client.order("FH-482913")
    finally:
        never.set()
        await slow_client.close()
        await silent.close()
    closed = HttpCommerce("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(CommerceUnavailable):
        await closed.order("FH-482913")
    await closed.close()
