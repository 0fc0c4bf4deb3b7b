"""Reading the event log for a period, with merged customers and conversations followed."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from gateway.stores.protocol import AnalyticsEvent, Conversation, Store

# Conversations merged into merged ones: follow at most this many links (a cycle cannot loop).
MAX_MERGE_HOPS = 10


async def surviving_conversation(store: Store, conversation_id: str) -> Conversation | None:
    """The conversation a merged one now lives in (itself when never merged); None if unknown."""
    found = await store.conversations.get(conversation_id)
    for _ in range(MAX_MERGE_HOPS):
        if found is None or not found.merged_into:
            return found
        found = await store.conversations.get(found.merged_into) or found
    return found


async def load_events(
    store: Store, since: datetime, until: datetime, window: timedelta
) -> list[AnalyticsEvent]:
    """Events from one window before `since` (conversations that began earlier are recognised as
    such) to one window after `until` (re-contacts of the last conversations are seen), each
    naming the surviving conversation and its customer.

    A merge moves conversations to the surviving customer, so the surviving conversation names
    the customer too; events of conversations the store no longer knows keep their own ids,
    with the customer followed through merges.
    """
    events = await store.events.between(since - window, until + window)
    owners: dict[str, tuple[str, str] | None] = {}
    for conversation_id in {e.conversation_id for e in events}:
        found = await surviving_conversation(store, conversation_id)
        owners[conversation_id] = (found.id, found.customer_id) if found else None
    customers: dict[str, str] = {}
    out = []
    for event in events:
        owner = owners[event.conversation_id]
        if owner is None:
            if event.customer_id not in customers:
                known = await store.customers.get(event.customer_id)
                customers[event.customer_id] = known.id if known else event.customer_id
            owner = (event.conversation_id, customers[event.customer_id])
        out.append(dataclasses.replace(event, conversation_id=owner[0], customer_id=owner[1]))
    return out
