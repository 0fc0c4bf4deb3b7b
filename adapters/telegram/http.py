"""POST /webhooks/telegram: verify the secret, normalize, store durably, then acknowledge."""

from __future__ import annotations

import json

from aiohttp import web

from adapters.telegram.inbound import NotAMessage, parse_update
from adapters.telegram.signature import secret_valid
from gateway import intake
from gateway.http_ops import SERVICES

PATH = "/webhooks/telegram"


async def webhook(request: web.Request) -> web.Response:
    """One update. A pressed button is acknowledged in the response itself, saving a call."""
    services = request.app[SERVICES]
    telegram = services.settings.telegram
    assert telegram is not None
    header = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if not secret_valid(telegram.webhook_secret.reveal(), header):
        raise web.HTTPUnauthorized(text="invalid X-Telegram-Bot-Api-Secret-Token")
    try:
        data = json.loads(await request.read())
        if not isinstance(data, dict):
            raise ValueError("an update is a JSON object")
        parsed = parse_update(data)
    except NotAMessage:
        return web.json_response({})
    except (ValueError, KeyError, TypeError) as exc:
        raise web.HTTPBadRequest(text=f"not a Telegram update: {exc}") from None
    await intake.accept(services, parsed.message)
    if parsed.callback_query_id:
        return web.json_response(
            {"method": "answerCallbackQuery", "callback_query_id": parsed.callback_query_id}
        )
    return web.json_response({})


def routes() -> list[web.RouteDef]:
    """The Telegram webhook route."""
    return [web.post(PATH, webhook)]
