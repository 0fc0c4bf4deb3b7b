"""The outbox deliverer: in order per recipient, retried with backoff, then dead-lettered."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from adapters.base import DeliveryError
from gateway.messages import Address, Outbound
from gateway.stores.protocol import EntryDraft, Store
from gateway.workers import DeliveryWorker, backoff_seconds

TO = Address("sms", "+15550000001")


class FlakySender:
    """A fake provider: fails the first `failures` calls, records every delivered text."""

    channel = "sms"

    def __init__(self, failures: int, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.calls = 0
        self.delivered: list[str] = []
        self.changed = asyncio.Event()

    async def send(self, message: Outbound) -> None:
        self.calls += 1
        self.changed.set()
        if self.calls <= self.failures:
            raise DeliveryError("HTTP 503", retry_after=None, permanent=self.permanent)
        self.delivered.append(message.text)


async def queue(store: Store, *texts: str) -> None:
    cid = await store.customers.resolve(TO, None, None)
    conv = await store.conversations.current(cid, datetime.now(UTC), 3600)
    drafts = [EntryDraft("bot", "sms", t, datetime.now(UTC)) for t in texts]
    await store.transcript.append(
        conv.id, drafts, key="k", deliveries=[Outbound(TO, t) for t in texts]
    )


async def run_until(worker: DeliveryWorker, sender: FlakySender, done) -> None:
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(20):
            while not done():
                worker.wake()
                sender.changed.clear()
                await sender.changed.wait()
    finally:
        await worker.drain()
        task.cancel()


async def test_replies_survive_an_outage_and_arrive_in_order(store: Store) -> None:
    await queue(store, "one", "two", "three")
    sender = FlakySender(failures=3)
    worker = DeliveryWorker(store.outbox, {"sms": sender}, "t", max_attempts=10, base_delay=0.001)
    await run_until(worker, sender, lambda: len(sender.delivered) == 3)
    assert sender.delivered == ["one", "two", "three"]
    assert [i.attempts for i in await store.outbox.list("sent")] == [1, 1, 4]


async def test_a_reply_that_keeps_failing_is_dead_lettered_visibly(store: Store) -> None:
    await queue(store, "doomed")
    sender = FlakySender(failures=99)
    worker = DeliveryWorker(store.outbox, {"sms": sender}, "t", max_attempts=3, base_delay=0.001)
    await run_until(worker, sender, lambda: sender.calls == 3)
    await asyncio.sleep(0)  # let the final bookkeeping of the last attempt finish
    await worker.drain()
    dead = await store.outbox.list("dead")
    assert [(d.message.text, d.attempts, d.last_error) for d in dead] == [("doomed", 3, "HTTP 503")]


async def test_a_channel_without_a_sender_is_dead_lettered_not_dropped(store: Store) -> None:
    await queue(store, "nowhere")
    worker = DeliveryWorker(store.outbox, {}, "t", max_attempts=3)
    assert await worker.run_once() == 1
    (dead,) = await store.outbox.list("dead")
    assert "no sender" in (dead.last_error or "")


def test_backoff_grows_and_honours_retry_after() -> None:
    assert backoff_seconds(1, None, base=1.0, cap=300) <= 1.0
    assert 4.0 <= backoff_seconds(4, None, base=1.0, cap=300) <= 8.0
    assert backoff_seconds(20, None, base=1.0, cap=300) <= 300
    assert backoff_seconds(1, 30.0, base=1.0, cap=300) == 30.0
