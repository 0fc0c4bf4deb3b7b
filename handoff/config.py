"""Handoff configuration: queues (Slack channel, business hours), routing, triggers, redaction.

Read once at start-up from the YAML file named by ONETHREAD_HANDOFF_CONFIG; with no file there is
one queue, `default`, on SLACK_HANDOFF_CHANNEL, always open. A mistake in the file stops start-up
with a message naming the file and the place in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_QUEUE = "default"


class HandoffConfigError(ValueError):
    """The handoff configuration file is wrong; the message says where."""


@dataclass(frozen=True)
class BusinessHours:
    """When a queue's people work: weekdays and a daily window in one time zone."""

    timezone: str
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time

    def is_open(self, at: datetime) -> bool:
        """True when `at` falls inside the working window."""
        local = at.astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def next_open(self, at: datetime) -> datetime:
        """The next moment the queue opens after `at` (aware, in the queue's time zone)."""
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            start = datetime.combine(day, self.opens, zone)
            if day.weekday() in self.days and start > local:
                return start
        raise HandoffConfigError("business hours have no working day")  # unreachable: days ≠ ∅


@dataclass(frozen=True)
class Queue:
    """Where handoffs of one kind wait: a Slack channel, and who to tell when nobody claims."""

    name: str
    channel: str | None = None  # None: SLACK_HANDOFF_CHANNEL
    escalation_channel: str | None = None
    hours: BusinessHours | None = None  # None: always staffed
    remind_after_seconds: float | None = None  # None: ONETHREAD_HANDOFF_REMIND_SECONDS


@dataclass(frozen=True)
class Facts:
    """What routing rules can look at."""

    channel: str
    intent: str | None = None
    language: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """A rule's condition: every listed part must hold (an empty Match holds always)."""

    intents: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    attributes: tuple[tuple[str, Any], ...] = ()

    def holds(self, facts: Facts) -> bool:
        """True when the facts satisfy every part of the condition."""
        if self.intents and facts.intent not in self.intents:
            return False
        if self.channels and facts.channel not in self.channels:
            return False
        if self.languages and (facts.language or "").split("-")[0] not in self.languages:
            return False
        return all(facts.attributes.get(name) == value for name, value in self.attributes)


@dataclass(frozen=True)
class Route:
    """Send matching handoffs to a queue, with a priority."""

    when: Match
    queue: str
    priority: str = "normal"


@dataclass(frozen=True)
class Trigger:
    """Hand off as soon as a customer message matches, for this reason."""

    when: Match
    reason: str


@dataclass(frozen=True)
class HandoffConfig:
    """Queues, routes (first match wins), triggers and extra redaction patterns."""

    queues: dict[str, Queue] = field(default_factory=lambda: {DEFAULT_QUEUE: Queue(DEFAULT_QUEUE)})
    routes: tuple[Route, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    redact: tuple[re.Pattern[str], ...] = ()

    def route(self, facts: Facts) -> tuple[Queue, str]:
        """The queue and priority for a handoff with these facts."""
        for rule in self.routes:
            if rule.when.holds(facts):
                return self.queues[rule.queue], rule.priority
        return self.queues[DEFAULT_QUEUE], "normal"

    def trigger(self, facts: Facts) -> str | None:
        """The reason to hand off now, when a trigger rule matches."""
        return next((t.reason for t in self.triggers if t.when.holds(facts)), None)


def _fail(where: str, problem: str) -> HandoffConfigError:
    return HandoffConfigError(f"{where}: {problem}")


def _names(where: str, raw: Any) -> frozenset[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(where, "expected a name or a list of names")
    return frozenset(raw)


def _match(where: str, raw: Any) -> Match:
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping with intent, channel, language or attribute")
    unknown = set(raw) - {"intent", "channel", "language", "attribute"}
    if unknown:
        raise _fail(where, f"unknown condition {sorted(unknown)[0]!r}")
    attributes = raw.get("attribute", {})
    if not isinstance(attributes, dict):
        raise _fail(f"{where}.attribute", "expected a mapping of attribute: value")
    return Match(
        intents=_names(f"{where}.intent", raw.get("intent", [])),
        channels=_names(f"{where}.channel", raw.get("channel", [])),
        languages=_names(f"{where}.language", raw.get("language", [])),
        attributes=tuple(sorted(attributes.items())),
    )


def _days(where: str, raw: Any) -> frozenset[int]:
    parts = raw if isinstance(raw, list) else str(raw).split(",")
    days: set[int] = set()
    for part in (str(p).strip().lower()[:3] if "-" not in str(p) else str(p) for p in parts):
        if "-" in part:
            first, last = (x.strip().lower()[:3] for x in part.split("-", 1))
            if first not in DAYS or last not in DAYS:
                raise _fail(where, f"unknown day in {part!r} (use mon … sun)")
            a, b = DAYS.index(first), DAYS.index(last)
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in DAYS:
            days.add(DAYS.index(part))
        else:
            raise _fail(where, f"unknown day {part!r} (use mon … sun)")
    if not days:
        raise _fail(where, "no working day")
    return frozenset(days)


def _clock(where: str, raw: Any) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError:
        raise _fail(where, f"expected HH:MM, got {raw!r}") from None


def _hours(where: str, raw: Any) -> BusinessHours:
    if not isinstance(raw, dict):
        raise _fail(where, "expected timezone, days, open and close")
    zone = str(raw.get("timezone", "UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"{where}.timezone", f"unknown time zone {zone!r}") from None
    opens = _clock(f"{where}.open", raw.get("open", "09:00"))
    closes = _clock(f"{where}.close", raw.get("close", "17:00"))
    if closes <= opens:
        raise _fail(where, "close must be later than open")
    return BusinessHours(zone, _days(f"{where}.days", raw.get("days", "mon-fri")), opens, closes)


def _queue(name: str, raw: Any) -> Queue:
    where = f"queues.{name}"
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping with channel, escalation_channel, hours")
    remind = raw.get("remind_after_seconds")
    if remind is not None and (not isinstance(remind, int | float) or remind <= 0):
        raise _fail(f"{where}.remind_after_seconds", "expected a positive number")
    for key in ("channel", "escalation_channel"):
        if key in raw and not re.fullmatch(r"[CG][A-Z0-9]{2,}", str(raw[key])):
            raise _fail(f"{where}.{key}", f"expected a Slack channel id (C…), got {raw[key]!r}")
    return Queue(
        name=name,
        channel=raw.get("channel"),
        escalation_channel=raw.get("escalation_channel"),
        hours=_hours(f"{where}.hours", raw["hours"]) if "hours" in raw else None,
        remind_after_seconds=float(remind) if remind is not None else None,
    )


def parse_config(data: Any) -> HandoffConfig:
    """Build the configuration from parsed YAML; raises HandoffConfigError naming the place."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _fail("top level", "expected a mapping with queues, routes, triggers, redact")
    unknown = set(data) - {"queues", "routes", "triggers", "redact"}
    if unknown:
        raise _fail("top level", f"unknown key {sorted(unknown)[0]!r}")
    raw_queues = data.get("queues") or {}
    if not isinstance(raw_queues, dict):
        raise _fail("queues", "expected a mapping of queue name to settings")
    queues = {name: _queue(str(name), raw or {}) for name, raw in raw_queues.items()}
    queues.setdefault(DEFAULT_QUEUE, Queue(DEFAULT_QUEUE))
    routes = []
    for i, raw in enumerate(data.get("routes") or []):
        where = f"routes[{i}]"
        if not isinstance(raw, dict) or "queue" not in raw:
            raise _fail(where, "expected when and queue")
        if raw["queue"] not in queues:
            raise _fail(f"{where}.queue", f"no queue named {raw['queue']!r}")
        priority = raw.get("priority", "normal")
        if priority not in {"normal", "high"}:
            raise _fail(f"{where}.priority", "expected normal or high")
        routes.append(Route(_match(f"{where}.when", raw.get("when", {})), raw["queue"], priority))
    triggers = []
    for i, raw in enumerate(data.get("triggers") or []):
        where = f"triggers[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("reason"), str):
            raise _fail(where, "expected when and reason")
        triggers.append(Trigger(_match(f"{where}.when", raw.get("when", {})), raw["reason"]))
    patterns = []
    for i, raw in enumerate(data.get("redact") or []):
        try:
            patterns.append(re.compile(str(raw)))
        except re.error as exc:
            raise _fail(f"redact[{i}]", f"not a regular expression: {exc}") from None
    return HandoffConfig(queues, tuple(routes), tuple(triggers), tuple(patterns))


def load_config(path: Path) -> HandoffConfig:
    """Read and check the YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise HandoffConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return parse_config(data)
    except HandoffConfigError as exc:
        raise HandoffConfigError(f"{path}: {exc}") from None
