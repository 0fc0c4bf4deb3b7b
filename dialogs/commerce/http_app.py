"""The documented commerce interface served over HTTP, backed by any Commerce (the demo's).

Run it for a look: `python -m dialogs.commerce.http_app --port 8090`, then
ONETHREAD_COMMERCE_URL=http://127.0.0.1:8090. Tests serve it on loopback to share one backend
between the gateway and a separate Rasa action server.
"""

from __future__ import annotations

import argparse
from typing import Any

from aiohttp import web

from dialogs.commerce import Commerce, CommerceRefused, CommerceUnavailable
from dialogs.commerce.demo import DemoCommerce

COMMERCE = web.AppKey("commerce", object)


def _backend(request: web.Request) -> Commerce:
    return request.app[COMMERCE]  # type: ignore[return-value]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}') from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}')
    return data


def _refused(exc: CommerceRefused) -> web.Response:
    status = 404 if exc.reason == "no_such_order" else 409
    return web.json_response({"error": exc.reason, "message": str(exc)}, status=status)


@web.middleware
async def _unavailable(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except CommerceUnavailable as exc:
        return web.json_response({"error": "unavailable", "message": str(exc)}, status=503)
    except CommerceRefused as exc:
        return _refused(exc)


async def get_order(request: web.Request) -> web.Response:
    """GET /orders/{number}."""
    order = await _backend(request).order(request.match_info["number"])
    if order is None:
        return web.json_response({"error": "no_such_order"}, status=404)
    return web.json_response(order.to_dict())


async def list_orders(request: web.Request) -> web.Response:
    """GET /orders?phone=…&email=…."""
    orders = await _backend(request).orders_for(
        request.query.getall("phone", []), request.query.getall("email", [])
    )
    return web.json_response({"orders": [o.to_dict() for o in orders]})


async def cancel(request: web.Request) -> web.Response:
    """POST /orders/{number}/cancel."""
    return web.json_response((await _backend(request).cancel(request.match_info["number"]))
                             .to_dict())


async def change_address(request: web.Request) -> web.Response:
    """POST /orders/{number}/address {"address": …}."""
    address = (await _body(request)).get("address")
    if not isinstance(address, str) or not address.strip():
        return web.json_response({"error": "address is required"}, status=400)
    order = await _backend(request).change_address(request.match_info["number"], address)
    return web.json_response(order.to_dict())


async def start_return(request: web.Request) -> web.Response:
    """POST /orders/{number}/returns {"item": …}."""
    item = (await _body(request)).get("item")
    if not isinstance(item, str) or not item.strip():
        return web.json_response({"error": "item is required"}, status=400)
    opened = await _backend(request).start_return(request.match_info["number"], item)
    return web.json_response(
        {"return_id": opened.return_id, "order_number": opened.order_number,
         "item": opened.item, "label_url": opened.label_url},
        status=201,
    )


async def reset_password(request: web.Request) -> web.Response:
    """POST /password-resets {"email": …}: 202 whether or not the account exists."""
    email = (await _body(request)).get("email")
    if not isinstance(email, str) or "@" not in email:
        return web.json_response({"error": "email is required"}, status=400)
    await _backend(request).reset_password(email)
    return web.json_response({"status": "accepted"}, status=202)


def create_app(backend: Commerce) -> web.Application:
    """The commerce interface over `backend`."""
    app = web.Application(middlewares=[_unavailable])
    app[COMMERCE] = backend
    app.add_routes([
        web.get("/orders", list_orders),
        web.get("/orders/{number}", get_order),
        web.post("/orders/{number}/cancel", cancel),
        web.post("/orders/{number}/address", change_address),
        web.post("/orders/{number}/returns", start_return),
        web.post("/password-resets", reset_password),
    ])
    return app


def main() -> None:
    """Serve the demo backend."""
    parser = argparse.ArgumentParser(description="Fernhill demo commerce backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    web.run_app(create_app(DemoCommerce()), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
