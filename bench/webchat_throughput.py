#!/usr/bin/env python
"""Web chat throughput and latency of the gateway, against a bare aiohttp echo baseline."""

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
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

LOOPBACK = "127.0.0.1"
READY_MARKER = "listening on"
WS_PATH = "/webchat/ws"
SCRIPT = Path(__file__).resolve()  # the baseline is this very script, re-invoked
START_TIMEOUT_S = 180.0  # the gateway trains its retrieval model at start-up
STOP_TIMEOUT_S = 20.0
FRAME_TIMEOUT_S = 30.0  # one stuck reply should fail the run long before the hard timeout

# Realistic first-contact questions for the demo shop; all are FAQ topics, so every turn runs
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


# --------------------------------------------------------------------------- baseline server


def serve_echo(port: int) -> None:
    """Run the baseline: the web chat frame protocol answered with no work at all."""

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        # Same socket options as the gateway's handler, so only the work behind it differs.
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
        await ws.prepare(request)
        seq = 0
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame.get("type") == "hello":
                await ws.send_json(
                    {"type": "welcome", "customer_id": "c-echo", "conversation_id": "k-echo"}
                )
            elif frame.get("type") == "message":
                ts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
                for author, text in (("customer", frame["text"]), ("bot", "echo")):
                    seq += 1
                    await ws.send_json(
                        {
                            "type": "message",
                            "seq": seq,
                            "from": author,
                            "channel": "webchat",
                            "text": text,
                            "ts": ts,
                        }
                    )
        return ws

    app = web.Application()
    app.router.add_get(WS_PATH, websocket)
    web.run_app(
        app,
        host=LOOPBACK,
        port=port,
        print=lambda _: print(f"baseline {READY_MARKER} http://{LOOPBACK}:{port}", file=sys.stderr),
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
class Tally:
    """Shared state of one closed-loop run across all clients."""

    total: int
    warmup: int
    tickets: itertools.count = field(default_factory=itertools.count)
    completed: int = 0
    window_start: float = 0.0
    window_end: float = 0.0
    latencies_s: list[float] = field(default_factory=list)

    def take_ticket(self) -> bool:
        """Whether one more message may be sent; bounds the run by count."""
        return next(self.tickets) < self.total

    def record(self, sent: float, now: float) -> None:
        """Count one answered message; only those after the warm-up are measured."""
        self.completed += 1
        if self.completed == self.warmup:
            self.window_start = now
        elif self.completed > self.warmup:
            self.latencies_s.append(now - sent)
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
    errors_logged: int


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


class Visitor:
    """One web chat client on its own socket, sending its next question only after the answer."""

    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, first_question: int, tag: str | None
    ) -> None:
        self.ws = ws
        self.questions = itertools.islice(itertools.cycle(QUESTIONS), first_question, None)
        self.last_seq = 0
        self.tag = tag
        self.sent = 0

    async def frame(self) -> dict[str, Any]:
        """The next JSON frame; anything else is a failed run."""
        msg = await self.ws.receive(timeout=FRAME_TIMEOUT_S)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"socket ended: {msg.type.name} {msg.data!r}")
        frame = json.loads(msg.data)
        if frame.get("type") == "error":
            raise RuntimeError(f"server refused a frame: {frame}")
        return frame

    async def hello(self, visitor_id: str) -> None:
        """Introduce ourselves and wait for the welcome."""
        await self.ws.send_json({"type": "hello", "visitor_id": visitor_id})
        while (await self.frame()).get("type") != "welcome":
            pass

    async def ask(self) -> float:
        """Send one question and wait for the bot's first answer to it; returns the send time."""
        text = next(self.questions)
        self.sent += 1
        if self.tag is not None:
            # The engine caches embeddings by exact text; a unique tail defeats that cache.
            text = f"{text} (ref {self.tag}.{self.sent})"
        payload = {"type": "message", "text": text, "client_msg_id": uuid.uuid4().hex}
        sent = time.perf_counter()
        await self.ws.send_json(payload)
        echo_seq: int | None = None
        while True:
            frame = await self.frame()
            if frame.get("type") != "message":
                continue
            seq = int(frame["seq"])
            # Extra bot entries of the previous turn may still arrive; they precede our echo.
            if frame["from"] == "customer" and seq > self.last_seq and echo_seq is None:
                echo_seq = seq
            elif frame["from"] == "bot" and echo_seq is not None and seq > echo_seq:
                self.last_seq = seq
                return sent
            self.last_seq = max(self.last_seq, seq)


async def run_load(
    port: int, concurrency: int, messages: int, warmup: int, distinct: bool
) -> Tally:
    """Drive one server with `concurrency` closed-loop visitors until all messages are answered."""
    tally = Tally(total=warmup + messages, warmup=warmup)
    run_id = uuid.uuid4().hex[:8]
    url = f"http://{LOOPBACK}:{port}{WS_PATH}"
    connected = 0
    go = asyncio.Event()

    async def visitor(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal connected
        async with session.ws_connect(url, max_msg_size=1 << 20) as ws:
            client = Visitor(ws, index % len(QUESTIONS), str(index) if distinct else None)
            await client.hello(f"bench-{run_id}-{index}")
            # Every socket is open before the clock starts, so connecting is not measured.
            connected += 1
            if connected == concurrency:
                tally.window_start = time.perf_counter()
                go.set()
            await go.wait()
            while tally.take_ticket():
                sent = await client.ask()
                tally.record(sent, time.perf_counter())

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.TaskGroup() as group:
        for index in range(concurrency):
            group.create_task(visitor(index, session))
    return tally


async def measure(server: Server, args: argparse.Namespace) -> Result:
    """One bounded run against one server."""
    print(f"  driving {server.name} on port {server.port} ...", file=sys.stderr)
    errors_before = server.errors_logged
    try:
        async with asyncio.timeout(args.timeout):
            tally = await run_load(
                server.port, args.concurrency, args.messages, args.warmup, args.distinct
            )
    except TimeoutError:
        raise RuntimeError(
            f"{server.name}: run exceeded {args.timeout:.0f}s\n{server.describe_failure()}"
        ) from None
    except Exception as exc:
        # TaskGroup wraps a client's failure; the first one is the informative one.
        cause = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
        why = f"{type(cause).__name__}: {cause}"
        raise RuntimeError(f"{server.name}: {why}\n{server.describe_failure()}") from exc
    ordered = sorted(tally.latencies_s)
    seconds = tally.window_end - tally.window_start
    return Result(
        messages=len(ordered),
        seconds=round(seconds, 3),
        msgs_per_s=round(len(ordered) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(ordered, 50) * 1000, 2),
        p99_ms=round(percentile(ordered, 99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2),
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
        "onethread web chat throughput (closed loop, loopback)",
        f"machine: {box['cpu']}, {box['cores']} cores ({box['usable_cores']} usable), "
        f"{box['os']}, Python {box['python']}, aiohttp {box['aiohttp']}",
        f"load: concurrency {load['concurrency']}, {load['messages']} measured messages "
        f"after {load['warmup']} warm-up, "
        f"{texts}; client, gateway and baseline share these cores",
        "",
        f"{'server':<10}{'messages':>10}{'seconds':>10}{'msgs/s':>10}"
        f"{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for name in ("gateway", "baseline"):
        r = report["results"][name]
        lines.append(
            f"{name:<10}{r['messages']:>10}{r['seconds']:>10.2f}{r['msgs_per_s']:>10.1f}"
            f"{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['max_ms']:>10.2f}"
        )
    ratio = report["gateway_over_baseline"]
    lines += [
        "",
        f"gateway/baseline: throughput {ratio['throughput']:.3f}x, "
        f"p50 {ratio['p50']:.1f}x, p99 {ratio['p99']:.1f}x",
    ]
    errors = report["results"]["gateway"]["errors_logged"]
    if errors:
        lines.append(f"warning: the gateway logged {errors} error lines during its run")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the gateway, then the baseline, each in its own process on its own port."""
    # A SIGTERM to the benchmark must still stop the servers, so it cancels like Ctrl-C does.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="onethread-bench-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        # A fresh store per run; the temp dir as cwd keeps any local onethread.toml out of it.
        env = {**os.environ, "ONETHREAD_STORE_URL": f"sqlite:///{workdir / 'store.sqlite3'}"}
        argv = [sys.executable, "-m", "gateway.cli", "serve", "--host", LOOPBACK]
        print("starting gateway ...", file=sys.stderr)
        async with running_server("gateway", [*argv, "--port", str(port)], env, workdir, port) as s:
            results["gateway"] = await measure(s, args)
        port = free_port()
        echo = [sys.executable, str(SCRIPT), "--serve-echo", str(port)]
        print("starting baseline ...", file=sys.stderr)
        async with running_server("baseline", echo, dict(os.environ), workdir, port) as s:
            results["baseline"] = await measure(s, args)
    return {
        "machine": machine(),
        "load": {
            "concurrency": args.concurrency,
            "messages": args.messages,
            "warmup": args.warmup,
            "questions": len(QUESTIONS),
            "distinct_texts": args.distinct,
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
    parser.add_argument("--concurrency", type=_positive, default=16, help="clients (default 16)")
    parser.add_argument(
        "--messages", type=_positive, default=2000, help="measured messages (default 2000)"
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="unmeasured messages first (default 100)"
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
    parser.add_argument("--serve-echo", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both measurements, print the report."""
    args = _parser().parse_args(argv)
    if args.serve_echo is not None:
        serve_echo(args.serve_echo)
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
