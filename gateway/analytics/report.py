"""`onethread report`: the operator figures from the configured store, as a table, JSON or CSV."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from typing import TextIO

from gateway.analytics.period import parse_period
from gateway.analytics.summary import period_journeys, summarize
from gateway.settings import Settings
from gateway.stores import open_store

RATES = (
    ("deflection_rate", "deflection rate"),
    ("handoff_rate", "handoff rate"),
    ("containment_rate", "containment"),
    ("recontact_rate", "re-contact rate"),
    ("first_contact_resolution", "first-contact resolution"),
    ("channel_switching_rate", "channel switching"),
    ("csat", "CSAT (4-5 of 5)"),
)
TIMES = (
    ("time_to_claim", "time to claim"),
    ("first_response_time", "first agent response"),
    ("resolution_time", "resolution time"),
    ("journey_time", "journey time"),
)
SLICES = ("by_channel", "by_intent", "by_queue")
CSV_COLUMNS = (
    "slice",
    "value",
    "conversations",
    "deflected",
    "handoffs",
    *(key for key, _ in RATES),
    *(f"{key}_p50" for key, _ in TIMES),
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.0f}s"
    return f"{value / 60:.1f}m" if value < 7200 else f"{value / 3600:.1f}h"


def print_table(s: dict, out: TextIO) -> None:
    """The figures for people: headline, times, reasons, channels, slices, unanswered."""
    hours = s["window_seconds"] / 3600
    scope = f" on {s['channel']}" if s["channel"] else ""
    print(f"conversations begun {s['since']} to {s['until']}{scope}", file=out)
    print(f"re-contact window {hours:g} h", file=out)
    print(f"  {'conversations':<26}{s['conversations']}", file=out)
    for key, label in RATES:
        print(f"  {label:<26}{_pct(s[key])}", file=out)
    print(f"  {'ratings':<26}{s['ratings']} (average {s['csat_average'] or '-'})", file=out)
    print("times (median / p90 / count)", file=out)
    for key, label in TIMES:
        t = s[key]
        print(f"  {label:<26}{_secs(t['p50'])} / {_secs(t['p90'])} / {t['count']}", file=out)
    if s["handoffs_by_reason"]:
        print("handoffs by reason", file=out)
        for reason, n in s["handoffs_by_reason"].items():
            print(f"  {reason:<26}{n}", file=out)
    if s["channel_mix"]:
        print("channel mix (customer messages)", file=out)
        for channel, share in s["channel_mix"].items():
            print(f"  {channel:<26}{_pct(share)}", file=out)
    for key in SLICES:
        print(f"{key.replace('_', ' ')}: conversations, deflection, handoff, CSAT", file=out)
        for name, f in s[key].items():
            row = f"{f['conversations']:>5}  {_pct(f['deflection_rate']):>7}"
            print(
                f"  {name:<24}{row}  {_pct(f['handoff_rate']):>7}  {_pct(f['csat']):>7}", file=out
            )
    if s["unanswered"]:
        print("unanswered questions (times asked)", file=out)
        for group in s["unanswered"][:10]:
            print(f"  {group['count']:>4}  {group['representative']}", file=out)


def _csv_row(slice_name: str, value: str, f: dict) -> dict:
    row = {"slice": slice_name, "value": value}
    row.update({k: f[k] for k in ("conversations", "deflected", "handoffs")})
    row.update({key: f[key] for key, _ in RATES})
    row.update({f"{key}_p50": f[key]["p50"] for key, _ in TIMES})
    return row


def write_csv(s: dict, out: TextIO) -> None:
    """One row per slice: the whole period, each channel, intent, queue and time bucket."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(_csv_row("all", "", s))
    for key in SLICES:
        for name, figures in s[key].items():
            writer.writerow(_csv_row(key.removeprefix("by_"), name, figures))
    for bucket in s["by_bucket"]:
        writer.writerow(_csv_row("bucket", bucket["start"], bucket))


async def report(
    settings: Settings,
    since: str,
    until: str | None,
    channel: str | None,
    window: str | None,
    output: str,
) -> int:
    """Print the figures; `output` is table, json or csv."""
    try:
        period = parse_period(since, until, channel, window, settings.deflection_window_seconds)
    except ValueError as exc:
        print(f"onethread report: {exc}", file=sys.stderr)
        return 2
    store = await open_store(settings.store_url)
    try:
        convs = await period_journeys(store, period)
    finally:
        await store.close()
    from gateway.knowledge_loader import shared_embedder

    summary = await asyncio.to_thread(summarize, convs, period, shared_embedder())
    if output == "json":
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    elif output == "csv":
        write_csv(summary, sys.stdout)
    else:
        print_table(summary, sys.stdout)
    return 0
