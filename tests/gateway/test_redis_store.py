"""What only a shared store does: reclaiming a dead process's work, cross-process locks and
events, expiring idempotency keys, surviving a Redis restart, and readiness while Redis is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from gateway.feed import Feed, ThreadMoved
from gateway.messages import Address, Inbound, Outbound
from gateway.settings import parse_store_url
from gateway.stores.protocol import EntryDraft
from gateway.stores.redis import RedisStore, keys
from gateway.stores.redis.relay import RedisRelay
from tests.redis_server import flush, redis_server
from tests.support import gateway_settings, running_gateway

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["redis_url", "redis_cluster_url"])
async def url(request: pytest.FixtureRequest) -> str:
    """A plain Redis, then a Redis Cluster whose nodes refuse any step spanning hash slots."""
    found = request.getfixturevalue(request.param)
    flush(found)
    return found


@pytest.fixture
async def two(url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two processes' views of one Redis; work left idle 0.2 s is reclaimed."""
    a = await RedisStore(url, reclaim_idle_seconds=0.2).open()
    b = await RedisStore(url, reclaim_idle_seconds=0.2).open()
    yield a, b
    await a.close()
    await b.close()


def inbound(key: str, sender: str = "+15550001") -> Inbound:
    return Inbound(key=key, sender=Address("sms", sender), received_at=T0, text="hi")


async def eventually(produce: Callable, seconds: float = 10.0):
    """Call until it returns something truthy."""
    async with asyncio.timeout(seconds):
        while True:
            found = await produce()
            if found:
                return found
            await asyncio.sleep(0.05)


async def test_inbox_work_of_a_dead_process_is_reclaimed_in_order(two) -> None:
    a, b = two
    first, _ = await a.inbox.accept(inbound("m1"))
    second, _ = await a.inbox.accept(inbound("m2"))
    (taken,) = await a.inbox.claim("proc-a", 10)  # ...and proc-a dies holding it
    assert taken.id == first
    assert await b.inbox.claim("proc-b", 10) == []  # not idle long enough yet
    (reclaimed,) = await eventually(lambda: b.inbox.claim("proc-b", 10))
    assert reclaimed.id == first
    await b.inbox.complete(first)
    await a.inbox.complete(first)  # a late word from the first owner changes nothing
    (after,) = await b.inbox.claim("proc-b", 10)
    assert after.id == second
    assert await b.inbox.pending() == 1


async def test_claiming_across_shards_takes_no_more_than_asked_and_loses_nothing(url) -> None:
    store = await RedisStore(url).open()
    try:
        ids = [(await store.inbox.accept(inbound(f"m{n}", f"+1555{n:07d}")))[0] for n in range(40)]
        first = await store.inbox.claim("w", 3)
        assert len(first) == 3
        rest = await store.inbox.claim("w", 100)
        assert sorted(i.id for i in first + rest) == ids  # each sender's head, once
    finally:
        await store.close()


async def test_outbox_work_of_a_dead_process_is_reclaimed(two) -> None:
    a, b = two
    cid = await a.customers.resolve(Address("sms", "+15550001"), None, None)
    conv = await a.conversations.current(cid, T0, 3600)
    to = Address("sms", "+15550001")
    await a.transcript.append(conv.id, [], key="o", deliveries=[Outbound(to, "one")])
    (taken,) = await a.outbox.claim_due("proc-a", datetime.now(UTC), 10)
    (reclaimed,) = await eventually(lambda: b.outbox.claim_due("proc-b", datetime.now(UTC), 10))
    assert reclaimed.id == taken.id
    await b.outbox.sent(reclaimed.id, ["SM1"])
    assert [i.message.text for i in await a.outbox.list("sent")] == ["one"]


async def test_the_customer_lock_excludes_other_processes(two) -> None:
    a, b = two
    order: list[str] = []
    a_in, release = asyncio.Event(), asyncio.Event()

    async def in_a() -> None:
        async with a.locks.hold("cus_x"):
            order.append("a in")
            a_in.set()
            await release.wait()
            order.append("a out")

    async def in_b() -> None:
        await a_in.wait()
        async with b.locks.hold("cus_x"):
            order.append("b in")

    tasks = [asyncio.create_task(in_a()), asyncio.create_task(in_b())]
    await a_in.wait()
    await asyncio.sleep(0.1)  # give b every chance to get in wrongly
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["a in", "a out", "b in"]


async def test_idempotency_keys_and_finished_work_expire(url: str) -> None:
    store = await RedisStore(url, key_ttl=600).open()
    try:
        item, _ = await store.inbox.accept(inbound("m1"))
        await store.inbox.complete(item)
        cid = await store.customers.resolve(Address("sms", "+15550001"), None, None)
        conv = await store.conversations.current(cid, T0, 3600)
        draft = EntryDraft("customer", "sms", "hi", T0)
        await store.transcript.append(conv.id, [draft], key="in:1")
        prefix = keys.work("in", keys.shard_of("sms:+15550001"))
        for key in (prefix + "key:m1", prefix + f"item:{item}", keys.step(conv.id, "in:1")):
            assert 0 < await store.redis.ttl(key) <= 600, key
        # What must last has no expiry: the customer and the transcript.
        assert await store.redis.ttl(keys.customer(cid)) == -1
        assert await store.redis.ttl(keys.transcript(conv.id)) == -1
    finally:
        await store.close()


async def test_feed_events_and_knowledge_versions_reach_other_processes(two) -> None:
    a, b = two
    feed_a, feed_b = Feed(), Feed()
    refreshed = asyncio.Event()

    async def on_knowledge() -> None:
        if await b.knowledge.latest() is not None:
            refreshed.set()

    async def nothing() -> None:
        return None

    relay_a = RedisRelay(a.redis, feed_a, nothing)
    relay_b = RedisRelay(b.redis, feed_b, on_knowledge)
    await relay_a.start()
    await relay_b.start()
    try:
        await relay_a.connected.wait()
        await relay_b.connected.wait()
        cid = await a.customers.resolve(Address("webchat", "v1"), None, None)
        conv = await a.conversations.current(cid, T0, 3600)
        queue = feed_b.subscribe(cid)
        own = feed_a.subscribe(cid)
        (entry,) = await a.transcript.append(
            conv.id, [EntryDraft("agent", "webchat", "hi", T0)], "k"
        )
        feed_a.publish(cid, [entry, ThreadMoved("cus_other")])
        async with asyncio.timeout(10):
            assert await queue.get() == entry
            assert await queue.get() == ThreadMoved("cus_other")
        assert own.qsize() == 2  # delivered once in its own process, not again from Redis
        await a.knowledge.save({"articles": []}, "ann", "new")
        async with asyncio.timeout(10):
            await refreshed.wait()
    finally:
        await relay_a.close()
        await relay_b.close()


async def test_accepted_work_survives_a_redis_restart_with_aof(tmp_path: Path) -> None:
    port = None
    with redis_server(tmp_path / "redis") as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        store = await RedisStore(url).open()
        await store.inbox.accept(inbound("m1"))
        await store.close()
    with redis_server(tmp_path / "redis", port=port) as url:
        store = await RedisStore(url).open()
        try:
            (item,) = await store.inbox.claim("w", 10)
            assert item.message.key == "m1"
        finally:
            await store.close()


async def test_readyz_is_503_while_redis_is_unreachable_and_200_when_back(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        settings = replace(gateway_settings(tmp_path), store_url=parse_store_url(url))
        async with running_gateway(settings) as client:
            assert (await client.get("/readyz")).status == 200
            with redis.Redis.from_url(url) as admin:
                admin.shutdown(nosave=False)
            resp = await client.get("/readyz")
            assert resp.status == 503
            assert (await resp.json())["checks"]["store"] is False
            with redis_server(tmp_path / "redis", port=port):

                async def ready() -> bool:
                    return (await client.get("/readyz")).status == 200

                await eventually(ready, seconds=30)
