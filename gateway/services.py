"""The gateway's long-lived parts, built once at start-up and shared by the HTTP edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dialogs.bot import Bot
from gateway.feed import Feed
from gateway.identity import IdentityResolver
from gateway.knowledge_keeper import KnowledgeKeeper
from gateway.router import Router
from gateway.settings import Settings
from gateway.stores.protocol import Store
from gateway.workers import DeliveryWorker, InboxWorker
from handoff.desk import HandoffDesk

if TYPE_CHECKING:  # imported by gateway/app.py only when Slack is configured
    from handoff.slack_app import SlackAgents


@dataclass
class Services:
    """Everything a request handler may use."""

    settings: Settings
    store: Store
    feed: Feed
    identity: IdentityResolver
    bot: Bot
    router: Router
    inbox_worker: InboxWorker
    delivery_worker: DeliveryWorker
    knowledge: KnowledgeKeeper
    desk: HandoffDesk
    slack: SlackAgents | None = None
