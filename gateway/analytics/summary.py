"""The analytics summary: every figure for a period, whole and sliced, as one JSON-ready dict.

The API (`GET /api/v1/analytics/summary`), `onethread report` and the dashboard all show this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.analytics import figures
from gateway.analytics.journeys import Journey, journeys
from gateway.analytics.load import load_events
from gateway.stores.protocol import Store
from knowledge.embedder import TextEncoder

MAX_UNANSWERED_GROUPS = 50


@dataclass(frozen=True)
class Period:
    """What to summarise: conversations begun in [since, until), optionally on one channel."""

    since: datetime
    until: datetime
    window: timedelta = timedelta(hours=24)
    channel: str | None = None
    # When the figures are read: conversations that ended less than a window before it may
    # still be re-contacted. None: the moment of reading.
    now: datetime | None = None

    def bucket(self) -> timedelta:
        """Hours for a period of up to two days, days up to a year, weeks beyond."""
        span = self.until - self.since
        if span <= timedelta(days=2):
            return timedelta(hours=1)
        return timedelta(days=1) if span <= timedelta(days=366) else timedelta(weeks=1)


def in_period(all_journeys: list[Journey], period: Period) -> list[Journey]:
    """The conversations that began in the period (on its channel, when one is given)."""
    return [
        j
        for j in all_journeys
        if period.since <= j.started_at < period.until
        and (period.channel is None or j.channel == period.channel)
    ]


def summarize(
    convs: list[Journey],
    period: Period,
    encoder: TextEncoder | None = None,
    closest: Callable[[str], dict | None] | None = None,
) -> dict:
    """Every figure over these conversations; unanswered questions need an encoder to group."""
    groups = figures.unanswered_questions(convs, encoder) if encoder is not None else []
    unanswered = [g.to_dict() for g in groups[:MAX_UNANSWERED_GROUPS]]
    if closest is not None:
        for group in unanswered:
            group["closest_article"] = closest(group["representative"])
    bucket = period.bucket()
    now = period.now or datetime.now(UTC)
    return {
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "channel": period.channel,
        "window_seconds": period.window.total_seconds(),
        **figures.core_figures(convs),
        "provisional": figures.provisional(convs, period.window, now),
        "time_to_claim_distribution": figures.time_to_claim_distribution(convs),
        "answers_by_article": figures.answers_by_article(convs),
        "unanswered": unanswered,
        "by_channel": figures.sliced(convs, lambda j: j.channel),
        "by_intent": figures.sliced(convs, lambda j: j.intent),
        "by_queue": figures.sliced(convs, lambda j: j.queue),
        "bucket_seconds": bucket.total_seconds(),
        "by_bucket": figures.by_bucket(convs, period.since, period.until, bucket),
    }


async def period_journeys(store: Store, period: Period) -> list[Journey]:
    """The period's conversations, read from the store's event log."""
    events = await load_events(store, period.since, period.until, period.window)
    return in_period(journeys(events, period.window), period)
