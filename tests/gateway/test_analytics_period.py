"""What a user may type for a summary period, and the clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.analytics.period import parse_period

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_durations_dates_and_defaults() -> None:
    p = parse_period(None, None, None, None, 86400, now=NOW)
    assert (p.since, p.until, p.window, p.channel) == (
        NOW - timedelta(days=7),
        NOW,
        timedelta(days=1),
        None,
    )
    p = parse_period("2026-11-02", "2026-11-05T00:00Z", "", "90m", 86400, now=NOW)
    assert p.since == datetime(2026, 11, 2, tzinfo=UTC)
    assert p.until == datetime(2026, 11, 5, tzinfo=UTC)
    assert p.window == timedelta(minutes=90)
    assert p.channel is None
    assert parse_period("24h", "1h", "sms", "3600", 86400, now=NOW).channel == "sms"


@pytest.mark.parametrize(
    ("since", "until", "channel", "window", "message"),
    [
        ("last week", None, None, None, "since: expected ISO-8601"),
        ("7d", "tomorrow", None, None, "until: expected ISO-8601"),
        ("1h", "2h", None, None, "since must be before until"),
        ("2020-01-01", None, None, None, "at most three years"),
        ("7d", None, "fax", None, "channel must be one of webchat"),
        ("7d", None, None, "0", "window: must be longer than zero"),
        ("7d", None, None, "soon", "window: expected a duration"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    since: str, until: str | None, channel: str | None, window: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(since, until, channel, window, 86400, now=NOW)
