#!/usr/bin/env python
"""Slack handoff latency of the gateway (web chat → Slack → web chat), against a bare baseline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import harness
from aiohttp import web
from harness import LOOPBACK, Server

SCRIPT = Path(__file__).resolve()  # the fake Slack and the baseline are this script, re-invoked
REPO = SCRIPT.parent.parent
if str(REPO) not in sys.path:  # tests.fakes is not installed; it lives in the repository
    sys.path.insert(0, str(REPO))

from tests.fakes.providers import FakeProviders, RecordedRequest  # noqa: E402
from tests.fakes.signing import slack_headers  # noqa: E402
from tests.handoff.slack_agent import QUEUE_CHANNEL, SIGNING_SECRET, SlackAgent  # noqa: E402

SLACK_EVENTS_PATH = "/slack/events"
FEED_PATH = "/bench/slack"  # the fake's extra WebSocket: one event per Slack Web API call
HANDOFF_TEXT = "I want to talk to a person"
WAIT_S = 30.0  # one lost card, transcript or frame fails the run long before the hard timeout
# handoff/slack_sender.py: chat.postMessage goes out about one message a second per channel.
PACING_S = 1.0
# A thread no handoff owns: the gateway looks it up and ignores it (agents talking among
# themselves). Used for the unmeasured first request to each server.
STRAY_THREAD = "1600000000.000100"
# Channel credentials in the caller's environment must not switch on other providers.
FOREIGN_ENV = ("TWILIO_", "TELEGRAM_", "SLACK_", "META_", "WHATSAPP_", "ONETHREAD_")


# --------------------------------------------------------------------------- fake Slack API

RECORD_KEY = web.RequestKey("bench_record", RecordedRequest)


class ReportingFake(FakeProviders):
    """FakeProviders that leaves each request's record on the request, for the feed below."""

    async def _record(self, provider: str, request: web.Request) -> RecordedRequest:
        record = await super()._record(provider, request)
        request[RECORD_KEY] = record
        return record


def _feed_event(record: RecordedRequest, arrived: float, status: int) -> dict[str, Any]:
    params = record.params
    answer = record.response if isinstance(record.response, dict) else {}
    blocks = params.get("blocks")
    return {
        "api": record.api,
        "at": arrived,
        "status": status,
        # The upload URL answers text ("OK - 123"), every Web API method JSON with "ok".
        "ok": bool(answer.get("ok")) if isinstance(record.response, dict) else status == 200,
        "error": answer.get("error"),
        "channel": answer.get("channel") or params.get("channel"),
        "thread_ts": params.get("thread_ts"),
        "ts": answer.get("ts"),
        "text": str(params.get("text") or ""),
        "blocks": blocks if isinstance(blocks, str) else json.dumps(blocks or []),
    }


def serve_fake(port: int) -> None:
    """Run tests.fakes' FakeProviders, plus a WebSocket that reports each Slack call as it comes."""
    fake = ReportingFake(port=port)

    async def describe(
        request: web.Request, response: web.StreamResponse, arrived: float
    ) -> dict[str, Any] | None:
        record = request.get(RECORD_KEY)
        if record is None or record.provider != "slack":
            return None
        return _feed_event(record, arrived, response.status)

    harness.serve_reporting_fake(fake, port, FEED_PATH, describe)


# --------------------------------------------------------------------------- baseline server


def serve_baseline(port: int) -> None:
    """Run the baseline: check the Slack signature with slack_sdk, answer 200; nothing else."""
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SIGNING_SECRET)  # 5-minute window, as Bolt's check in the gateway

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401, text="invalid request")
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(SLACK_EVENTS_PATH, events)
    web.run_app(
        app,
        host=LOOPBACK,
        port=port,
        print=harness.ready_print("baseline", port),
        access_log=None,
        shutdown_timeout=2,
    )


# --------------------------------------------------------------------------- client side


class SlackFeed:
    """The fake Slack's call events: root cards found by a customer's tag, threads by ts."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []  # every chat.postMessage, in arrival order
        self.calls: Counter[str] = Counter()
        self.refused: list[str] = []
        self._cards: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._threads: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def expect_card(self, tag: str) -> asyncio.Future[dict[str, Any]]:
        """The root card whose text or blocks mention `tag` (register before sending)."""
        return self._cards.setdefault(tag, asyncio.get_running_loop().create_future())

    def first_in_thread(self, ts: str) -> asyncio.Future[dict[str, Any]]:
        """The first message posted in the thread under `ts`."""
        return self._threads.setdefault(ts, asyncio.get_running_loop().create_future())

    async def pump(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Dispatch every event until the socket closes."""
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(msg.data)
            self.calls[event["api"]] += 1
            if event["status"] != 200 or not event["ok"]:
                self.refused.append(f"{event['api']}: HTTP {event['status']} {event['error']}")
                continue
            if event["api"] != "chat.postMessage":
                continue
            self.posts.append(event)
            if event["thread_ts"]:
                waiter = self.first_in_thread(event["thread_ts"])
                if not waiter.done():
                    waiter.set_result(event)
                continue
            haystack = event["text"] + event["blocks"]
            for tag, waiter in self._cards.items():
                if tag in haystack and not waiter.done():
                    waiter.set_result(event)


class Customer:
    """A web chat visitor whose frames are read (and time-stamped) by a background task."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, tag: str) -> None:
        self.ws = ws
        self.tag = tag
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self._changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            self.frames.append((time.monotonic(), json.loads(msg.data)))
            self._changed.set()
        self._changed.set()

    async def until(
        self, predicate: Callable[[dict[str, Any]], bool], start: int, what: str
    ) -> tuple[float, dict[str, Any]]:
        """The first frame from index `start` on that matches, with the time it arrived."""
        try:
            async with asyncio.timeout(WAIT_S):
                while True:
                    for at, frame in self.frames[start:]:
                        if predicate(frame):
                            return at, frame
                    if self.ws.closed:
                        raise RuntimeError(f"customer {self.tag}: socket closed waiting for {what}")
                    start = len(self.frames)
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise RuntimeError(f"customer {self.tag}: no {what} within {WAIT_S:.0f}s") from None

    async def say(self, text: str) -> tuple[float, float, dict[str, Any]]:
        """Send a message; (sent, arrival of the bot's reply, that reply)."""
        start = len(self.frames)
        sent = time.monotonic()
        frame = {"type": "message", "text": text, "client_msg_id": os.urandom(16).hex()}
        await self.ws.send_json(frame)
        at, frame = await self.until(
            lambda f: f.get("type") == "message" and f.get("from") == "bot", start, "bot reply"
        )
        return sent, at, frame


@dataclass
class Handoff:
    """One customer's handoff as the fake Slack saw it."""

    customer: Customer
    sent: float  # the customer's "I want to talk to a person" left the client
    told: float  # the bot's reply to it reached the customer
    card: dict[str, Any]
    transcript: dict[str, Any]


@dataclass
class Replies:
    """Agent replies: ack and delivery times, and the signed requests, for the baseline."""

    acks_s: list[float] = field(default_factory=list)
    delivered_s: list[float] = field(default_factory=list)
    requests: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


def reply_request(thread_ts: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A signed Events API envelope: a person's reply in a thread of the queue channel."""
    ts = f"{time.time():.6f}"
    event = {  # the shape SlackAgent.reply sends, built here so the bytes can be replayed
        "type": "message",
        "channel": QUEUE_CHANNEL,
        "user": "U0AGENT001",
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "channel_type": "channel",
        "event_ts": ts,
    }
    body = SlackAgent(client=None).event_body(event)  # type: ignore[arg-type]
    headers = {"Content-Type": "application/json", **slack_headers(SIGNING_SECRET, body)}
    return body.encode(), headers


async def post_signed(
    session: aiohttp.ClientSession, url: str, request: tuple[bytes, dict[str, str]]
) -> float:
    """POST one signed request; the seconds until its 200 arrived."""
    body, headers = request
    sent = time.monotonic()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        acked = time.monotonic()
        if resp.status != 200:
            raise RuntimeError(f"{url} answered HTTP {resp.status}: {await resp.text()}")
    return acked - sent


async def open_handoffs(
    server: Server,
    feed: SlackFeed,
    session: aiohttp.ClientSession,
    args: argparse.Namespace,
    customers: list[Customer],
) -> list[Handoff]:
    """Phase 1: each customer asks a question, then for a person; wait for card and transcript."""
    url = f"http://{LOOPBACK}:{server.port}/webchat/ws"
    gate = asyncio.Semaphore(args.concurrency)
    handoffs: list[Handoff] = []

    async def one(index: int) -> None:
        async with gate:
            tag = f"H{index:04d}"  # fixed width: no tag is part of another
            customer = Customer(await session.ws_connect(url), tag)
            customers.append(customer)
            await customer.ws.send_json({"type": "hello", "visitor_id": f"bench-slack-{tag}"})
            _, welcome = await customer.until(
                lambda f: f.get("type") in {"welcome", "error"}, 0, "welcome"
            )
            if welcome["type"] != "welcome":
                raise RuntimeError(f"customer {tag}: hello refused: {welcome}")
            # One FAQ turn first, so the transcript has a story; the tag finds the card.
            question = harness.QUESTIONS[index % len(harness.QUESTIONS)]
            await customer.say(f"{question} (ref {tag})")
            card_waiter = feed.expect_card(tag)
            sent, told, _ = await customer.say(HANDOFF_TEXT)
            try:
                async with asyncio.timeout(WAIT_S):
                    card = await card_waiter
                    transcript = await feed.first_in_thread(card["ts"])
            except TimeoutError:
                raise RuntimeError(
                    f"customer {tag}: no root card and transcript within {WAIT_S:.0f}s; "
                    f"Slack refused: {feed.refused[:3]}"
                ) from None
            if not transcript["text"].startswith("*Transcript*"):
                raise RuntimeError(f"customer {tag}: first thread post is not the transcript")
            handoffs.append(Handoff(customer, sent, told, card, transcript))

    async with asyncio.TaskGroup() as group:
        for index in range(args.customers):
            group.create_task(one(index))
    return handoffs


async def agent_replies(
    server: Server,
    session: aiohttp.ClientSession,
    args: argparse.Namespace,
    handoffs: list[Handoff],
) -> Replies:
    """Phase 2: an agent replies in every handoff's thread; ack and web chat delivery times."""
    url = f"http://{LOOPBACK}:{server.port}{SLACK_EVENTS_PATH}"
    gate = asyncio.Semaphore(args.concurrency)
    replies = Replies()

    async def one(handoff: Handoff) -> None:
        customer = handoff.customer
        text = f"Hi, this is Jane from the team, I am looking at it now (re {customer.tag})"
        request = reply_request(handoff.card["ts"], text)
        async with gate:
            start = len(customer.frames)
            sent = time.monotonic()
            ack = await post_signed(session, url, request)
            at, _ = await customer.until(
                lambda f: (
                    f.get("type") == "message"
                    and f.get("from") == "agent"
                    and customer.tag in f.get("text", "")
                ),
                start,
                "agent frame",
            )
        replies.acks_s.append(ack)
        replies.delivered_s.append(at - sent)
        replies.requests.append(request)

    async with asyncio.TaskGroup() as group:
        for handoff in handoffs:
            group.create_task(one(handoff))
    return replies


async def replay(
    server: Server, session: aiohttp.ClientSession, args: argparse.Namespace, replies: Replies
) -> list[float]:
    """Phase 3: the same signed bytes and headers to the baseline, as many at a time."""
    url = f"http://{LOOPBACK}:{server.port}{SLACK_EVENTS_PATH}"
    gate = asyncio.Semaphore(args.concurrency)
    acks: list[float] = []

    async def one(request: tuple[bytes, dict[str, str]]) -> None:
        async with gate:
            acks.append(await post_signed(session, url, request))

    async with asyncio.TaskGroup() as group:
        for request in replies.requests:
            group.create_task(one(request))
    return acks


# --------------------------------------------------------------------------- figures


def spread(samples_s: Sequence[float], high: int) -> dict[str, float]:
    """n, p50, p<high> and max of samples in seconds, in milliseconds (nearest rank)."""
    ordered = sorted(samples_s)
    return {
        "n": len(ordered),
        "p50_ms": round(harness.percentile(ordered, 50) * 1000, 1),
        f"p{high}_ms": round(harness.percentile(ordered, high) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def beyond_pacing(posts: list[dict[str, Any]], event: dict[str, Any], trigger: float) -> float:
    """How much of a post's wait the channel's 1 message/s spacing does not explain.

    The earliest the gateway could post it is its trigger (the customer's message; for the
    transcript, the card's arrival), or one pacing gap after the previous post to that
    channel, whichever is later. Arrival minus that is the gateway's own time, or a lower bound
    of it (work done while the post waited its turn is hidden). Slightly negative values are
    loopback jitter between two posts.
    """
    earlier = [p["at"] for p in posts if p["channel"] == event["channel"] and p["at"] < event["at"]]
    floor = max(trigger, max(earlier, default=float("-inf")) + PACING_S)
    return event["at"] - floor


def handoff_figures(handoffs: list[Handoff], feed: SlackFeed) -> dict[str, Any]:
    """Phase 1's figures."""
    posts = sorted(feed.posts, key=lambda p: p["at"])
    arrivals = [p["at"] for p in posts if p["channel"] == QUEUE_CHANNEL]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # The channel's first post: the one card of the run that waited for no other post.
    first = min(handoffs, key=lambda h: h.card["at"])
    last = max(h.transcript["at"] for h in handoffs)
    return {
        "card": spread([h.card["at"] - h.sent for h in handoffs], 95),
        "transcript": spread([h.transcript["at"] - h.sent for h in handoffs], 95),
        "card_beyond_pacing": spread([beyond_pacing(posts, h.card, h.sent) for h in handoffs], 95),
        "transcript_beyond_pacing": spread(
            [beyond_pacing(posts, h.transcript, h.card["at"]) for h in handoffs], 95
        ),
        "bot_reply": spread([h.told - h.sent for h in handoffs], 95),
        "first_card_ms": round((first.card["at"] - first.sent) * 1000, 1),
        "first_transcript_ms": round((first.transcript["at"] - first.sent) * 1000, 1),
        "seconds": round(last - min(h.sent for h in handoffs), 2),
        "posts_in_channel": len(arrivals),
        "post_gap_min_ms": round(min(gaps) * 1000, 1) if gaps else None,
        "post_gap_p50_ms": round(harness.percentile(sorted(gaps), 50) * 1000, 1) if gaps else None,
    }


# --------------------------------------------------------------------------- report


def _row(label: str, figures: dict[str, Any], high: int) -> str:
    return (
        f"  {label:<46}{figures['n']:>4}{figures['p50_ms']:>10.1f}"
        f"{figures[f'p{high}_ms']:>10.1f}{figures['max_ms']:>10.1f}"
    )


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    load, hand, agent = report["load"], report["handoff"], report["agent_reply"]
    gw, base = agent["gateway"], agent["baseline"]
    ratio = report["gateway_over_baseline"]
    lines = [
        "onethread Slack handoff latency (web chat → fake Slack Web API → web chat, loopback)",
        harness.machine_line(report["machine"]),
        f"load: {load['customers']} web chat customers, {load['concurrency']} at a time; one "
        f"queue channel ({load['channel']}); the gateway paces chat.postMessage at "
        f"{load['pacing_s']:.0f}/s per channel",
        "mode: fake Slack Web API in its own subprocess; client, fake, gateway and baseline "
        "share these cores",
        "",
        f'1. handoff: "{HANDOFF_TEXT}" sent → call arrives at the fake Slack',
        f"  {'':<46}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}",
        _row("root card (chat.postMessage)", hand["card"], 95),
        _row("transcript (first post in the card's thread)", hand["transcript"], 95),
        _row("card: part not explained by 1/s pacing", hand["card_beyond_pacing"], 95),
        _row("transcript: part not explained by 1/s pacing", hand["transcript_beyond_pacing"], 95),
        _row("bot's reply frame back to the customer", hand["bot_reply"], 95),
        f"  first handoff of the run (its card is the channel's first post): card "
        f"{hand['first_card_ms']:.1f} ms, transcript {hand['first_transcript_ms']:.1f} ms",
        f"  {hand['posts_in_channel']} posts to the channel in {hand['seconds']:.1f} s; gap "
        f"between posts min {hand['post_gap_min_ms']} ms, p50 {hand['post_gap_p50_ms']} ms",
        "",
        "2. agent's reply in the thread (signed Events API POST to /slack/events)",
        f"  {'':<46}{'n':>4}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}",
        _row("gateway: HTTP 200 received", gw["ack"], 99),
        _row("baseline (SignatureVerifier, 200): HTTP 200", base["ack"], 99),
        _row("gateway: agent frame at the web chat customer", gw["delivered"], 99),
        f"  first request to each server, not counted (a reply in a thread no handoff owns): "
        f"gateway "
        f"{gw['first_ack_ms']:.1f} ms, baseline {base['first_ack_ms']:.1f} ms",
        "",
        f"gateway/baseline: ack p50 {ratio['ack_p50']:.1f}x, ack p99 {ratio['ack_p99']:.1f}x; "
        f"Slack's limit is 3000 ms: gateway ack max {gw['ack']['max_ms']:.1f} ms",
    ]
    calls = ", ".join(f"{api} {n}" for api, n in sorted(report["slack_calls"].items()))
    lines.append(f"Slack Web API calls the fake received in the run: {calls}")
    if gw["ack"]["n"] < 100:
        lines.append(f"(n={gw['ack']['n']}: nearest-rank p99 is the largest sample)")
    for name, count in report["errors_logged"].items():
        if count:
            lines.append(f"warning: the {name} logged {count} error lines")
    if report["slack_refused"]:
        lines.append(f"warning: the fake Slack refused {len(report['slack_refused'])} calls")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the fake Slack, the baseline and the gateway; run the three phases."""
    harness.cancel_on_sigterm()
    feed = SlackFeed()
    customers: list[Customer] = []
    with tempfile.TemporaryDirectory(prefix="onethread-bench-slack-") as tmp:
        workdir = Path(tmp)
        fake_port, base_port, port = (harness.free_port() for _ in range(3))
        fake_argv = harness.self_argv(SCRIPT, "--serve-fake", str(fake_port))
        base_argv = harness.self_argv(SCRIPT, "--serve-baseline", str(base_port))
        env = {
            **_clean_env(),
            "PYTHONPATH": str(REPO),  # the checkout under test
            "ONETHREAD_STORE_URL": harness.store_url(workdir),
            "ONETHREAD_PUBLIC_URL": f"http://{LOOPBACK}:{port}",
            "SLACK_BOT_TOKEN": "xoxb-test",  # FakeProviders' default bot token
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_HANDOFF_CHANNEL": QUEUE_CHANNEL,
            "SLACK_API_BASE_URL": f"http://{LOOPBACK}:{fake_port}/slack/api/",
            # No unclaimed-handoff reminders during a long run: they would post to the channel.
            "ONETHREAD_HANDOFF_REMIND_SECONDS": "3600",
        }
        print("starting fake Slack API and baseline ...", file=sys.stderr)
        async with contextlib.AsyncExitStack() as stack:
            fake = await stack.enter_async_context(
                harness.running_server("fake", fake_argv, _clean_env(), workdir, fake_port)
            )
            base = await stack.enter_async_context(
                harness.running_server("baseline", base_argv, _clean_env(), workdir, base_port)
            )
            session = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            )
            events = await stack.enter_async_context(
                session.ws_connect(f"http://{LOOPBACK}:{fake_port}{FEED_PATH}")
            )
            pump = asyncio.create_task(feed.pump(events))
            print("starting gateway ...", file=sys.stderr)
            gateway = await stack.enter_async_context(
                harness.running_server("gateway", harness.gateway_argv(port), env, workdir, port)
            )
            try:
                print("phase 1: handoffs ...", file=sys.stderr)
                handoffs, _ = await harness.drive(
                    gateway, args.timeout, open_handoffs(gateway, feed, session, args, customers)
                )
                print("phase 2: agent replies ...", file=sys.stderr)
                stray = reply_request(STRAY_THREAD, "warming up")
                gw_first = await post_signed(
                    session, f"http://{LOOPBACK}:{port}{SLACK_EVENTS_PATH}", stray
                )
                replies, _ = await harness.drive(
                    gateway, args.timeout, agent_replies(gateway, session, args, handoffs)
                )
                print("phase 3: the same requests to the baseline ...", file=sys.stderr)
                base_first = await post_signed(
                    session, f"http://{LOOPBACK}:{base_port}{SLACK_EVENTS_PATH}", stray
                )
                base_acks, _ = await harness.drive(
                    base, args.timeout, replay(base, session, args, replies)
                )
            finally:
                for customer in customers:
                    customer.reader.cancel()
                    await customer.ws.close()
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            # Whole-run counts, start-up included: any error makes the figures suspect.
            errors = {s.name: s.errors_logged for s in (gateway, base, fake)}
    gw_ack = spread(replies.acks_s, 99)
    base_ack = spread(base_acks, 99)
    return {
        "machine": harness.machine(),
        "load": {
            "customers": args.customers,
            "concurrency": args.concurrency,
            "channel": QUEUE_CHANNEL,
            "pacing_s": PACING_S,
            "fake_api": "its own subprocess",
        },
        "handoff": handoff_figures(handoffs, feed),
        "agent_reply": {
            "gateway": {
                "ack": gw_ack,
                "delivered": spread(replies.delivered_s, 99),
                "first_ack_ms": round(gw_first * 1000, 1),
            },
            "baseline": {"ack": base_ack, "first_ack_ms": round(base_first * 1000, 1)},
        },
        "gateway_over_baseline": {
            "ack_p50": round(gw_ack["p50_ms"] / base_ack["p50_ms"], 2),
            "ack_p99": round(gw_ack["p99_ms"] / base_ack["p99_ms"], 2),
        },
        "slack_calls": dict(feed.calls),
        "slack_refused": feed.refused,
        "errors_logged": errors,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers",
        type=harness.positive,
        default=30,
        help="web chat customers, one handoff each (default 30)",
    )
    parser.add_argument(
        "--concurrency",
        type=harness.positive,
        default=3,
        help="customers (and agent replies) in flight at a time (default 3)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="hard limit per phase, s (default 300)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.set_defaults(warmup=0)  # harness.run_and_report checks it; this script has none
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the measurements, print the report."""
    args = _parser().parse_args(argv)
    if args.serve_fake is not None:
        serve_fake(args.serve_fake)
        return 0
    if args.serve_baseline is not None:
        serve_baseline(args.serve_baseline)
        return 0
    return harness.run_and_report(args, bench, table)


if __name__ == "__main__":
    sys.exit(main())
