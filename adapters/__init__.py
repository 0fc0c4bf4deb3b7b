"""Channel adapters: one package per channel, each turning provider traffic into messages."""

from __future__ import annotations

from aiohttp import web


def webchat_routes() -> list[web.RouteDef]:
    """The web chat's routes (always on)."""
    from adapters.webchat.http import routes

    return routes()
