"""Commerce over HTTP: any backend that speaks the interface in docs/commerce.md.

Every call has a deadline, so a slow backend costs the customer a few seconds and an apology,
never a hung conversation. Transport errors and 5xx become CommerceUnavailable; 409 with a reason
becomes CommerceRefused; 404 on an order is "no such order".
"""

from __future__ import annotations

from typing import Any

import aiohttp

from dialogs.commerce import CommerceRefused, CommerceUnavailable, Order, Return

DEFAULT_TIMEOUT = 5.0


class HttpCommerce:
    """Commerce client for a base URL; opens its own session lazily, one per event loop."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Release the connection pool."""
        if self._session is not None:
            await self._session.close()

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        url = f"{self.base_url}{path}"
        try:
            async with self._client().request(method, url, json=body, params=params) as resp:
                data = await resp.json(content_type=None) if resp.content_length != 0 else None
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise CommerceUnavailable(f"{method} {path}: {type(exc).__name__}") from None
        if status >= 500 or status in {401, 403, 429}:
            raise CommerceUnavailable(f"{method} {path}: HTTP {status}")
        if status == 409:
            reason = (data or {}).get("error", "refused") if isinstance(data, dict) else "refused"
            raise CommerceRefused(reason, (data or {}).get("message", ""))
        return status, data

    async def order(self, number: str) -> Order | None:
        """GET /orders/{number}."""
        status, data = await self._call("GET", f"/orders/{number}")
        if status == 404:
            return None
        return Order.from_dict(data)

    async def orders_for(self, phones: list[str], emails: list[str]) -> list[Order]:
        """GET /orders?phone=…&email=… (repeated)."""
        if not phones and not emails:
            return []
        query = [("phone", p) for p in phones] + [("email", e) for e in emails]
        _, data = await self._call("GET", "/orders", params=query)  # type: ignore[arg-type]
        return [Order.from_dict(o) for o in (data or {}).get("orders", [])]

    async def cancel(self, number: str) -> Order:
        """POST /orders/{number}/cancel."""
        return await self._order_change(f"/orders/{number}/cancel", {})

    async def change_address(self, number: str, address: str) -> Order:
        """POST /orders/{number}/address."""
        return await self._order_change(f"/orders/{number}/address", {"address": address})

    async def start_return(self, number: str, item: str) -> Return:
        """POST /orders/{number}/returns."""
        status, data = await self._call("POST", f"/orders/{number}/returns", {"item": item})
        if status == 404:
            raise CommerceRefused("no_such_order")
        if status >= 400:
            raise CommerceUnavailable(f"POST returns: HTTP {status}")
        return Return(data["return_id"], data["order_number"], data["item"], data["label_url"])

    async def reset_password(self, email: str) -> None:
        """POST /password-resets."""
        status, _ = await self._call("POST", "/password-resets", {"email": email})
        if status >= 400:
            raise CommerceUnavailable(f"POST password-resets: HTTP {status}")

    async def _order_change(self, path: str, body: dict[str, Any]) -> Order:
        status, data = await self._call("POST", path, body)
        if status == 404:
            raise CommerceRefused("no_such_order")
        if status >= 400:
            raise CommerceUnavailable(f"POST {path}: HTTP {status}")
        return Order.from_dict(data)
