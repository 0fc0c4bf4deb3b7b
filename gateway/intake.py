"""Where every channel hands over a customer message: stored once, durably, then processed."""

from __future__ import annotations

from gateway import metrics
from gateway.faults import crashpoint
from gateway.messages import Inbound
from gateway.services import Services


async def accept(services: Services, message: Inbound) -> bool:
    """Store the message in the inbox (once per key) and wake the worker; False for a repeat.

    When this returns, the message is durable: the caller may acknowledge the provider.
    """
    _, is_new = await services.store.inbox.accept(message)
    channel = message.sender.channel
    if not is_new:
        metrics.DUPLICATES.labels(channel=channel).inc()
        return False
    metrics.MESSAGES_RECEIVED.labels(channel=channel).inc()
    crashpoint("after_accept")
    services.inbox_worker.wake()
    return True
