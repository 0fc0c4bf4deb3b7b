"""Bearer-token check for the admin API and admin pages."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.settings import Secret

PROTECTED_PREFIXES = ("/api/v1/", "/admin")
# Pages and their script hold no data: what they show comes from the API, with the token.
PUBLIC_PATHS = frozenset(
    {"/api/v1/openapi.json", "/admin/kb", "/admin/dashboard", "/admin/charts.js"}
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def token_matches(header: str | None, token: Secret) -> bool:
    """True when the Authorization header carries exactly this bearer token (constant time)."""
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.reveal().encode())


def admin_auth(token: Secret | None) -> Callable:
    """Middleware refusing admin requests without the right token, with a hint why."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(PROTECTED_PREFIXES) or path in PUBLIC_PATHS:
            return await handler(request)
        if token is None:
            return _refuse("the admin API is off: set ONETHREAD_ADMIN_TOKEN and restart")
        if not token_matches(request.headers.get("Authorization"), token):
            return _refuse("send Authorization: Bearer <ONETHREAD_ADMIN_TOKEN>")
        return await handler(request)

    return middleware


def _refuse(hint: str) -> web.Response:
    return web.json_response(
        {"error": "unauthorized", "hint": hint},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="onethread"'},
    )
