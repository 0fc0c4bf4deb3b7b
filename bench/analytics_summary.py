"""How long the operator summary takes over a month of synthetic conversations.

Records N conversations (a mix of bot-answered, re-contacted, handed off, rated) into a fresh
SQLite store, then times reading the event log (merges followed) and computing every figure,
without the unanswered grouping (which embeds text and is measured by the KB benchmarks).

    python bench/analytics_summary.py [--conversations 10000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.analytics.summary import Period, period_journeys, summarize
from gateway.messages import CHANNELS
from gateway.stores.protocol import AnalyticsEvent
from gateway.stores.sqlite import SQLiteStore

START = datetime(2026, 10, 1, tzinfo=UTC)


def conversation(n: int) -> list[AnalyticsEvent]:
    """The events of synthetic conversation n: every fifth handed off, every seventh customer
    comes back on another channel."""
    at = START + timedelta(minutes=4 * n)
    customer, conv = f"cus_{n // 2}", f"con_{n}"
    channel = CHANNELS[n % len(CHANNELS)]
    if n % 7 == 0:
        channel = CHANNELS[(n + 1) % len(CHANNELS)]
    out = [
        AnalyticsEvent("message_in", at, conv, customer, channel, {"new_conversation": True}),
        AnalyticsEvent(
            "message_out",
            at + timedelta(seconds=1),
            conv,
            customer,
            channel,
            {"decision": "answer", "article_id": f"article-{n % 40}", "score": 0.8},
        ),
    ]
    if n % 5 == 0:
        data = {"handoff_id": f"h{n}", "queue": f"q{n % 3}", "reason": "human_agent"}
        for kind, seconds in (("handoff", 60), ("claim", 300), ("agent_reply", 400)):
            out.append(
                AnalyticsEvent(kind, at + timedelta(seconds=seconds), conv, customer, "slack", data)
            )
        out.append(
            AnalyticsEvent("resolve", at + timedelta(seconds=1800), conv, customer, "slack", data)
        )
        out.append(
            AnalyticsEvent(
                "rating",
                at + timedelta(seconds=1900),
                conv,
                customer,
                channel,
                {**data, "rating": 1 + n % 5},
            )
        )
    return out


async def run(conversations: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SQLiteStore(str(Path(tmp) / "bench.sqlite3")).open()
        try:
            key = 0
            for n in range(conversations):
                for event in conversation(n):
                    key += 1
                    await store.events.record(str(key), event)
            until = START + timedelta(minutes=4 * conversations + 1)
            period = Period(START, until)
            began = time.perf_counter()
            convs = await period_journeys(store, period)
            loaded = time.perf_counter()
            summary = summarize(convs, period)
            done = time.perf_counter()
        finally:
            await store.close()
    return {
        "conversations": summary["conversations"],
        "events": key,
        "load_seconds": round(loaded - began, 3),
        "figures_seconds": round(done - loaded, 3),
        "deflection_rate": summary["deflection_rate"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.conversations))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['conversations']} conversations, {result['events']} events: "
        f"read {result['load_seconds']} s, figures {result['figures_seconds']} s"
    )


if __name__ == "__main__":
    main()
