#!/usr/bin/env python
"""End-to-end SMS throughput and p99 of the gateway at scale: 1 process on SQLite, 1 and 2
processes on Redis, and a bare aiohttp handler as the reference, all in the same run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp
import harness
import sms_throughput as sms
from harness import LOOPBACK, Server

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes import load_payload  # noqa: E402
from tests.fakes.signing import twilio_form_body, twilio_headers  # noqa: E402

PUBLIC_URL = "http://gateway.bench.invalid"  # what the processes behind one proxy all sign with
CONFIGS = ("sqlite x1", "redis x1", "redis x2", "baseline")


async def run_load(
    ports: list[int], signed_as: str, feed: sms.ReplyFeed, args: argparse.Namespace, tag: int
) -> tuple[sms.Tally, int]:
    """Closed-loop customers; each message goes to the next process in turn, as a round-robin
    proxy would send it. Returns the tally and the replies beyond one per message."""
    tally = sms.Tally(total=args.warmup + args.messages, warmup=args.warmup)
    template = {
        k: v for k, v in load_payload("twilio/sms_inbound").items() if k != "MessagingServiceSid"
    }
    customers = [sms.Customer(f"+1555{tag}{i:06d}") for i in range(args.customers)]
    feed.reset(customers)
    rotation = iter(range(10**12))

    async def customer_loop(index: int, session: aiohttp.ClientSession) -> None:
        customer = customers[index]
        questions = harness.questions_from(index % len(harness.QUESTIONS))
        turns = 0
        while tally.take_ticket():
            turns += 1
            text = next(questions)
            if args.distinct:
                text = f"{text} (ref {index}.{turns})"
            form = sms.sms_form(template, customer.number, text)
            headers = twilio_headers(sms.AUTH_TOKEN, signed_as + sms.WEBHOOK_PATH, form)
            port = ports[next(rotation) % len(ports)]
            url = f"http://{LOOPBACK}:{port}{sms.WEBHOOK_PATH}"
            sent = time.monotonic()
            async with session.post(url, data=twilio_form_body(form), headers=headers) as resp:
                await resp.read()
                acked = time.monotonic()
                if resp.status != 200:
                    raise RuntimeError(f"webhook answered HTTP {resp.status}: {await resp.text()}")
            async with asyncio.timeout(sms.REPLY_TIMEOUT_S):
                while len(customer.arrivals) < turns:
                    if feed.refused:
                        raise RuntimeError(f"fake Twilio API refused: {feed.refused[0]}")
                    customer.changed.clear()
                    await customer.changed.wait()
            tally.record_turn(customer.arrivals[turns - 1] - sent, acked - sent, time.monotonic())

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.TaskGroup() as group:
        for index in range(args.customers):
            group.create_task(customer_loop(index, session))
    await asyncio.sleep(sms.SETTLE_S)
    extra = sum(len(c.arrivals) for c in customers) - tally.completed + feed.unknown
    return tally, extra


async def measure(
    servers: list[Server],
    signed_as: str,
    feed: sms.ReplyFeed,
    args: argparse.Namespace,
    tag: int,
) -> sms.Result:
    """One bounded run against a set of processes."""
    ports = [s.port for s in servers]
    before = sum(s.errors_logged for s in servers)
    (tally, extra), _ = await harness.drive(
        servers[0], args.timeout, run_load(ports, signed_as, feed, args, tag)
    )
    return sms.Result(
        **harness.figures(tally),
        **harness.spread_ms(tally.acks_s, prefix="ack_"),
        extra_replies=extra,
        errors_logged=sum(s.errors_logged for s in servers) - before,
    )


@contextlib.asynccontextmanager
async def redis_server(workdir: Path):
    """A redis-server with AOF (fsync every second, the documented setting) on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = harness.free_port()
    data = workdir / "redis"
    data.mkdir()
    argv = [
        binary, "--port", str(port), "--bind", LOOPBACK, "--dir", str(data), "--save", "",
        "--appendonly", "yes", "--appendfsync", "everysec",
    ]  # fmt: skip
    # redis-server logs "Ready to accept connections"; the harness waits for "listening on".
    wrapper = [
        sys.executable, "-c",
        "import subprocess, sys\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)\n"
        "for line in p.stdout:\n"
        "    print(line.rstrip(), file=sys.stderr, flush=True)\n"
        "    if 'Ready to accept' in line:\n"
        "        print('redis listening on', file=sys.stderr, flush=True)\n",
        *argv,
    ]  # fmt: skip
    async with harness.running_server("redis", wrapper, sms._clean_env(), workdir, port):
        yield f"redis://{LOOPBACK}:{port}/0"


@contextlib.asynccontextmanager
async def gateways(count: int, store_url: str, fake_url: str, workdir: Path):
    """`count` gateway processes on one store, all signing as the same public URL."""
    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for number in range(count):
            port = harness.free_port()
            env = {
                **sms._clean_env(),
                "PYTHONPATH": str(REPO),  # this checkout, whichever copy is installed
                "ONETHREAD_STORE_URL": store_url,
                "ONETHREAD_PUBLIC_URL": PUBLIC_URL,
                "TWILIO_ACCOUNT_SID": sms.ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": sms.AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": sms.OUR_NUMBER,
                "TWILIO_API_BASE_URL": fake_url,
            }
            print(f"starting gateway {number + 1}/{count} on {store_url} ...", file=sys.stderr)
            argv = harness.gateway_argv(port)
            name = f"gateway-{number + 1}"
            servers.append(
                await stack.enter_async_context(
                    harness.running_server(name, argv, env, workdir, port)
                )
            )
        yield servers


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the fake API and Redis, then measure each configuration in turn."""
    harness.cancel_on_sigterm()
    results: dict[str, sms.Result] = {}
    feed = sms.ReplyFeed()
    with tempfile.TemporaryDirectory(prefix="onethread-bench-scale-") as tmp:
        workdir = Path(tmp)
        fake_port = harness.free_port()
        fake_url = f"http://{LOOPBACK}:{fake_port}/twilio"
        fake_argv = harness.self_argv(sms.SCRIPT, "--serve-fake", str(fake_port))
        async with (
            harness.running_server("fake", fake_argv, sms._clean_env(), workdir, fake_port),
            redis_server(workdir) as redis_url,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"http://{LOOPBACK}:{fake_port}{sms.EVENTS_PATH}") as events,
        ):
            pump = asyncio.create_task(feed.pump(events))
            try:
                sqlite_url = f"sqlite:///{workdir / 'store.sqlite3'}"
                plan = [("sqlite x1", 1, sqlite_url), ("redis x1", 1, redis_url)]
                plan.append(("redis x2", 2, redis_url))
                for tag, (name, count, url) in enumerate(plan, start=1):
                    if name not in args.only:
                        continue
                    async with gateways(count, url, fake_url, workdir) as servers:
                        results[name] = await measure(servers, PUBLIC_URL, feed, args, tag)
                port = harness.free_port()
                base = harness.self_argv(sms.SCRIPT, "--serve-baseline", str(port), fake_url)
                print("starting baseline ...", file=sys.stderr)
                async with harness.running_server(
                    "baseline", base, sms._clean_env(), workdir, port
                ) as s:
                    results["baseline"] = await measure(
                        [s], f"http://{LOOPBACK}:{port}", feed, args, 9
                    )
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
    return {
        "machine": harness.machine(),
        "load": {
            "customers": args.customers,
            "messages": args.messages,
            "warmup": args.warmup,
            "questions": len(harness.QUESTIONS),
            "distinct_texts": args.distinct,
            "fake_api": "its own subprocess",
        },
        "results": {name: asdict(result) for name, result in results.items()},
    }


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table, each row also relative to the baseline."""
    load = report["load"]
    lines = [
        "onethread SMS end to end at scale (closed loop, loopback, webhooks round-robin)",
        harness.machine_line(report["machine"]),
        f"mode: {harness.texts_mode(load)}; client, fake API, Redis, gateways and baseline "
        "share these cores",
        f"load: {load['customers']} customers, {load['messages']} measured messages "
        f"after {load['warmup']} warm-up, per configuration",
        "",
        f"{'server':<11}{'msgs/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'ack p50':>9}{'ack p99':>9}{'vs base':>9}",
    ]
    results = report["results"]
    base = results["baseline"]["msgs_per_s"]
    for name in CONFIGS:
        if name not in results:
            continue
        r = results[name]
        lines.append(
            f"{name:<11}{r['msgs_per_s']:>9.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
            f"{r['max_ms']:>9.2f}{r['ack_p50_ms']:>9.2f}{r['ack_p99_ms']:>9.2f}"
            f"{r['msgs_per_s'] / base:>8.3f}x"
        )
    for name, r in results.items():
        if r["errors_logged"]:
            lines.append(f"warning: {name} logged {r['errors_logged']} error lines")
        if r["extra_replies"]:
            lines.append(f"warning: {name} sent {r['extra_replies']} replies beyond one each")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers", type=harness.positive, default=16, help="phones sending SMS (default 16)"
    )
    parser.add_argument(
        "--only",
        type=lambda raw: set(raw.split(",")),
        default=set(CONFIGS),
        help="comma-separated configurations to run (default all; the baseline always runs)",
    )
    harness.add_load_options(parser, messages=600, warmup=40)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every configuration, print the report."""
    return harness.run_and_report(_parser().parse_args(argv), bench, table)


if __name__ == "__main__":
    sys.exit(main())
