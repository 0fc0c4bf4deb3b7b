"""The demo backend: Fernhill's seeded orders, in memory, in-process by default.

The same object is served over HTTP by `dialogs.commerce.http_app` so a test (or a curious
developer) can point ONETHREAD_COMMERCE_URL at it. `down = True` makes every call fail as a
broken backend would, to exercise the apology-and-handoff path.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dialogs.commerce import CommerceRefused, CommerceUnavailable, Order, Return, matching_item

EDIT_WINDOW = timedelta(minutes=60)
RETURN_WINDOW = timedelta(days=60)
TRACKING = "https://fernhill.example/track/{number}"
LABELS = "https://fernhill.example/returns/{return_id}/label.pdf"

# Customers of the demo (555 numbers, example.com addresses), so tests and the demo page can
# verify as one of them: number, status, email, phone, age of the order, items, address.
_SEED: tuple[tuple[str, str, str, str, timedelta, tuple[str, ...], str], ...] = (
    ("FH-482913", "shipped", "ana.garcia@example.com", "+14155550123", timedelta(days=2),
     ("Ridgeline rain jacket", "Talus hiking boots"), "88 Alder St, Portland, OR 97209"),
    ("FH-310577", "processing", "ana.garcia@example.com", "+14155550123", timedelta(minutes=20),
     ("Kestrel 2 tent",), "88 Alder St, Portland, OR 97209"),
    ("FH-774201", "delivered", "sam.ortiz@example.net", "+13125550147", timedelta(days=9),
     ("Cascade rain pants", "Basecamp sleeping pad"), "1200 W Lake St, Chicago, IL 60607"),
    ("FH-559120", "out_for_delivery", "jordan.lee@example.com", "+16175550188",
     timedelta(days=3), ("Summit 45 backpack",), "17 Elm St, Somerville, MA 02144"),
    ("FH-203948", "processing", "jordan.lee@example.com", "+16175550188", timedelta(hours=3),
     ("Trail camp chairs (2)",), "17 Elm St, Somerville, MA 02144"),
)


def seeded_orders(now: datetime) -> dict[str, tuple[Order, datetime]]:
    """The demo orders, placed relative to `now` so the edit window means something."""
    orders = {}
    for number, status, email, phone, age, items, address in _SEED:
        placed = now - age
        shipped = status in {"shipped", "out_for_delivery", "delivered"}
        order = Order(
            number=number,
            status=status,
            email=email,
            phone=phone,
            placed_at=placed.isoformat(),
            items=items,
            shipping_address=address,
            carrier="UPS" if shipped else None,
            tracking_url=TRACKING.format(number=number) if shipped else None,
            eta=(placed + timedelta(days=5)).date().isoformat() if status != "delivered" else None,
        )
        orders[number] = (order, placed)
    return orders


class DemoCommerce:
    """Commerce over the seeded orders; changes live as long as the process."""

    def __init__(self, now: datetime | None = None) -> None:
        self.reset(now)

    def reset(self, now: datetime | None = None) -> None:
        """Back to the seeded orders, up and running."""
        self._orders = seeded_orders(now or datetime.now(UTC))
        self.down = False
        self.password_resets: list[str] = []

    def _check(self) -> None:
        if self.down:
            raise CommerceUnavailable("demo backend is down")

    def _view(self, order: Order, placed: datetime) -> Order:
        window = datetime.now(UTC) - placed < EDIT_WINDOW
        return replace(order, changeable=window and order.status == "processing")

    async def order(self, number: str) -> Order | None:
        """The order, or None when there is no such order."""
        self._check()
        found = self._orders.get(number.upper())
        return self._view(*found) if found else None

    async def orders_for(self, phones: list[str], emails: list[str]) -> list[Order]:
        """Orders placed with any of these phones or emails, newest first."""
        self._check()
        emails = [e.lower() for e in emails]
        mine = [
            (placed, order)
            for order, placed in self._orders.values()
            if order.phone in phones or order.email.lower() in emails
        ]
        return [self._view(o, p) for p, o in sorted(mine, key=lambda po: po[0], reverse=True)]

    async def cancel(self, number: str) -> Order:
        """Cancel inside the window."""
        order = await self._changeable(number)
        cancelled = replace(order, status="cancelled", changeable=False)
        self._orders[order.number] = (cancelled, self._orders[order.number][1])
        return cancelled

    async def change_address(self, number: str, address: str) -> Order:
        """Change the delivery address inside the window."""
        order = await self._changeable(number)
        changed = replace(order, shipping_address=address)
        self._orders[order.number] = (replace(changed, changeable=False),
                                      self._orders[order.number][1])
        return changed

    async def start_return(self, number: str, item: str) -> Return:
        """Open a return for an item of a delivered or shipped order within 60 days."""
        order = await self._known(number)
        placed = self._orders[order.number][1]
        if order.status not in {"delivered", "shipped", "out_for_delivery"}:
            raise CommerceRefused("not_shipped", "the order has not shipped yet")
        if datetime.now(UTC) - placed > RETURN_WINDOW:
            raise CommerceRefused("too_late", "the 60-day return window has passed")
        match = matching_item(order.items, item)
        if match is None:
            raise CommerceRefused("no_such_item", "no item of the order matches")
        return_id = f"RT-{secrets.token_hex(3).upper()}"
        return Return(return_id, order.number, match, LABELS.format(return_id=return_id))

    async def reset_password(self, email: str) -> None:
        """Record the request; the demo has no mail server."""
        self._check()
        self.password_resets.append(email.lower())

    async def _known(self, number: str) -> Order:
        order = await self.order(number)
        if order is None:
            raise CommerceRefused("no_such_order", f"no order {number}")
        return order

    async def _changeable(self, number: str) -> Order:
        order = await self._known(number)
        if not order.changeable:
            raise CommerceRefused("too_late", "the 60-minute window has passed or it shipped")
        return order
