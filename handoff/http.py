"""The Slack endpoint: events, interactivity and slash commands all arrive at one URL."""

from __future__ import annotations

from aiohttp import web

from gateway.http_ops import SERVICES


async def slack_events(request: web.Request) -> web.StreamResponse:
    """Hand the request to Bolt, which checks the signature and acknowledges in time."""
    slack = request.app[SERVICES].slack
    if slack is None:
        raise web.HTTPNotFound(text="Slack is not configured")
    return await slack.handle_http(request)


def slack_routes() -> list[web.RouteDef]:
    """The route to mount when Slack is configured."""
    from handoff.slack_app import PATH  # not at module level: Bolt loads only when Slack is on

    return [web.post(PATH, slack_events)]
