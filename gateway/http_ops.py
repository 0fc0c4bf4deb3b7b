"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.metrics import REGISTRY
from gateway.services import Services

SERVICES = web.AppKey("services", Services)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the store answers and the knowledge base is loaded."""
    services = request.app.get(SERVICES)
    checks = {"store": False, "knowledge": False}
    if services is not None:
        try:
            checks["store"] = await services.store.ping()
        except Exception:
            checks["store"] = False
        checks["knowledge"] = services.knowledge.version > 0
    ready = all(checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def routes() -> list[web.RouteDef]:
    """The operational routes."""
    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get("/metrics", metrics),
    ]
