"""A summary period from what a user typed (API query or command line), checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.analytics.summary import Period
from gateway.messages import CHANNELS
from gateway.timespec import parse_duration, parse_since

DEFAULT_SINCE = "7d"
LONGEST = timedelta(days=3 * 366)


def parse_period(
    since: str | None,
    until: str | None,
    channel: str | None,
    window: str | None,
    default_window: float,
    now: datetime | None = None,
) -> Period:
    """`since`/`until`: ISO-8601 or a duration back from now; raises ValueError naming the field."""
    now = now or datetime.now(UTC)
    try:
        start = parse_since(since or DEFAULT_SINCE, now)
    except ValueError as exc:
        raise ValueError(f"since: {exc}") from None
    try:
        end = parse_since(until, now) if until else now
    except ValueError as exc:
        raise ValueError(f"until: {exc}") from None
    if start >= end:
        raise ValueError("since must be before until")
    if end - start > LONGEST:
        raise ValueError("the period can be at most three years long")
    if channel and channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    try:
        length = parse_duration(window) if window else timedelta(seconds=default_window)
    except ValueError as exc:
        raise ValueError(f"window: {exc}") from None
    return Period(since=start, until=end, window=length, channel=channel or None)
