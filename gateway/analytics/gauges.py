"""Keeps the rate gauges on /metrics current: the last 7 days' figures, recomputed each minute.

Deflection needs the re-contact window to pass, so it cannot be a counter bumped at the moment
something happens; the gauges show the same figures the summary API computes.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime, timedelta

from gateway.analytics import figures, prom
from gateway.analytics.summary import Period, period_journeys
from gateway.stores.protocol import Store

log = logging.getLogger(__name__)

SPAN = timedelta(days=7)
RATE_FIGURES = {
    "deflection": figures.deflection_rate,
    "handoff": figures.handoff_rate,
    "containment": figures.containment_rate,
    "recontact": figures.recontact_rate,
    "channel_switching": figures.channel_switching_rate,
    "first_contact_resolution": figures.first_contact_resolution,
    "csat": figures.csat,
}


async def refresh_rates(store: Store, window: timedelta, now: datetime | None = None) -> None:
    """Recompute the gauges; a figure with nothing to count is NaN (no data), never a fake 0."""
    now = now or datetime.now(UTC)
    convs = await period_journeys(store, Period(now - SPAN, now, window))

    def compute() -> dict[str, float | None]:
        return {name: figure(convs) for name, figure in RATE_FIGURES.items()}

    # Figures are CPU work over every conversation of the week: kept off the event loop.
    for name, value in (await asyncio.to_thread(compute)).items():
        prom.RATES.labels(figure=name).set(math.nan if value is None else value)


async def follow(store: Store, window_seconds: float, every: float = 60.0) -> None:
    """Refresh the gauges every `every` seconds until cancelled."""
    while True:
        try:
            await refresh_rates(store, timedelta(seconds=window_seconds))
        except Exception:
            log.exception("could not refresh the analytics gauges")
        await asyncio.sleep(every)
