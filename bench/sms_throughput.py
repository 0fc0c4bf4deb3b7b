#!/usr/bin/env python
"""SMS (Twilio) throughput and latency of the gateway, against a bare aiohttp baseline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()  # the fake API and the baseline are this script, re-invoked
REPO = SCRIPT.parent.parent
if str(REPO) not in sys.path:  # tests.fakes is not installed; it lives in the repository
    sys.path.insert(0, str(REPO))

from tests.fakes import load_payload  # noqa: E402
from tests.fakes.signing import twilio_form_body, twilio_headers  # noqa: E402

LOOPBACK = "127.0.0.1"
READY_MARKER = "listening on"
WEBHOOK_PATH = "/webhooks/twilio"
EVENTS_PATH = "/bench/replies"  # the fake's extra WebSocket: one event per reply it receives
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "bench-twilio-auth-token"
OUR_NUMBER = "+15550100000"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
START_TIMEOUT_S = 180.0  # the gateway trains its retrieval model at start-up
STOP_TIMEOUT_S = 20.0
REPLY_TIMEOUT_S = 30.0  # one lost reply should fail the run long before the hard timeout
SETTLE_S = 0.5  # after the last turn, how long to listen for replies nobody asked for
# Channel credentials in the caller's environment must not switch on other providers.
FOREIGN_ENV = ("TWILIO_", "TELEGRAM_", "SLACK_", "META_", "WHATSAPP_", "ONETHREAD_")

# Realistic first-contact SMS questions for the demo shop; all are FAQ topics, so every turn runs
# retrieval and none starts a slot-filling dialog that would make the next turn cheaper.
QUESTIONS: tuple[str, ...] = (
    "how long does standard shipping take to colorado?",
    "how much do you charge for shipping on a tent?",
    "do I get free shipping if my order is over 75 dollars?",
    "can I get my order by friday if I pay for faster shipping?",
    "do you ship to PO boxes?",
    "do you ship to Canada and will I pay duties at the door?",
    "what is your return policy for boots I have worn outside once?",
    "how do I send something back for a refund?",
    "is return shipping free or do I pay for the label?",
    "I sent my return two weeks ago, when will I see the refund?",
    "can I exchange a jacket for a bigger size?",
    "which payment methods do you accept, can I use paypal?",
    "my card keeps getting declined at checkout, what should I do?",
    "can I pay with Afterpay in four payments?",
    "how do I check the balance on my gift card?",
    "I lost the email with my gift card code, can you resend it?",
    "can I buy a gift card online and have it emailed?",
    "the item dropped in price a week after I bought it, can I get the difference?",
    "the tent arrived with a bent pole, what do I do?",
    "what are your store hours on sunday?",
)


def _ready_print(name: str, port: int) -> Callable[[str], None]:
    """The line the parent waits for, on stderr, instead of aiohttp's banner."""
    return lambda _: print(f"{name} {READY_MARKER} http://{LOOPBACK}:{port}", file=sys.stderr)


# --------------------------------------------------------------------------- fake Twilio API


def serve_fake(port: int) -> None:
    """Run tests.fakes' FakeProviders, plus a WebSocket that reports each reply as it arrives."""
    from tests.fakes.providers import FakeProviders

    fake = FakeProviders(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, port=port)
    listeners: set[web.WebSocketResponse] = set()

    @web.middleware
    async def report_replies(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # The clock is read before the fake even reads the body: this is when the reply arrived.
        # CLOCK_MONOTONIC is one clock for every process on the host, so the client can use it.
        arrived = time.monotonic()
        response = await handler(request)
        if request.method == "POST" and request.path.endswith("/Messages.json"):
            form = await request.post()  # parsed and cached already by the fake
            event = json.dumps(
                {"to": str(form.get("To", "")), "at": arrived, "status": response.status}
            )
            for ws in list(listeners):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(event)
            fake.clear()  # nobody reads the records; keep memory flat over long runs
        return response

    async def events(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        listeners.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            listeners.discard(ws)
        return ws

    app = fake.make_app()
    app.middlewares.append(report_replies)
    app.router.add_get(EVENTS_PATH, events)
    web.run_app(
        app,
        host=LOOPBACK,
        port=port,
        print=_ready_print("fake", port),
        access_log=None,
        shutdown_timeout=2,
    )


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
        print=_ready_print("baseline", port),
        access_log=None,
        shutdown_timeout=5,
    )


# --------------------------------------------------------------------------- server processes


@dataclass
class Server:
    """A server subprocess we started, and the tail of what it logged."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    log_tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    errors_logged: int = 0

    def describe_failure(self) -> str:
        """The last log lines, for an error message."""
        return f"{self.name} log tail:\n" + "\n".join(self.log_tail)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


async def _pump_log(server: Server, stream: asyncio.StreamReader, ready: asyncio.Event) -> None:
    # Keep reading for the whole run: a full stderr pipe would block the server's event loop.
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        server.log_tail.append(text)
        if READY_MARKER in text:
            ready.set()
        if " ERROR " in text or text.startswith("Traceback"):
            server.errors_logged += 1


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def running_server(
    name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int
) -> AsyncIterator[Server]:
    """Start a server subprocess, wait for its ready line, and always stop it afterwards."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    server = Server(name, port, process)
    ready = asyncio.Event()
    assert process.stderr is not None
    pump = asyncio.create_task(_pump_log(server, process.stderr, ready))
    exited = asyncio.create_task(process.wait())
    waiting = asyncio.create_task(ready.wait())
    try:
        # Whichever comes first: the ready line, the process dying, or the start-up limit.
        done, _ = await asyncio.wait(
            {exited, waiting}, timeout=START_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if not ready.is_set():
            await asyncio.sleep(0.2)  # let the pump read the last lines before we quote them
            why = "exited" if exited in done else f"not ready after {START_TIMEOUT_S:.0f}s"
            raise RuntimeError(f"{name} {why}\n{server.describe_failure()}")
        yield server
    finally:
        waiting.cancel()
        exited.cancel()
        await _stop(process)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(pump, 5)


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
class Tally:
    """Shared state of one closed-loop run across all customers."""

    total: int
    warmup: int
    tickets: itertools.count = field(default_factory=itertools.count)
    completed: int = 0
    window_start: float = 0.0
    window_end: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    acks_s: list[float] = field(default_factory=list)

    def take_ticket(self) -> bool:
        """Whether one more message may be sent; bounds the run by count."""
        return next(self.tickets) < self.total

    def record(self, latency: float, ack: float, now: float) -> None:
        """Count one answered message; only those after the warm-up are measured."""
        self.completed += 1
        if self.completed == self.warmup:
            self.window_start = now
        elif self.completed > self.warmup:
            self.latencies_s.append(latency)
            self.acks_s.append(ack)
            self.window_end = now


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


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


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
        questions = itertools.islice(itertools.cycle(QUESTIONS), index % len(QUESTIONS), None)
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
            tally.record(customer.arrivals[turns - 1] - sent, acked - sent, time.monotonic())

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
    print(f"  driving {server.name} on port {server.port} ...", file=sys.stderr)
    errors_before = server.errors_logged
    try:
        async with asyncio.timeout(args.timeout):
            tally, extra = await run_load(server, feed, args, tag)
    except TimeoutError:
        raise RuntimeError(
            f"{server.name}: run exceeded {args.timeout:.0f}s\n{server.describe_failure()}"
        ) from None
    except Exception as exc:
        # TaskGroup wraps a customer's failure; the first one is the informative one.
        cause = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
        why = f"{type(cause).__name__}: {cause}"
        raise RuntimeError(f"{server.name}: {why}\n{server.describe_failure()}") from exc
    ordered, acks = sorted(tally.latencies_s), sorted(tally.acks_s)
    seconds = tally.window_end - tally.window_start
    return Result(
        messages=len(ordered),
        seconds=round(seconds, 3),
        msgs_per_s=round(len(ordered) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(ordered, 50) * 1000, 2),
        p99_ms=round(percentile(ordered, 99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2),
        ack_p50_ms=round(percentile(acks, 50) * 1000, 2),
        ack_p99_ms=round(percentile(acks, 99) * 1000, 2),
        ack_max_ms=round(acks[-1] * 1000, 2),
        extra_replies=extra,
        errors_logged=server.errors_logged - errors_before,
    )


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


def ratios(gateway: Result, baseline: Result) -> dict[str, float]:
    """Gateway over baseline: below 1 for throughput, above 1 for latency means slower."""
    return {
        "throughput": round(gateway.msgs_per_s / baseline.msgs_per_s, 3),
        "p50": round(gateway.p50_ms / baseline.p50_ms, 2),
        "p99": round(gateway.p99_ms / baseline.p99_ms, 2),
        "ack_p50": round(gateway.ack_p50_ms / baseline.ack_p50_ms, 2),
        "ack_p99": round(gateway.ack_p99_ms / baseline.ack_p99_ms, 2),
    }


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    box, load = report["machine"], report["load"]
    texts = (
        "unique texts"
        if load["distinct_texts"]
        else f"{load['questions']} questions repeated verbatim"
    )
    lines = [
        "onethread SMS (Twilio) throughput (closed loop, loopback)",
        f"machine: {box['cpu']}, {box['cores']} cores ({box['usable_cores']} usable), "
        f"{box['os']}, Python {box['python']}, aiohttp {box['aiohttp']}",
        f"mode: fake Twilio API in {load['fake_api']}; {texts}; "
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
    # A SIGTERM to the benchmark must still stop the servers, so it cancels like Ctrl-C does.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    results: dict[str, Result] = {}
    feed = ReplyFeed()
    with tempfile.TemporaryDirectory(prefix="onethread-bench-sms-") as tmp:
        workdir = Path(tmp)
        fake_port = free_port()
        fake_url = f"http://{LOOPBACK}:{fake_port}/twilio"
        fake_argv = [sys.executable, str(SCRIPT), "--serve-fake", str(fake_port)]
        print("starting fake Twilio API ...", file=sys.stderr)
        async with (
            running_server("fake", fake_argv, _clean_env(), workdir, fake_port) as fake,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"http://{LOOPBACK}:{fake_port}{EVENTS_PATH}") as events,
        ):
            pump = asyncio.create_task(feed.pump(events))
            try:
                port = free_port()
                # A fresh store; the temp dir as cwd keeps any local onethread.toml out of it.
                env = {
                    **_clean_env(),
                    "ONETHREAD_STORE_URL": f"sqlite:///{workdir / 'store.sqlite3'}",
                    "ONETHREAD_PUBLIC_URL": f"http://{LOOPBACK}:{port}",
                    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "TWILIO_FROM_NUMBER": OUR_NUMBER,
                    "TWILIO_API_BASE_URL": fake_url,
                }
                argv = [sys.executable, "-m", "gateway.cli", "serve", "--host", LOOPBACK]
                print("starting gateway ...", file=sys.stderr)
                async with running_server(
                    "gateway", [*argv, "--port", str(port)], env, workdir, port
                ) as s:
                    results["gateway"] = await measure(s, feed, args, 1)
                port = free_port()
                base = [sys.executable, str(SCRIPT), "--serve-baseline", str(port), fake_url]
                print("starting baseline ...", file=sys.stderr)
                async with running_server("baseline", base, _clean_env(), workdir, port) as s:
                    results["baseline"] = await measure(s, feed, args, 2)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            if fake.errors_logged:
                raise RuntimeError(f"the fake API failed\n{fake.describe_failure()}")
    return {
        "machine": machine(),
        "load": {
            "customers": args.customers,
            "messages": args.messages,
            "warmup": args.warmup,
            "questions": len(QUESTIONS),
            "distinct_texts": args.distinct,
            "fake_api": "its own subprocess",
        },
        "results": {name: asdict(result) for name, result in results.items()},
        "gateway_over_baseline": ratios(results["gateway"], results["baseline"]),
    }


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--customers", type=_positive, default=16, help="phones sending SMS (default 16)"
    )
    parser.add_argument(
        "--messages", type=_positive, default=1000, help="measured messages (default 1000)"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="unmeasured messages first (default 50)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="hard limit per server run, s (default 300)"
    )
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="make every message text unique, so no answer comes from a text cache",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
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
    if args.warmup < 0:
        print("--warmup must not be negative", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(bench(args))
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("benchmark interrupted; servers stopped", file=sys.stderr)
        return 130
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
