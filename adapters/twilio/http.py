"""POST /webhooks/twilio: verify, normalize, store durably, then acknowledge."""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.twilio.inbound import NotAMessage, StatusReport, parse_form, sender_of
from adapters.twilio.signature import signature_valid
from gateway import intake, metrics
from gateway.http_ops import SERVICES

log = logging.getLogger(__name__)

PATH = "/webhooks/twilio"
# An empty TwiML document: Twilio sends nothing itself; our reply goes out through the API.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def webhook(request: web.Request) -> web.Response:
    """One inbound SMS or WhatsApp message, or a status callback."""
    services = request.app[SERVICES]
    twilio = services.settings.twilio
    assert twilio is not None
    if request.content_type != "application/x-www-form-urlencoded":
        raise web.HTTPUnsupportedMediaType(text="expected a form-encoded Twilio webhook")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    # Twilio signs the URL it called, which is our public URL, not the one we see behind a proxy.
    url = services.settings.public_url + request.path_qs
    if not signature_valid(
        twilio.auth_token.reveal(), url, form, request.headers.get("X-Twilio-Signature")
    ):
        raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
    try:
        message = parse_form(form)
    except StatusReport as report:
        if await services.store.outbox.receipt(report.sid, report.status):
            channel = sender_of(form.get("To", "")).channel
            metrics.DELIVERY_RECEIPTS.labels(channel=channel, status=report.status).inc()
        return _twiml()
    except NotAMessage:
        return _twiml()
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"not a Twilio message: {exc}") from None
    await intake.accept(services, message)
    return _twiml()


def _twiml() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


def routes() -> list[web.RouteDef]:
    """The Twilio webhook route."""
    return [web.post(PATH, webhook)]
