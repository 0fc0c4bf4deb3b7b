"""The web chat's HTTP edge: the WebSocket, the widget script and the demo page."""

from __future__ import annotations

import logging
from importlib import resources

from aiohttp import WSCloseCode, WSMsgType, web

from adapters.webchat.frames import error_frame
from adapters.webchat.session import WebchatSession
from gateway import metrics
from gateway.http_ops import SERVICES

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
SOCKETS = web.AppKey("webchat_sockets", set)
_STATIC = resources.files("adapters.webchat") / "static"


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """One visitor's socket for as long as the page is open."""
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    session = WebchatSession(request.app[SERVICES], ws.send_json)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    metrics.WEBCHAT_CONNECTIONS.inc()
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await session.on_text(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_json(error_frame("bad_frame", "frames must be JSON text"))
    finally:
        sockets.discard(ws)
        session.close()
        metrics.WEBCHAT_CONNECTIONS.dec()
    return ws


def _static(name: str, content_type: str, cache: str):
    body = (_STATIC / name).read_bytes()

    async def handler(request: web.Request) -> web.Response:
        response = web.Response(
            body=body,
            content_type=content_type,
            charset="utf-8",
            headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
        )
        # The widget is ~22 KB as written and ~8 KB gzipped: every site visitor downloads it.
        response.enable_compression()
        return response

    return handler


async def close_sockets(app: web.Application) -> None:
    """On shutdown, tell every browser to reconnect rather than wait on a stopping server."""
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


def install(app: web.Application) -> None:
    """Add the web chat routes, and the socket bookkeeping that shutdown needs."""
    app[SOCKETS] = set()
    app.on_shutdown.append(close_sockets)
    app.add_routes(routes())


def routes() -> list[web.RouteDef]:
    """The web chat routes."""
    return [
        web.get("/webchat/ws", websocket),
        web.get(
            "/webchat/widget.js", _static("widget.js", "application/javascript", "max-age=300")
        ),
        web.get("/", _static("index.html", "text/html", "no-cache")),
    ]
