"""Reading the event log for a period, with merged customers and conversations followed."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from gateway.stores.protocol import AnalyticsEvent, Store

# Conversations merged into merged ones: follow at most this many links (a cycle cannot loop).
MAX_MERGE_HOPS = 10


async def surviving_conversation(store: Store, conversation_id: str) -> str:
    """The conversation a merged one now lives in (itself when never merged, or unknown)."""
    current = conversation_id
    for _ in range(MAX_MERGE_HOPS):
        found = await store.conversations.get(current)
        if found is None or not found.merged_into:
            return current
        current = found.merged_into
    return current


async def surviving_customer(store: Store, customer_id: str) -> str:
    """The customer a merged one was folded into (itself when never merged, or unknown)."""
    found = await store.customers.get(customer_id)
    return found.id if found is not None else customer_id


async def load_events(
    store: Store, since: datetime, until: datetime, window: timedelta
) -> list[AnalyticsEvent]:
    """Events from one window before `since` (conversations that began earlier are recognised as
    such) to one window after `until` (re-contacts of the last conversations are seen), each
    naming the surviving customer and conversation."""
    events = await store.events.between(since - window, until + window)
    customers = {
        cid: await surviving_customer(store, cid) for cid in {e.customer_id for e in events}
    }
    conversations = {
        cid: await surviving_conversation(store, cid) for cid in {e.conversation_id for e in events}
    }
    return [
        dataclasses.replace(
            e,
            customer_id=customers[e.customer_id],
            conversation_id=conversations[e.conversation_id],
        )
        for e in events
    ]
