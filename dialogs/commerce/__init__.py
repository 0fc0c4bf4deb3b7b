"""The commerce backend the self-service flows act on: orders, cancellations, addresses, returns.

`Commerce` is the protocol; `DemoCommerce` (seeded orders, in-process) is the default and
`HttpCommerce` reaches any backend that speaks the documented interface (docs/commerce.md) at
ONETHREAD_COMMERCE_URL. Both raise `CommerceUnavailable` when the backend cannot answer, and
`CommerceRefused` when it answers no (too late to cancel, item not in the order).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Order:
    """One order as the flows see it."""

    number: str
    status: str  # processing | shipped | out_for_delivery | delivered | cancelled
    email: str
    phone: str
    placed_at: str  # ISO-8601
    items: tuple[str, ...]
    shipping_address: str
    carrier: str | None = None
    tracking_url: str | None = None
    eta: str | None = None  # ISO date
    changeable: bool = False  # still inside the 60-minute edit and cancel window

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (the HTTP interface's order object)."""
        return {**asdict(self), "items": list(self.items)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        """Inverse of `to_dict`; unknown keys are ignored so backends may send more."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**{**known, "items": tuple(data.get("items", ()))})


@dataclass(frozen=True)
class Return:
    """A return opened for one item, with its prepaid label."""

    return_id: str
    order_number: str
    item: str
    label_url: str
    extra: dict[str, Any] = field(default_factory=dict)


class CommerceUnavailable(Exception):
    """The backend did not answer in time or answered with an error."""


class CommerceRefused(Exception):
    """The backend answered no; `reason` is a short code (too_late, no_such_item, …)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class Commerce(Protocol):
    """What the flows need from the shop's backend."""

    async def order(self, number: str) -> Order | None:
        """The order, or None when there is no such order."""

    async def orders_for(self, phones: list[str], emails: list[str]) -> list[Order]:
        """Orders placed with any of these phones or emails, newest first."""

    async def cancel(self, number: str) -> Order:
        """Cancel an order inside its window; CommerceRefused('too_late') after it."""

    async def change_address(self, number: str, address: str) -> Order:
        """Change the delivery address inside the window; CommerceRefused('too_late') after it."""

    async def start_return(self, number: str, item: str) -> Return:
        """Open a return for one item and make its label."""

    async def reset_password(self, email: str) -> None:
        """Send a reset link if the email has an account; says nothing either way."""


def matching_item(items: tuple[str, ...], wanted: str) -> str | None:
    """The order's item the customer means: one sharing a word with what they typed."""
    words = {w.strip(".,!?").lower() for w in wanted.split() if len(w) > 2}
    words -= {"the", "and", "my", "from", "return", "order", "item", "items", "want"}
    for item in items:
        if words & {w.strip("()").lower() for w in item.split()}:
            return item
    if len(items) == 1 and wanted.strip().lower() in {"it", "all", "everything", "the order"}:
        return items[0]
    return None
