"""Channel adapters: one package per channel, each turning provider traffic into messages.

Adding a channel: its settings section, its package here, and one entry in `CHANNELS` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from adapters.base import Sender
from adapters.pacing import PacedSender, Pacer
from gateway.settings import Settings


@dataclass(frozen=True)
class ChannelPlugin:
    """How the gateway mounts one provider: when it is on, its webhook routes, its senders."""

    name: str
    enabled: Callable[[Settings], bool]
    routes: Callable[[], list[web.RouteDef]]
    senders: Callable[[Settings], list[Sender]]


# Each plugin imports its provider's SDK only when its routes or senders are asked for, that is
# when the channel is configured: python-telegram-bot alone adds ~15 MB and ~0.5 s to start-up.


def _twilio() -> ChannelPlugin:
    def routes() -> list[web.RouteDef]:
        from adapters.twilio.http import routes

        return routes()

    def senders(settings: Settings) -> list[Sender]:
        from adapters.twilio.http import PATH
        from adapters.twilio.sender import TwilioSender

        assert settings.twilio is not None
        status_url = settings.public_url + PATH
        return [
            TwilioSender(settings.twilio, "sms", status_url),
            TwilioSender(settings.twilio, "whatsapp", status_url),
        ]

    return ChannelPlugin("twilio", lambda s: s.twilio is not None, routes, senders)


def _telegram() -> ChannelPlugin:
    def routes() -> list[web.RouteDef]:
        from adapters.telegram.http import routes

        return routes()

    def senders(settings: Settings) -> list[Sender]:
        from adapters.telegram.sender import TelegramSender

        assert settings.telegram is not None
        # Telegram: about one message a second per chat, about 30 a second in all.
        return [PacedSender(TelegramSender(settings.telegram), Pacer(1.0, 30.0))]

    return ChannelPlugin("telegram", lambda s: s.telegram is not None, routes, senders)


def _meta() -> ChannelPlugin:
    def routes() -> list[web.RouteDef]:
        from adapters.meta.http import routes

        return routes()

    def senders(settings: Settings) -> list[Sender]:
        from adapters.meta.sender import MetaSender

        meta = settings.meta
        assert meta is not None
        out: list[Sender] = []
        # Messenger: over 40 messages a second a Page is blocked; WhatsApp: 80 a second per number.
        if meta.page:
            out += [
                PacedSender(MetaSender(meta, "messenger"), Pacer(0.0, 40.0)),
                PacedSender(MetaSender(meta, "instagram"), Pacer(0.0, 40.0)),
            ]
        if meta.whatsapp:
            out.append(PacedSender(MetaSender(meta, "whatsapp"), Pacer(0.0, 80.0)))
        return out

    return ChannelPlugin("meta", lambda s: s.meta is not None, routes, senders)


# Order matters: `open_senders` keeps the last sender per channel. WhatsApp Cloud (Meta) comes
# after Twilio, so when both are configured, `whatsapp` replies go through WhatsApp Cloud.
CHANNELS: list[Callable[[], ChannelPlugin]] = [_twilio, _telegram, _meta]


def enabled_channels(settings: Settings) -> list[ChannelPlugin]:
    """The provider channels whose credentials are configured."""
    plugins = [make() for make in CHANNELS]
    return [p for p in plugins if p.enabled(settings)]


def install_channels(app: web.Application, settings: Settings) -> None:
    """Add web chat's routes (always on) and every configured channel's webhook routes."""
    from adapters.webchat.http import install

    install(app)
    for plugin in enabled_channels(settings):
        app.add_routes(plugin.routes())


async def open_senders(settings: Settings) -> dict[str, Sender]:
    """One sender per outbound channel; a later provider wins a channel two can serve."""
    senders: dict[str, Sender] = {}
    for plugin in enabled_channels(settings):
        for sender in plugin.senders(settings):
            replaced = senders.get(sender.channel)
            if replaced is not None:
                await replaced.close()
            senders[sender.channel] = sender
    return senders
