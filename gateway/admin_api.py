"""Admin API for customers (timeline, export, erasure) and deliveries (dead letters)."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from adapters.webchat.frames import entry_frame
from gateway.events_api import event_json
from gateway.http_ops import SERVICES
from gateway.services import Services
from gateway.stores.protocol import Conversation, Customer, OutboxItem


def _conversation(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "status": conv.status,
        "opened_at": conv.opened_at.isoformat(),
        "last_activity_at": conv.last_activity_at.isoformat(),
        "last_channel": conv.last_channel,
        "resolved_at": conv.resolved_at.isoformat() if conv.resolved_at else None,
        "merged_into": conv.merged_into,
    }


async def customer_record(services: Services, customer: Customer) -> dict[str, Any]:
    """The customer with identities, conversations and every entry of every conversation."""
    conversations = await services.store.conversations.list_for(customer.id)
    timeline = []
    for conv in conversations:
        for entry in await services.store.transcript.entries(conv.id):
            frame = entry_frame(entry)
            del frame["type"]
            decided = {k: entry.meta[k] for k in ("decision", "article_id") if k in entry.meta}
            timeline.append({"conversation_id": conv.id, **frame, **decided})
    # Business events (order shipped, cart abandoned…) follow the transcript, oldest first.
    for event in reversed(await services.store.business_events.recent(customer.id, limit=200)):
        timeline.append({"kind": "event", **event_json(event)})
    return {
        "id": customer.id,
        "name": customer.name,
        "created_at": customer.created_at.isoformat(),
        "attributes": customer.attributes,
        "identities": [dataclasses.asdict(i) for i in customer.identities],
        "conversations": [_conversation(c) for c in conversations],
        "timeline": timeline,
    }


async def _customer_or_404(request: web.Request) -> tuple[Services, Customer]:
    services = request.app[SERVICES]
    customer = await services.store.customers.get(request.match_info["customer_id"])
    if customer is None:
        raise web.HTTPNotFound(
            text='{"error": "no such customer"}', content_type="application/json"
        )
    return services, customer


async def get_customer(request: web.Request) -> web.Response:
    """One customer; a merged-away id answers with the surviving record."""
    services, customer = await _customer_or_404(request)
    return web.json_response(await customer_record(services, customer))


async def patch_customer(request: web.Request) -> web.Response:
    """Set customer attributes routing rules can use (vip, language, plan…); null removes one."""
    services, customer = await _customer_or_404(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    attributes = body.get("attributes") if isinstance(body, dict) else None
    if not isinstance(attributes, dict) or not all(
        isinstance(v, str | int | float | bool) or v is None for v in attributes.values()
    ):
        raise web.HTTPBadRequest(
            text='{"error": "expected {\"attributes\": {name: string, number, boolean or null}}"}',
            content_type="application/json",
        )
    updated = await services.store.customers.update_attributes(customer.id, attributes)
    assert updated is not None
    return web.json_response(await customer_record(services, updated))


async def export_customer(request: web.Request) -> web.Response:
    """Everything stored about a customer, as a download."""
    services, customer = await _customer_or_404(request)
    return web.json_response(
        await customer_record(services, customer),
        headers={"Content-Disposition": f'attachment; filename="{customer.id}.json"'},
    )


async def delete_customer(request: web.Request) -> web.Response:
    """Erase a customer and everything stored about them."""
    services, customer = await _customer_or_404(request)
    await services.store.customers.delete(customer.id)
    return web.Response(status=204)


def _delivery(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "conversation_id": item.conversation_id,
        "channel": item.message.to.channel,
        "address": item.message.to.address,
        "text": item.message.text,
        "status": item.status,
        "attempts": item.attempts,
        "last_error": item.last_error,
        "provider_ids": list(item.provider_ids),
        "receipt": item.receipt,
        "created_at": item.created_at.isoformat(),
    }


async def list_deliveries(request: web.Request) -> web.Response:
    """Outbound deliveries by status: `dead` lists the dead letters."""
    status = request.query.get("status", "dead")
    if status not in {"pending", "sent", "dead"}:
        raise web.HTTPBadRequest(
            text='{"error": "status must be pending, sent or dead"}',
            content_type="application/json",
        )
    items = await request.app[SERVICES].store.outbox.list(status)
    return web.json_response({"deliveries": [_delivery(i) for i in items]})


def routes() -> list[web.RouteDef]:
    """The customer and delivery routes of the admin API."""
    return [
        web.get("/api/v1/customers/{customer_id}", get_customer),
        web.patch("/api/v1/customers/{customer_id}", patch_customer),
        web.get("/api/v1/customers/{customer_id}/export", export_customer),
        web.delete("/api/v1/customers/{customer_id}", delete_customer),
        web.get("/api/v1/deliveries", list_deliveries),
    ]
