"""What a channel adapter offers the gateway for outbound delivery."""

from __future__ import annotations

from typing import Protocol

from gateway.messages import Outbound


class DeliveryError(Exception):
    """A send failed; `retry_after`: seconds the provider asks us to wait; `permanent`: no retry."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    """Sends one outbound message on one channel."""

    channel: str

    async def send(self, message: Outbound) -> list[str]:
        """Deliver the message or raise DeliveryError; returns the provider's message ids."""

    async def close(self) -> None:
        """Release the sender's HTTP session."""
