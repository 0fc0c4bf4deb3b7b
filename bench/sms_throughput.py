#!/usr/bin/env python
"""SMS (Twilio) throughput and latency of the gateway, against a bare aiohttp baseline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import harness
from aiohttp import web
from harness import LOOPBACK, Server

SCRIPT = Path(__file__).resolve()  # the fake API and the baseline are this script, re-invoked
REPO = SCRIPT.parent.parent
if str(REPO) not in sys.path:  # tests.fakes is not installed; it lives in the repository
    sys.path.insert(0, str(REPO))

from tests.fakes import load_payload  # noqa: E402
from tests.fakes.signing import twilio_form_body, twilio_headers  # noqa: E402

WEBHOOK_PATH = "/webhooks/twilio"
EVENTS_PATH = "/bench/replies"  # the fake's extra WebSocket: one event per reply it receives
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "bench-twilio-auth-token"
OUR_NUMBER = "+15550100000"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REPLY_TIMEOUT_S = 30.0  # one lost reply should fail the run long before the hard timeout
SETTLE_S = 0.5  # after the last turn, how long to listen for replies nobody asked for
# Channel credentials in the caller's environment must not switch on other providers.
FOREIGN_ENV = ("TWILIO_", "TELEGRAM_", "SLACK_", "META_", "WHATSAPP_", "ONETHREAD_")


# --------------------------------------------------------------------------- fake Twilio API


def serve_fake(port: int) -> None:
    """Run tests.fakes' FakeProviders, plus a WebSocket that reports each reply as it arrives."""
    from tests.fakes.providers import FakeProviders

    fake = FakeProviders(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, port=port)

    async def describe(
        request: web.Request, response: web.StreamResponse, arrived: float
    ) -> dict[str, Any] | None:
        if request.method != "POST" or not request.path.endswith("/Messages.json"):
            return None
        form = await request.post()  # parsed and cached already by the fake
        return {"to": str(form.get("To", "")), "at": arrived, "status": response.status}

    harness.serve_reporting_fake(fake, port, EVENTS_PATH, describe)


# --------------------------------------------------------------------------- baseline server


def serve_baseline(port: int, fake_url: str) -> None:
    """Run the baseline: parse, check the signature, POST a reply with a plain client; no more."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    public_url = f"http://{LOOPBACK}:{port}"
    session_key = web.AppKey("session", aiohttp.ClientSession)
    pending: set[asyncio.Task[None]] = set()

    async def reply(session: aiohttp.ClientSession, to: str) -> None:
        form = {
            "To": to,
            "From": OUR_NUMBER,
            "Body": "Thanks for your message, we will get back to you shortly.",
            "StatusCallback": public_url + WEBHOOK_PATH,
        }
        async with session.post(
            fake_url + MESSAGES_PATH, data=form, auth=aiohttp.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)
        ) as resp:
            await resp.read()
            if resp.status != 201:
                print(f"baseline ERROR reply to {to}: HTTP {resp.status}", file=sys.stderr)

    async def webhook(request: web.Request) -> web.Response:
        # The same steps as the gateway's handler up to the durable write, which this skips.
        if request.content_type != "application/x-www-form-urlencoded":
            raise web.HTTPUnsupportedMediaType(text="expected a form-encoded Twilio webhook")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or not validator.validate(public_url + request.path_qs, form, signature):
            raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
        if not form.get("MessageSid") or not form.get("From"):
            raise web.HTTPBadRequest(text="MessageSid and From are required")
        # Acknowledge at once and reply in the background, as the gateway does (it acks after
        # its inbox write and replies from its worker).
        task = asyncio.create_task(reply(request.app[session_key], form["From"]))
        pending.add(task)
        task.add_done_callback(pending.discard)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def client_session(app: web.Application) -> AsyncIterator[None]:
        app[session_key] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await app[session_key].close()

    app = web.Application()
    app.cleanup_ctx.append(client_session)
    app.router.add_post(WEBHOOK_PATH, webhook)
    web.run_app(
        app,
        host=LOOPBACK,
        port=port,
        print=harness.ready_print("baseline", port),
        access_log=None,
        shutdown_timeout=5,
    )


# --------------------------------------------------------------------------- load


@dataclass
class Customer:
    """One simulated phone: the replies the fake API has received for it so far."""

    number: str
    arrivals: list[float] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class ReplyFeed:
    """Reply events from the fake API's WebSocket, counted per `To` number."""

    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.unknown = 0  # replies to a number nobody in this run uses
        self.refused: list[str] = []  # replies the fake API answered with an error

    def reset(self, customers: list[Customer]) -> None:
        """Listen for a new set of customers."""
        self.customers = {c.number: c for c in customers}
        self.unknown = 0
        self.refused = []

    async def pump(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Dispatch every event to its customer until the socket closes."""
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(msg.data)
            if int(event["status"]) != 201:
                self.refused.append(f"HTTP {event['status']} for a reply to {event['to']}")
            customer = self.customers.get(event["to"])
            if customer is None:
                self.unknown += 1
                continue
            customer.arrivals.append(float(event["at"]))
            customer.changed.set()


@dataclass
class Tally(harness.Tally):
    """Shared state of one closed-loop run across all customers, with the webhook ack times."""

    acks_s: list[float] = field(default_factory=list)

    def record_turn(self, latency: float, ack: float, now: float) -> None:
        """Count one answered message; only those after the warm-up are measured."""
        if self.record(latency, now):
            self.acks_s.append(ack)


@dataclass(frozen=True)
class Result:
    """The figures of one server under one load."""

    messages: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    extra_replies: int
    errors_logged: int


def sms_form(template: dict[str, str], sender: str, text: str) -> dict[str, str]:
    """The form fields Twilio posts for one inbound SMS from `sender`."""
    sid = "SM" + uuid.uuid4().hex
    return {
        **template,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": text,
        "NumSegments": "1" if len(text) <= 160 else str(-(-len(text) // 153)),
    }


async def run_load(
    server: Server, feed: ReplyFeed, args: argparse.Namespace, run_tag: int
) -> tuple[Tally, int]:
    """Drive one server with closed-loop customers; returns the tally and the extra replies."""
    tally = Tally(total=args.warmup + args.messages, warmup=args.warmup)
    url = f"http://{LOOPBACK}:{server.port}{WEBHOOK_PATH}"
    template = {
        k: v for k, v in load_payload("twilio/sms_inbound").items() if k != "MessagingServiceSid"
    }
    # Distinct 555 numbers per customer and per run, so a straggler cannot count for another run.
    customers = [Customer(f"+1555{run_tag}{i:06d}") for i in range(args.customers)]
    feed.reset(customers)

    async def customer_loop(index: int, session: aiohttp.ClientSession) -> None:
        customer = customers[index]
        questions = harness.questions_from(index % len(harness.QUESTIONS))
        turns = 0
        while tally.take_ticket():
            turns += 1
            text = next(questions)
            if args.distinct:
                # The engine caches embeddings by exact text; a unique tail defeats that cache.
                text = f"{text} (ref {index}.{turns})"
            form = sms_form(template, customer.number, text)
            body = twilio_form_body(form)
            headers = twilio_headers(AUTH_TOKEN, url, form)
            sent = time.monotonic()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                acked = time.monotonic()
                if resp.status != 200:
                    raise RuntimeError(f"webhook answered HTTP {resp.status}: {await resp.text()}")
            # Closed loop: the next message waits for this one's reply (it may beat the ack).
            try:
                async with asyncio.timeout(REPLY_TIMEOUT_S):
                    while len(customer.arrivals) < turns:
                        if feed.refused:
                            raise RuntimeError(f"fake Twilio API refused: {feed.refused[0]}")
                        customer.changed.clear()
                        await customer.changed.wait()
            except TimeoutError:
                raise RuntimeError(
                    f"no reply to {customer.number} within {REPLY_TIMEOUT_S:.0f}s "
                    f"(turn {turns}, {len(customer.arrivals)} replies so far)"
                ) from None
            tally.record_turn(customer.arrivals[turns - 1] - sent, acked - sent, time.monotonic())

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.TaskGroup() as group:
        for index in range(args.customers):
            group.create_task(customer_loop(index, session))
    # One reply per message is what we count on; more would shift every later turn's figure.
    await asyncio.sleep(SETTLE_S)
    answered = tally.completed
    extra = sum(len(c.arrivals) for c in customers) - answered + feed.unknown
    return tally, extra


async def measure(server: Server, feed: ReplyFeed, args: argparse.Namespace, tag: int) -> Result:
    """One bounded run against one server."""
    (tally, extra), errors = await harness.drive(
        server, args.timeout, run_load(server, feed, args, tag)
    )
    return Result(
        **harness.figures(tally),
        **harness.spread_ms(tally.acks_s, prefix="ack_"),
        extra_replies=extra,
        errors_logged=errors,
    )


# --------------------------------------------------------------------------- report


def ratios(gateway: Result, baseline: Result) -> dict[str, float]:
    """Gateway over baseline: below 1 for throughput, above 1 for latency means slower."""
    return {
        **harness.ratios(gateway, baseline),
        "ack_p50": round(gateway.ack_p50_ms / baseline.ack_p50_ms, 2),
        "ack_p99": round(gateway.ack_p99_ms / baseline.ack_p99_ms, 2),
    }


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    box, load = report["machine"], report["load"]
    lines = [
        "onethread SMS (Twilio) throughput (closed loop, loopback)",
        harness.machine_line(box),
        f"mode: fake Twilio API in {load['fake_api']}; {harness.texts_mode(load)}; "
        "client, fake API, gateway and baseline share these cores",
        f"load: {load['customers']} customers, {load['messages']} measured messages "
        f"after {load['warmup']} warm-up",
        "",
        f"{'server':<10}{'messages':>9}{'seconds':>9}{'msgs/s':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'ack p50':>9}{'ack p99':>9}{'ack max':>9}",
    ]
    for name in ("gateway", "baseline"):
        r = report["results"][name]
        lines.append(
            f"{name:<10}{r['messages']:>9}{r['seconds']:>9.2f}{r['msgs_per_s']:>9.1f}"
            f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}"
            f"{r['ack_p50_ms']:>9.2f}{r['ack_p99_ms']:>9.2f}{r['ack_max_ms']:>9.2f}"
        )
    ratio = report["gateway_over_baseline"]
    lines += [
        "",
        f"gateway/baseline: throughput {ratio['throughput']:.3f}x, "
        f"p50 {ratio['p50']:.1f}x, p99 {ratio['p99']:.1f}x, "
        f"ack p50 {ratio['ack_p50']:.1f}x, ack p99 {ratio['ack_p99']:.1f}x",
    ]
    for name in ("gateway", "baseline"):
        r = report["results"][name]
        if r["errors_logged"]:
            lines.append(f"warning: the {name} logged {r['errors_logged']} error lines")
        if r["extra_replies"]:
            lines.append(
                f"warning: the {name} sent {r['extra_replies']} replies beyond one per message"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the fake API, then measure the gateway and the baseline against it in turn."""
    harness.cancel_on_sigterm()
    results: dict[str, Result] = {}
    feed = ReplyFeed()
    with tempfile.TemporaryDirectory(prefix="onethread-bench-sms-") as tmp:
        workdir = Path(tmp)
        fake_port = harness.free_port()
        fake_url = f"http://{LOOPBACK}:{fake_port}/twilio"
        fake_argv = harness.self_argv(SCRIPT, "--serve-fake", str(fake_port))
        print("starting fake Twilio API ...", file=sys.stderr)
        async with (
            harness.running_server("fake", fake_argv, _clean_env(), workdir, fake_port) as fake,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"http://{LOOPBACK}:{fake_port}{EVENTS_PATH}") as events,
        ):
            pump = asyncio.create_task(feed.pump(events))
            try:
                port = harness.free_port()
                # A fresh store; the temp dir as cwd keeps any local onethread.toml out of it.
                env = {
                    **_clean_env(),
                    "ONETHREAD_STORE_URL": harness.store_url(workdir),
                    "ONETHREAD_PUBLIC_URL": f"http://{LOOPBACK}:{port}",
                    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "TWILIO_FROM_NUMBER": OUR_NUMBER,
                    "TWILIO_API_BASE_URL": fake_url,
                }
                argv = harness.gateway_argv(port)
                print("starting gateway ...", file=sys.stderr)
                async with harness.running_server("gateway", argv, env, workdir, port) as s:
                    results["gateway"] = await measure(s, feed, args, 1)
                port = harness.free_port()
                base = harness.self_argv(SCRIPT, "--serve-baseline", str(port), fake_url)
                print("starting baseline ...", file=sys.stderr)
                async with harness.running_server(
                    "baseline", base, _clean_env(), workdir, port
                ) as s:
                    results["baseline"] = await measure(s, feed, args, 2)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            if fake.errors_logged:
                raise RuntimeError(f"the fake API failed\n{fake.describe_failure()}")
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
        "gateway_over_baseline": ratios(results["gateway"], results["baseline"]),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers", type=harness.positive, default=16, help="phones sending SMS (default 16)"
    )
    harness.add_load_options(parser, messages=1000, warmup=50)
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve-baseline", nargs=2, metavar=("PORT", "FAKE_URL"), help=argparse.SUPPRESS
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both measurements, print the report."""
    args = _parser().parse_args(argv)
    if args.serve_fake is not None:
        serve_fake(args.serve_fake)
        return 0
    if args.serve_baseline is not None:
        serve_baseline(int(args.serve_baseline[0]), args.serve_baseline[1])
        return 0
    return harness.run_and_report(args, bench, table)


if __name__ == "__main__":
    sys.exit(main())
