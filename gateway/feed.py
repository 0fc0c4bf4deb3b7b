"""Live feed of transcript changes, so every open web chat tab sees each entry as it is stored."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gateway.messages import Entry


@dataclass(frozen=True)
class ThreadMoved:
    """The customer's thread changed under a subscriber (a merge): resubscribe and replay."""

    customer_id: str


FeedEvent = Entry | ThreadMoved


class Feed:
    """In-process publish/subscribe keyed by customer id, optionally relayed to other processes."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[FeedEvent]]] = defaultdict(set)
        # Set by a relay (a shared store) to pass every published event to the other processes.
        self.forward: Callable[[str, list[FeedEvent]], None] | None = None

    def subscribe(self, customer_id: str) -> asyncio.Queue[FeedEvent]:
        """A queue that receives every event published for the customer."""
        queue: asyncio.Queue[FeedEvent] = asyncio.Queue()
        self._queues[customer_id].add(queue)
        return queue

    def unsubscribe(self, customer_id: str, queue: asyncio.Queue[FeedEvent]) -> None:
        """Stop receiving events on that queue."""
        queues = self._queues.get(customer_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[customer_id]

    def publish(self, customer_id: str, events: list[FeedEvent]) -> None:
        """Deliver events to every subscriber of the customer, in every process."""
        self.deliver(customer_id, events)
        if self.forward is not None and events:
            self.forward(customer_id, events)

    def deliver(self, customer_id: str, events: list[FeedEvent]) -> None:
        """Deliver events to this process's subscribers of the customer."""
        for queue in self._queues.get(customer_id, ()):
            for event in events:
                queue.put_nowait(event)

    def merged(self, survivor: str, absorbed: Iterable[str]) -> None:
        """Tell the subscribers of customers merged into `survivor` that their thread moved."""
        for customer_id in absorbed:
            self.publish(customer_id, [ThreadMoved(survivor)])

    def subscribers(self) -> int:
        """How many queues are subscribed in all."""
        return sum(len(q) for q in self._queues.values())
