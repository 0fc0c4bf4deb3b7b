"""/metrics stays bounded: 10,000 distinct customers add no label values of their own."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.analytics import prom
from gateway.messages import CHANNELS
from gateway.metrics import REGISTRY
from gateway.stores.protocol import AnalyticsEvent
from tests.support import REPO_ROOT

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CUSTOMERS = 10_000


def events_of(n: int) -> list[tuple[AnalyticsEvent, float | None]]:
    """One customer's conversation; reasons, intents and queues vary as widely as they can."""
    customer, conv = f"cus_{n:05d}", f"con_{n:05d}"
    channel = CHANNELS[n % len(CHANNELS)]

    def event(kind: str, ch: str | None = channel, **data: object) -> AnalyticsEvent:
        return AnalyticsEvent(kind, T0, conv, customer, ch, dict(data))

    return [
        (event("message_in", new_conversation=True), None),
        (event("message_out", decision="intent", intent=f"intent-{n % 500}"), None),
        (event("recontact", previous_channel=CHANNELS[(n + 1) % 6], gap_seconds=n), float(n)),
        (event("handoff", reason=f"rule:{customer}", queue=f"queue-{n % 300}"), None),
        (event("claim", "slack", queue=f"queue-{n % 300}"), float(n % 7200)),
        (event("agent_reply", "slack", queue=f"queue-{n % 300}", first=True), 60.0),
        (event("resolve", "slack", queue=f"queue-{n % 300}"), 600.0),
        (event("rating", channel, queue=f"queue-{n % 300}", rating=1 + n % 5), None),
    ]


def test_label_sets_stay_bounded_under_ten_thousand_customers() -> None:
    for n in range(CUSTOMERS):
        for event, duration in events_of(n):
            prom.observe(event, duration)
    text = generate_latest(REGISTRY).decode()
    series: dict[str, set[tuple]] = defaultdict(set)
    values: dict[str, set[str]] = defaultdict(set)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series[family.name].add(tuple(sorted(sample.labels.items())))
            for name, value in sample.labels.items():
                values[name].add(value)
    assert not any(v.startswith(("cus_", "con_")) for vs in values.values() for v in vs)
    assert "rule" in values["reason"]
    assert not any(":" in reason for reason in values["reason"])
    assert len(values["queue"]) <= prom.QUEUES.limit + 1
    assert len(values["intent"]) <= prom.INTENTS.limit + 1
    assert "other" in values["queue"] and "other" in values["intent"]
    assert values["rating"] <= {"1", "2", "3", "4", "5", "other"}
    total = sum(len(s) for s in series.values())
    # Fixed sets times capped sets: a few thousand series at most, whatever the traffic.
    assert total < 5_000, total


def test_a_stranger_label_value_is_folded_into_other() -> None:
    label = prom.BoundedLabel(limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", None)] == ["a", "b", "other", "a", "other"]
    assert prom.reason_label("rule:refunds-over-500") == "rule"


def test_the_grafana_dashboard_queries_only_metrics_the_gateway_exports() -> None:
    dashboard = json.loads((REPO_ROOT / "deploy" / "grafana-dashboard.json").read_text())
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    exported = {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, ("",))
    }
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"onethread_\w+", target["expr"])
    }
    assert used, "the dashboard queries nothing"
    assert used <= exported, used - exported
    assert {"onethread_rate", "onethread_handoffs_total"} <= used
