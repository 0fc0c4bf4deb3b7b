"""The admin API described as OpenAPI 3.1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.messages import CHANNELS

_ID = {"in": "path", "required": True, "schema": {"type": "string"}}
_JSON = {"content": {"application/json": {"schema": {"type": "object"}}}}
_ARTICLE = {
    "type": "object",
    "required": ["title", "questions", "body"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
        "title": {"type": "string"},
        "questions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
        "sms": {"type": ["string", "null"], "maxLength": 320},
        "body": {"type": "string"},
        "author": {"type": "string", "description": "who makes the change (history)"},
    },
}
_DECISION = {
    "type": "object",
    "properties": {
        "decision": {"enum": ["answer", "intent", "clarify", "handoff", "fallback"]},
        "article_id": {"type": ["string", "null"]},
        "intent": {"type": ["string", "null"]},
        "score": {"type": "number"},
        "candidates": {"type": "array", "items": {"type": "object"}},
        "text": {"type": "string"},
        "quick_replies": {"type": "array", "items": {"type": "object"}},
    },
}

_EVENT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$"},
        "id": {"type": "string", "description": "the sender's id; posted again, nothing changes"},
        "at": {"type": "string", "format": "date-time"},
        "data": {"type": "object", "description": "e.g. order_number, tracking_url, eta, ticket"},
        "notify": {"type": "boolean", "default": False},
        "message": {"type": "string", "maxLength": 1000},
        "channel": {"enum": ["sms", "whatsapp", "telegram", "messenger", "instagram", "webchat"]},
    },
}
_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_SECONDS = {
    "type": "object",
    "properties": {k: {"type": ["number", "null"]} for k in ("count", "mean", "p50", "p90", "max")},
}
_SUMMARY = {
    "type": "object",
    "required": ["conversations", "deflection_rate", "handoff_rate", "csat"],
    "properties": {
        "since": {"type": "string"},
        "until": {"type": "string"},
        "channel": {"type": ["string", "null"]},
        "window_seconds": {"type": "number"},
        "conversations": {"type": "integer"},
        "deflected": {"type": "integer"},
        "handoffs": {"type": "integer"},
        "ratings": {"type": "integer"},
        "deflection_rate": _RATE,
        "handoff_rate": _RATE,
        "containment_rate": _RATE,
        "recontact_rate": _RATE,
        "channel_switching_rate": _RATE,
        "first_contact_resolution": _RATE,
        "csat": _RATE,
        "csat_average": {"type": ["number", "null"]},
        "handoffs_by_reason": {"type": "object", "additionalProperties": {"type": "integer"}},
        "channel_mix": {"type": "object", "additionalProperties": {"type": "number"}},
        "time_to_claim": _SECONDS,
        "first_response_time": _SECONDS,
        "resolution_time": _SECONDS,
        "journey_time": _SECONDS,
        "time_to_claim_distribution": {"type": "array", "items": {"type": "object"}},
        "answers_by_article": {"type": "array", "items": {"type": "object"}},
        "unanswered": {"type": "array", "items": {"type": "object"}},
        "by_channel": {"type": "object"},
        "by_intent": {"type": "object"},
        "by_queue": {"type": "object"},
        "bucket_seconds": {"type": "number"},
        "by_bucket": {"type": "array", "items": {"type": "object"}},
    },
}


def _op(
    summary: str,
    ok: int = 200,
    body: dict | None = None,
    schema: dict | None = None,
    **extra: Any,
) -> dict[str, Any]:
    content = {"content": {"application/json": {"schema": schema}}} if schema else _JSON
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {"description": "OK", **(content if ok != 204 else {})},
            "401": {"description": "missing or wrong bearer token"},
        },
        **extra,
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "onethread admin API", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/customers/{customer_id}": {
            "parameters": [{"name": "customer_id", **_ID}],
            "get": _op(
                "a customer: identities, conversations, timeline; merged ids answer "
                "with the surviving record"
            ),
            "patch": _op(
                'set attributes for routing rules: {"attributes": {"vip": true}}; null removes'
            ),
            "delete": _op("erase the customer and everything stored about them", ok=204),
        },
        "/api/v1/customers/{customer_id}/export": {
            "parameters": [{"name": "customer_id", **_ID}],
            "get": _op("everything stored about a customer, as a download"),
        },
        "/api/v1/customers/{customer_id}/events": {
            "parameters": [{"name": "customer_id", **_ID}],
            "post": _op(
                "record a business event (order_shipped, cart_abandoned, delivery_delayed, "
                "ticket_updated…) in the customer's timeline; with notify, message the customer "
                "on their preferred channel; the same id twice is one event (200)",
                ok=201,
                body=_EVENT,
            ),
        },
        "/api/v1/deliveries": {
            "get": _op(
                "outbound deliveries by status (pending, sent, dead = dead letters)",
                parameters=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"enum": ["pending", "sent", "dead"]},
                    }
                ],
            ),
        },
        "/api/v1/kb/articles": {
            "get": _op(
                "articles, filtered by ?q=",
                parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}}],
            ),
            "post": _op("create an article (422 lists every problem)", ok=201, body=_ARTICLE),
        },
        "/api/v1/kb/articles/{article_id}": {
            "parameters": [{"name": "article_id", **_ID}],
            "get": _op("one article"),
            "put": _op("replace an article (a new knowledge version)", body=_ARTICLE),
            "delete": _op("retire an article", ok=204),
        },
        "/api/v1/kb/query": {
            "post": _op(
                "the decision for a message",
                body={
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string"}, "channel": {"type": "string"}},
                },
                schema=_DECISION,
            ),
        },
        "/api/v1/kb/articles/{article_id}/questions": {
            "parameters": [{"name": "article_id", **_ID}],
            "post": _op(
                "add a customer's wording as a question variant",
                body={
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string"}, "author": {"type": "string"}},
                },
            ),
        },
        "/api/v1/kb/unanswered": {
            "get": _op(
                "questions the bot could not answer, grouped by similarity",
                parameters=[
                    {
                        "name": "since",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "ISO-8601 or a duration such as 7d; default 30d",
                    }
                ],
            ),
        },
        "/api/v1/kb/effectiveness": {
            "get": _op(
                "per article: answered, re-asked, handed off",
                parameters=[{"name": "since", "in": "query", "schema": {"type": "string"}}],
            ),
        },
        "/api/v1/analytics/summary": {
            "get": _op(
                "operator figures for conversations begun in a period: conversations, "
                "deflection_rate, handoff_rate, csat and the rest, whole and by channel, "
                "intent, queue and time bucket (definitions in the README)",
                parameters=[
                    {
                        "name": "since",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "ISO-8601 or a duration such as 7d, 24h; default 7d",
                    },
                    {
                        "name": "until",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "ISO-8601 or a duration back from now; default now",
                    },
                    {
                        "name": "channel",
                        "in": "query",
                        "schema": {"enum": list(CHANNELS)},
                        "description": "only conversations begun on this channel",
                    },
                    {
                        "name": "window",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "re-contact window for deflection, such as 24h; "
                        "default ONETHREAD_DEFLECTION_WINDOW_SECONDS",
                    },
                ],
                schema=_SUMMARY,
            ),
        },
        "/api/v1/kb/versions": {"get": _op("knowledge versions: who, when, what")},
        "/api/v1/kb/versions/{number}": {
            "parameters": [
                {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": _op("the content of one version"),
        },
        "/api/v1/kb/versions/{number}/revert": {
            "parameters": [
                {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "post": _op("make a version current again, as a new version"),
        },
    },
}


async def openapi(request: web.Request) -> web.Response:
    """The specification."""
    return web.json_response(SPEC)


def routes() -> list[web.RouteDef]:
    """The specification's route."""
    return [web.get("/api/v1/openapi.json", openapi)]
