"""Channel adapters: one package per channel, each turning provider traffic into messages."""

from __future__ import annotations

from aiohttp import web


def install_channels(app: web.Application) -> None:
    """Add every channel's routes to the app (web chat is always on)."""
    from adapters.webchat.http import install

    install(app)
