"""Operational endpoints: alive, ready, and metrics that Prometheus can parse."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support import gateway_settings, running_gateway, visitor


def counters(text: str) -> dict[tuple[str, tuple], float]:
    """Every `_total` sample of a scrape, keyed by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.endswith("_total")
    }


async def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    async with running_gateway(gateway_settings(tmp_path)) as client:
        assert await (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status == 200
        assert (await ready.json())["checks"] == {"store": True, "knowledge": True}
        before = counters(await (await client.get("/metrics")).text())
        async with visitor(client) as v:
            await v.hello("metrics-visitor")
            await v.say("do you price match")
            await v.ws.send_str("not json")
            await v.until(lambda f: f["type"] == "error")
        after = counters(await (await client.get("/metrics")).text())

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("onethread_messages_received_total", channel="webchat") == 1.0
    assert grew("onethread_webchat_bad_frames_total", code="bad_json") == 1.0
    decisions = sum(v for k, v in after.items() if k[0] == "onethread_bot_decisions_total")
    assert (
        decisions - sum(v for k, v in before.items() if k[0] == "onethread_bot_decisions_total")
        == 1.0
    )
