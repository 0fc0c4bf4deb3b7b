"""Points in time as the API accepts them: ISO-8601, or a duration back from now (`7d`, `24h`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(raw: str, now: datetime | None = None) -> datetime:
    """`7d` → seven days before now; an ISO-8601 time (naive = UTC) → that time."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(raw.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected ISO-8601 or a duration like 7d or 24h, got {raw!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def parse_duration(raw: str) -> timedelta:
    """`24h`, `90m`, `2d` or a number of seconds, as a positive length of time."""
    text = raw.strip()
    match = _DURATION.match(text)
    if match:
        length = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    else:
        try:
            length = timedelta(seconds=float(text))
        except (ValueError, OverflowError):
            raise ValueError(f"expected a duration like 24h or 90m, got {raw!r}") from None
    if length <= timedelta(0):
        raise ValueError(f"must be longer than zero, got {raw!r}")
    return length
