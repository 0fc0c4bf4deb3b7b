"""The aiohttp application: routes, and the services' start-up and shutdown as mirror images."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from adapters import install_channels, open_senders
from dialogs.bot import Bot
from dialogs.flow_setup import build_flows
from gateway import (
    admin_api,
    admin_pages,
    analytics_api,
    events_api,
    faults,
    http_ops,
    intake,
    kb_api,
    openapi,
)
from gateway.admin_auth import admin_auth
from gateway.analytics import gauges
from gateway.feed import Feed
from gateway.http_ops import SERVICES
from gateway.knowledge_keeper import KnowledgeKeeper, Loaded
from gateway.knowledge_loader import build_answerer, current_knowledge, thresholds_from
from gateway.router import Router
from gateway.services import Services
from gateway.settings import Settings
from gateway.stores import open_relay, open_store
from gateway.workers import DeliveryWorker, InboxWorker
from handoff.desk import HandoffDesk
from handoff.http import slack_routes

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
# How often unclaimed handoffs are checked for a reminder; reminders come after minutes.
REMINDER_CHECK_SECONDS = 5.0


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    faults.arm(settings.crash_at)
    store = await open_store(settings.store_url, settings.reclaim_idle_seconds)
    # Processes starting together on an empty shared store import the seed knowledge once.
    async with store.locks.hold("knowledge-seed"):
        version, kb = await current_knowledge(store.knowledge, settings.kb_dir)
    thresholds = thresholds_from(settings)
    answerer = await build_answerer(kb, thresholds)
    bot = Bot(answerer, flows=build_flows(settings))
    feed = Feed()
    slack = None
    if settings.slack:
        # Imported only when Slack is configured: slack_bolt and slack_sdk cost ~5 MB and ~0.3 s.
        from handoff.slack_app import SlackAgents

        slack = SlackAgents(settings.slack, store, settings.handoff_config)
    desk = HandoffDesk(
        store,
        settings.handoff_config,
        slack.directory if slack else None,
        settings.handoff_remind_seconds,
        feed.publish,
    )
    router = Router(store, bot, feed, settings.conversation_idle_seconds, desk)
    owner = f"proc-{uuid.uuid4().hex[:8]}"
    senders = await open_senders(settings)
    if slack is not None:
        senders[slack.sender.channel] = slack.sender
    services = Services(
        settings=settings,
        store=store,
        feed=feed,
        identity=router.identity,
        bot=bot,
        router=router,
        inbox_worker=InboxWorker(store.inbox, router.handle, owner),
        delivery_worker=DeliveryWorker(
            store.outbox,
            senders,
            owner,
            max_attempts=settings.delivery_max_attempts,
            on_failure=desk.delivery_failed,
        ),
        knowledge=KnowledgeKeeper(store.knowledge, bot, Loaded(version, kb, answerer), thresholds),
        desk=desk,
        slack=slack,
    )
    router.on_queued = desk.on_queued = services.delivery_worker.wake
    relay = await open_relay(store, feed, services.knowledge.refresh)
    app[SERVICES] = services
    tasks = [
        asyncio.create_task(services.delivery_worker.run()),
        asyncio.create_task(services.knowledge.follow(settings.knowledge_poll_seconds)),
        asyncio.create_task(gauges.follow(store, settings.deflection_window_seconds)),
    ]
    if slack is not None:
        slack.accept = functools.partial(intake.accept, services)
        await slack.start()
        tasks.append(asyncio.create_task(desk.watch(REMINDER_CHECK_SECONDS)))
    if not settings.inbox_paused:
        tasks.append(asyncio.create_task(services.inbox_worker.run()))
    log.info("ready: knowledge version %s, %d articles", version, len(kb.articles))
    yield
    # Stop taking work, finish what is in hand: inbox first, since it feeds the outbox.
    await services.inbox_worker.drain()
    await services.delivery_worker.drain()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if slack is not None:
        await slack.close()
    await relay.close()
    for sender in senders.values():
        await sender.close()
    if bot.flows is not None:
        await bot.flows.close()
    await store.close()


def create_app(settings: Settings) -> web.Application:
    """The whole gateway as one aiohttp application."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[admin_auth(settings.admin_token)],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_services)
    app.add_routes(http_ops.routes())
    app.add_routes(admin_api.routes())
    app.add_routes(events_api.routes())
    app.add_routes(admin_pages.routes())
    app.add_routes(kb_api.routes())
    app.add_routes(analytics_api.routes())
    app.add_routes(openapi.routes())
    install_channels(app, settings)
    if settings.slack is not None:
        app.add_routes(slack_routes())
    return app
