"""The figures through the gateway: the summary API, /metrics, and `onethread report`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.analytics import gauges
from gateway.cli import main
from gateway.settings import Secret
from gateway.stores.sqlite import SQLiteStore
from tests.analytics_script import SINCE, UNTIL, WINDOW, record_script
from tests.support import gateway_settings, running_gateway, visitor

TOKEN = "analytics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, keyed by name and labels (the parser refuses a bad scrape)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
async def client(tmp_path: Path):
    async with running_gateway(gateway_settings(tmp_path, admin_token=Secret(TOKEN))) as c:
        yield c


async def test_a_web_chat_conversation_shows_in_the_summary_and_on_metrics(client) -> None:
    before = samples(await (await client.get("/metrics")).text())
    async with visitor(client) as v:
        await v.hello("analytics-visitor")
        await v.say("how long does shipping take")
        await v.say("thanks")
    after = samples(await (await client.get("/metrics")).text())
    resp = await client.get("/api/v1/analytics/summary?since=1h", headers=AUTH)
    assert resp.status == 200
    s = await resp.json()
    assert s["conversations"] == 1
    assert s["deflection_rate"] == 1.0
    assert s["handoff_rate"] == 0.0
    assert s["csat"] is None
    assert s["channel_mix"] == {"webchat": 1.0}
    assert s["by_intent"]["thanks"]["conversations"] == 1
    assert [a["answered"] for a in s["answers_by_article"]] == [1]
    assert s["answers_by_article"][0]["thanked"] == 1

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("onethread_conversations_started_total", channel="webchat") == 1.0
    assert grew("onethread_analytics_events_total", kind="message_in", channel="webchat") == 2.0
    assert grew("onethread_bot_outcomes_total", channel="webchat", decision="answer") == 1.0
    assert grew("onethread_intents_total", intent="thanks") == 1.0


async def test_the_rate_gauges_follow_the_event_log(tmp_path: Path) -> None:
    store = await SQLiteStore(str(tmp_path / "gauges.sqlite3")).open()
    try:
        await record_script(store)
        await gauges.refresh_rates(store, WINDOW, now=UNTIL)
    finally:
        await store.close()
    from gateway.metrics import REGISTRY

    rates = {
        s.labels["figure"]: s.value
        for family in REGISTRY.collect()
        if family.name == "onethread_rate"
        for s in family.samples
    }
    # The gauges cover the 7 days before `now`: the same 7 conversations (and F1 before them).
    assert rates["deflection"] == pytest.approx(3 / 8, abs=1e-4)
    assert rates["csat"] == 0.5


async def test_bad_periods_are_refused_with_the_reason(client) -> None:
    for query, reason in [
        ("since=yesterday", "since"),
        ("since=1h&until=2h", "before until"),
        ("channel=fax", "channel"),
        ("window=-3h", "window"),
    ]:
        resp = await client.get(f"/api/v1/analytics/summary?{query}", headers=AUTH)
        assert resp.status == 400, query
        assert reason in (await resp.json())["error"]
    assert (await client.get("/api/v1/analytics/summary")).status == 401
    spec = await (await client.get("/api/v1/openapi.json")).json()
    summary = spec["paths"]["/api/v1/analytics/summary"]["get"]
    schema = summary["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"conversations", "deflection_rate", "handoff_rate", "csat"} <= set(schema["required"])


@pytest.fixture
def scripted_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store file holding the scripted conversations, named by ONETHREAD_STORE_URL."""
    path = tmp_path / "report.sqlite3"

    async def seed() -> None:
        store = await SQLiteStore(str(path)).open()
        await record_script(store)
        await store.close()

    asyncio.run(seed())
    monkeypatch.setenv("ONETHREAD_STORE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("ONETHREAD_CONFIG", str(tmp_path / "none.toml"))
    return path


PERIOD = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]


def test_report_prints_the_figures_as_json_csv_and_a_table(scripted_store, capsys) -> None:
    assert main(["report", *PERIOD, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["conversations"], s["deflected"], s["csat"]) == (7, 3, 0.5)
    assert s["unanswered"][0]["count"] == 2  # the two questions about Mars, grouped

    assert main(["report", *PERIOD, "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["slice"] == "all"
    assert rows[0]["deflection_rate"] == str(round(3 / 7, 4))
    assert {(r["slice"], r["value"]) for r in rows} >= {("channel", "sms"), ("queue", "general")}

    assert main(["report", *PERIOD, "--window", "2h"]) == 0
    table = capsys.readouterr().out
    assert "deflection rate           57.1%" in table  # 4 of 7 with a 2-hour window
    assert "re-contact window 2 h" in table


def test_report_refuses_a_bad_period(scripted_store, capsys) -> None:
    assert main(["report", "--since", "soon"]) == 2
    assert "since" in capsys.readouterr().err
