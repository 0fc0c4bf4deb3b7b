"""Admin API for business events: `POST /api/v1/customers/{id}/events`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway import business_events
from gateway.http_ops import SERVICES
from gateway.settings import Settings
from gateway.stores.protocol import BusinessEvent


def sendable_channels(settings: Settings) -> set[str]:
    """Channels the gateway can start a message on, from their credentials."""
    channels = set()
    if settings.twilio is not None:
        channels |= {"sms", "whatsapp"}
    if settings.telegram is not None:
        channels.add("telegram")
    if settings.meta is not None and settings.meta.page:
        channels |= {"messenger", "instagram"}
    if settings.meta is not None and settings.meta.whatsapp:
        channels.add("whatsapp")
    return channels


def event_json(event: BusinessEvent) -> dict[str, Any]:
    """An event as the API shows it."""
    return {
        "id": event.id,
        "type": event.type,
        "at": event.at.isoformat(),
        "data": event.data,
        "key": event.key,
    }


async def post_event(request: web.Request) -> web.Response:
    """Record an event in the customer's timeline; with "notify": true, message the customer."""
    services = request.app[SERVICES]
    customer = await services.store.customers.get(request.match_info["customer_id"])
    if customer is None:
        return web.json_response({"error": "no such customer"}, status=404)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    try:
        parsed = business_events.parse_request(body, datetime.now(UTC))
    except business_events.EventError as exc:
        return web.json_response({"error": "invalid event", "problems": exc.problems}, status=422)
    done = await business_events.record(
        services.store, customer, parsed, sendable_channels(services.settings),
        services.settings.conversation_idle_seconds,
    )
    if done.entries:
        services.feed.publish(customer.id, list(done.entries))
        services.delivery_worker.wake()
    notified = None
    if done.notified is not None:
        notified = {"channel": done.notified.channel, "address": done.notified.address}
    return web.json_response(
        {"event": event_json(done.event), "new": done.new, "notified": notified},
        status=201 if done.new else 200,
    )


def routes() -> list[web.RouteDef]:
    """The business event routes of the admin API."""
    return [web.post("/api/v1/customers/{customer_id}/events", post_event)]
