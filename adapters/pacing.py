"""Outbound pacing: no faster than a provider allows per recipient and per sending account.

Sending faster only earns 429s and, on some providers, a lower rate for a while; waiting a little
here costs less. Each delivery task waits its turn; the outbox already keeps one in flight per
recipient, so order is kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from adapters.base import Sender
from gateway.messages import Outbound


class Pacer:
    """Spaces sends: at least `per_recipient` seconds apart per key, `per_second` in all.

    `burst` lets that many sends to one key go at once after a quiet spell, the average staying one
    per `per_recipient` (a generic cell rate: each key's schedule may run `burst - 1` gaps ahead).
    """

    def __init__(
        self,
        per_recipient: float,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        burst: int = 1,
    ) -> None:
        self._gap = per_recipient
        self._ahead = per_recipient * (max(1, burst) - 1)
        self._spacing = 1.0 / per_second
        self._clock = clock
        self._next_for: dict[str, float] = {}
        self._next_any = 0.0
        self._lock = asyncio.Lock()

    def reserve(self, key: str) -> float:
        """Book the next slot for key; returns how long to wait for it (0 when free now)."""
        now = self._clock()
        scheduled = self._next_for.get(key, 0.0)
        start = max(now, scheduled - self._ahead, self._next_any)
        self._next_for[key] = max(scheduled, start) + self._gap
        self._next_any = start + self._spacing
        if len(self._next_for) > 10_000:
            # Forget recipients whose slot has passed, so the table stays small.
            self._next_for = {k: t for k, t in self._next_for.items() if t - self._ahead > now}
        return start - now

    async def wait(self, key: str) -> None:
        """Sleep until key's booked slot."""
        async with self._lock:
            delay = self.reserve(key)
        if delay > 0:
            await asyncio.sleep(delay)


class PacedSender:
    """A Sender that waits for its Pacer before each send."""

    def __init__(self, sender: Sender, pacer: Pacer) -> None:
        self.channel = sender.channel
        self._sender = sender
        self._pacer = pacer

    async def send(self, message: Outbound) -> list[str]:
        """Wait for a slot, then send."""
        await self._pacer.wait(message.to.address)
        return await self._sender.send(message)

    @property
    def inner(self) -> Sender:
        """The sender being paced."""
        return self._sender

    async def close(self) -> None:
        """Close the wrapped sender."""
        await self._sender.close()
