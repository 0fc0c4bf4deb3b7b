"""How far along a provider's delivery report is, so a late report never moves a message back."""

from __future__ import annotations

RECEIPT_ORDER = ("queued", "accepted", "sending", "sent", "delivered", "read")
RECEIPT_FINAL = frozenset({"failed", "undelivered"})


def receipt_rank(status: str | None) -> int:
    """How far along a provider status is; failures outrank everything."""
    if status in RECEIPT_FINAL:
        return len(RECEIPT_ORDER) + 1
    return RECEIPT_ORDER.index(status) + 1 if status in RECEIPT_ORDER else 0
