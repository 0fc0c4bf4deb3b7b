"""Background workers: the inbox processor and the outbox deliverer, both drained on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from adapters.base import DeliveryError, Sender
from gateway import metrics
from gateway.faults import crashpoint
from gateway.stores.protocol import Inbox, InboxItem, Outbox, OutboxItem

log = logging.getLogger(__name__)

# Told of each failed delivery: the item (attempts made before this one), whether it is final,
# and the error.
FailureHook = Callable[[OutboxItem, bool, str], Awaitable[None]]

POLL_SECONDS = 1.0
GAUGE_SECONDS = 5.0


def backoff_seconds(attempts: int, retry_after: float | None, base: float, cap: float) -> float:
    """Exponential backoff with jitter, never sooner than the provider asked."""
    delay = min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


class _Loop:
    """Claims work in batches, runs each item as a tracked task, wakes on demand or by poll."""

    def __init__(self, concurrency: int) -> None:
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._concurrency = concurrency
        self._stopping = False

    def wake(self) -> None:
        """Look for new work now rather than at the next poll."""
        self._wake.set()

    async def _claim(self, limit: int) -> list:
        raise NotImplementedError

    async def _work(self, item: object) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        """Loop until drained."""
        while not self._stopping:
            self._wake.clear()
            free = self._concurrency - len(self._tasks)
            try:
                items = await self._claim(free) if free > 0 else []
            except Exception as exc:  # the store is unreachable: keep polling until it is back
                log.warning("%s could not claim work: %s", type(self).__name__, exc)
                items = []
            for item in items:
                task = asyncio.create_task(self._work(item))
                self._tasks.add(task)
                task.add_done_callback(self._done)
            if not items or free <= len(items):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def run_once(self) -> int:
        """Claim one batch and finish it; returns how many items it handled."""
        items = await self._claim(self._concurrency)
        await asyncio.gather(*(self._work(item) for item in items))
        return len(items)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def drain(self) -> None:
        """Stop claiming and wait for the work in hand to finish."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class InboxWorker(_Loop):
    """Processes accepted messages, oldest first per sender."""

    def __init__(
        self,
        inbox: Inbox,
        handle: Callable[[InboxItem], Awaitable[None]],
        owner: str,
        concurrency: int = 32,
        max_attempts: int = 5,
    ) -> None:
        super().__init__(concurrency)
        self._inbox = inbox
        self._handle = handle
        self._owner = owner
        self._max_attempts = max_attempts
        self._gauged_at = 0.0

    async def _claim(self, limit: int) -> list[InboxItem]:
        items = await self._inbox.claim(self._owner, limit)
        now = time.monotonic()
        if now - self._gauged_at > GAUGE_SECONDS:
            # Counting is a query of its own: often enough for a dashboard, not per message.
            self._gauged_at = now
            metrics.INBOX_PENDING.set(await self._inbox.pending())
        return items

    async def _work(self, item: InboxItem) -> None:
        channel = item.message.sender.channel
        started = time.perf_counter()
        try:
            await self._handle(item)
        except Exception as exc:
            final = item.attempts + 1 >= self._max_attempts
            log.exception(
                "processing inbox item %s failed (attempt %s)", item.id, item.attempts + 1
            )
            metrics.PROCESSING_FAILURES.labels(channel=channel, final=str(final).lower()).inc()
            error = f"{type(exc).__name__}: {exc}"
            if final:
                await self._inbox.fail(item.id, error)
            else:
                await self._inbox.complete(item.id, error=error)
            return
        await self._inbox.complete(item.id)
        metrics.PROCESSING_SECONDS.labels(channel=channel).observe(time.perf_counter() - started)


class DeliveryWorker(_Loop):
    """Delivers queued replies in order per recipient, retrying with backoff, then dead-letters."""

    def __init__(
        self,
        outbox: Outbox,
        senders: Mapping[str, Sender],
        owner: str,
        max_attempts: int,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        concurrency: int = 32,
        on_failure: FailureHook | None = None,
    ) -> None:
        super().__init__(concurrency)
        self._on_failure = on_failure
        self._outbox = outbox
        self._senders = senders
        self._owner = owner
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay

    async def _claim(self, limit: int) -> list[OutboxItem]:
        return await self._outbox.claim_due(self._owner, datetime.now(UTC), limit)

    async def _work(self, item: OutboxItem) -> None:
        channel = item.message.to.channel
        sender = self._senders.get(channel)
        if sender is None:
            await self._give_up(item, f"no sender is configured for channel {channel!r}")
            return
        try:
            provider_ids = await sender.send(item.message)
        except DeliveryError as exc:
            await self._failed(item, exc)
            return
        except Exception as exc:  # an adapter bug must not stall the queue
            log.exception("sender for %s raised", channel)
            await self._failed(item, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return
        crashpoint("before_outbox_done")
        await self._outbox.sent(item.id, provider_ids or [])
        metrics.DELIVERIES.labels(channel=channel, outcome="sent").inc()

    async def _failed(self, item: OutboxItem, exc: DeliveryError) -> None:
        sender = self._senders.get(item.message.to.channel)
        # A sender may ask for a longer budget than the default (Slack outages outlast SMS ones).
        budget = getattr(sender, "max_attempts", self._max_attempts)
        final = exc.permanent or item.attempts + 1 >= budget
        if self._on_failure is not None:
            try:
                await self._on_failure(item, final, str(exc))
            except Exception:  # telling someone about a failure must not stall the queue
                log.exception("delivery failure hook raised for outbox item %s", item.id)
        if final:
            await self._give_up(item, str(exc))
            return
        delay = backoff_seconds(
            item.attempts + 1, exc.retry_after, self._base_delay, self._max_delay
        )
        await self._outbox.retry_later(
            item.id, datetime.now(UTC) + timedelta(seconds=delay), str(exc)
        )
        metrics.DELIVERIES.labels(channel=item.message.to.channel, outcome="retry").inc()

    async def _give_up(self, item: OutboxItem, reason: str) -> None:
        log.error(
            "dead-lettered outbox item %s to %s: %s", item.id, item.message.to.channel, reason
        )
        await self._outbox.dead_letter(item.id, reason)
        metrics.DELIVERIES.labels(channel=item.message.to.channel, outcome="dead").inc()
