"""Admin API for the operator figures: GET /api/v1/analytics/summary."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from gateway.analytics.period import parse_period
from gateway.analytics.summary import period_journeys, summarize
from gateway.http_ops import SERVICES
from gateway.knowledge_loader import shared_embedder


async def summary(request: web.Request) -> web.Response:
    """Every operator figure for conversations begun in ?since= … ?until= (on ?channel=)."""
    services = request.app[SERVICES]
    q = request.query
    try:
        period = parse_period(
            q.get("since"),
            q.get("until"),
            q.get("channel"),
            q.get("window"),
            services.settings.deflection_window_seconds,
        )
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": str(exc)}), content_type="application/json"
        ) from None
    convs = await period_journeys(services.store, period)
    answerer = services.knowledge.current.answerer

    def closest(text: str) -> dict | None:
        top = answerer.query(text).candidates
        return next(
            ({"article_id": c.article_id, "score": c.score} for c in top if c.article_id), None
        )

    # Grouping embeds every unanswered question: CPU work, kept off the event loop.
    result = await asyncio.to_thread(summarize, convs, period, shared_embedder(), closest)
    return web.json_response(result)


def routes() -> list[web.RouteDef]:
    """The analytics routes of the admin API."""
    return [web.get("/api/v1/analytics/summary", summary)]
