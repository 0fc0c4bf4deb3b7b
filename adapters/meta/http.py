"""GET /webhooks/meta: the subscription handshake. POST /webhooks/meta: verify the signature on
the raw bytes, parse, store every message durably, then acknowledge.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from adapters.meta.inbound import OBJECTS, parse_receipts, parse_webhook
from adapters.meta.signature import signature_valid
from gateway import intake, metrics
from gateway.http_ops import SERVICES

log = logging.getLogger(__name__)

PATH = "/webhooks/meta"


async def verify(request: web.Request) -> web.Response:
    """Meta's handshake: echo `hub.challenge` when the verify token matches."""
    meta = request.app[SERVICES].settings.meta
    assert meta is not None
    query = request.query
    given = query.get("hub.verify_token", "").encode()
    token_ok = hmac.compare_digest(given, meta.verify_token.reveal().encode())
    if query.get("hub.mode") != "subscribe" or not token_ok or "hub.challenge" not in query:
        raise web.HTTPForbidden(text="verification failed")
    return web.Response(text=query["hub.challenge"], content_type="text/plain")


async def webhook(request: web.Request) -> web.Response:
    """A batch of Messenger, Instagram or WhatsApp events; 200 once every message is stored."""
    services = request.app[SERVICES]
    meta = services.settings.meta
    assert meta is not None
    raw = await request.read()  # larger than client_max_size → 413 before we get here
    header = request.headers.get("X-Hub-Signature-256")
    if not signature_valid(meta.app_secret.reveal().encode(), raw, header):
        raise web.HTTPForbidden(text="invalid X-Hub-Signature-256")
    try:
        payload = json.loads(raw)
        messages = parse_webhook(payload, graph_base_url=meta.graph_base_url)
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise web.HTTPBadRequest(text=f"not a Meta webhook: {exc}") from None
    channel = OBJECTS[payload["object"]]
    for provider_id, status in parse_receipts(payload):
        if await services.store.outbox.receipt(provider_id, status):
            metrics.DELIVERY_RECEIPTS.labels(channel=channel, status=status).inc()
    fresh = 0
    for message in messages:
        fresh += await intake.accept(services, message)
    if messages:
        log.debug("meta webhook: %d messages, %d new", len(messages), fresh)
    return web.Response(text="EVENT_RECEIVED", content_type="text/plain")


def routes() -> list[web.RouteDef]:
    """The Meta webhook routes (one URL for Messenger, Instagram and WhatsApp Cloud)."""
    return [web.get(PATH, verify), web.post(PATH, webhook)]
