"""The aiohttp application: routes, and the services' start-up and shutdown as mirror images."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from adapters import install_channels, open_senders
from dialogs.bot import Bot
from gateway import admin_api, admin_pages, analytics_api, faults, http_ops, kb_api, openapi
from gateway.admin_auth import admin_auth
from gateway.analytics import gauges
from gateway.feed import Feed
from gateway.http_ops import SERVICES
from gateway.knowledge_keeper import KnowledgeKeeper, Loaded
from gateway.knowledge_loader import build_answerer, current_knowledge, thresholds_from
from gateway.router import Router
from gateway.services import Services
from gateway.settings import Settings
from gateway.stores import open_store
from gateway.workers import DeliveryWorker, InboxWorker

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    faults.arm(settings.crash_at)
    store = await open_store(settings.store_url)
    version, kb = await current_knowledge(store.knowledge, settings.kb_dir)
    thresholds = thresholds_from(settings)
    answerer = await build_answerer(kb, thresholds)
    bot = Bot(answerer)
    feed = Feed()
    router = Router(store, bot, feed, settings.conversation_idle_seconds)
    owner = f"proc-{uuid.uuid4().hex[:8]}"
    senders = await open_senders(settings)
    services = Services(
        settings=settings,
        store=store,
        feed=feed,
        identity=router.identity,
        bot=bot,
        router=router,
        inbox_worker=InboxWorker(store.inbox, router.handle, owner),
        delivery_worker=DeliveryWorker(
            store.outbox, senders, owner, max_attempts=settings.delivery_max_attempts
        ),
        knowledge=KnowledgeKeeper(store.knowledge, bot, Loaded(version, kb, answerer), thresholds),
    )
    router.on_queued = services.delivery_worker.wake
    app[SERVICES] = services
    tasks = [
        asyncio.create_task(services.delivery_worker.run()),
        asyncio.create_task(services.knowledge.follow(settings.knowledge_poll_seconds)),
        asyncio.create_task(gauges.follow(store, settings.deflection_window_seconds)),
    ]
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
    for sender in senders.values():
        await sender.close()
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
    app.add_routes(admin_pages.routes())
    app.add_routes(kb_api.routes())
    app.add_routes(analytics_api.routes())
    app.add_routes(openapi.routes())
    install_channels(app, settings)
    return app
