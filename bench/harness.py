"""What the throughput benchmarks share: server subprocesses, the closed-loop tally, the report.

Imported by `webchat_throughput.py` and `sms_throughput.py` as a sibling module: running
`python bench/X.py` puts `bench/` first on `sys.path`, from any working directory.
"""

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
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp

T = TypeVar("T")

LOOPBACK = "127.0.0.1"
READY_MARKER = "listening on"
START_TIMEOUT_S = 180.0  # the gateway trains its retrieval model at start-up
STOP_TIMEOUT_S = 20.0

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


def questions_from(first: int) -> Iterator[str]:
    """The questions in an endless cycle, starting at `first`."""
    return itertools.islice(itertools.cycle(QUESTIONS), first, None)


def ready_print(name: str, port: int) -> Callable[[str], None]:
    """The line the parent waits for, on stderr, instead of aiohttp's banner."""
    return lambda _: print(f"{name} {READY_MARKER} http://{LOOPBACK}:{port}", file=sys.stderr)


# --------------------------------------------------------------------------- reporting fakes

# What a reporting fake says about one request it answered: a JSON-able event, or None.
Describe = Callable[[Any, Any, float], Awaitable[dict[str, Any] | None]]


def serve_reporting_fake(fake: Any, port: int, feed_path: str, describe: Describe) -> None:
    """Run a tests.fakes FakeProviders app plus a WebSocket at `feed_path` that streams, for each
    request, what `describe(request, response, arrived)` makes of it (None: nothing)."""
    from aiohttp import web

    listeners: set[web.WebSocketResponse] = set()

    @web.middleware
    async def report(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # The clock is read before the fake even reads the body: this is when the call arrived.
        # CLOCK_MONOTONIC is one clock for every process on the host, so the client can use it.
        arrived = time.monotonic()
        response = await handler(request)
        event = await describe(request, response, arrived)
        if event is not None:
            text = json.dumps(event)
            for ws in list(listeners):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(text)
            fake.clear()  # nobody reads the records; keep memory flat over long runs
        return response

    async def feed(request: web.Request) -> web.WebSocketResponse:
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
    app.middlewares.append(report)
    app.router.add_get(feed_path, feed)
    web.run_app(
        app,
        host=LOOPBACK,
        port=port,
        print=ready_print("fake", port),
        access_log=None,
        shutdown_timeout=2,
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


def self_argv(script: Path, *args: str) -> list[str]:
    """The command line that runs `script` again, as one of its own helper servers."""
    return [sys.executable, str(script), *args]


def gateway_argv(port: int) -> list[str]:
    """The command line of the real gateway on a loopback port."""
    return [sys.executable, "-m", "gateway.cli", "serve", "--host", LOOPBACK, "--port", str(port)]


def store_url(workdir: Path) -> str:
    """A fresh SQLite store in the run's temporary directory."""
    return f"sqlite:///{workdir / 'store.sqlite3'}"


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

    def record(self, latency: float, now: float) -> bool:
        """Count one answered message; only those after the warm-up are measured (True)."""
        self.completed += 1
        if self.completed == self.warmup:
            self.window_start = now
        elif self.completed > self.warmup:
            self.latencies_s.append(latency)
            self.window_end = now
            return True
        return False


async def drive(server: Server, limit_s: float, run: Awaitable[T]) -> tuple[T, int]:
    """Await one bounded load run; returns its outcome and the error lines the server logged."""
    print(f"  driving {server.name} on port {server.port} ...", file=sys.stderr)
    errors_before = server.errors_logged
    try:
        async with asyncio.timeout(limit_s):
            outcome = await run
    except TimeoutError:
        raise RuntimeError(
            f"{server.name}: run exceeded {limit_s:.0f}s\n{server.describe_failure()}"
        ) from None
    except Exception as exc:
        # TaskGroup wraps a client's failure; the first one is the informative one.
        cause = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
        why = f"{type(cause).__name__}: {cause}"
        raise RuntimeError(f"{server.name}: {why}\n{server.describe_failure()}") from exc
    return outcome, server.errors_logged - errors_before


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def spread_ms(samples_s: list[float], prefix: str = "") -> dict[str, float]:
    """p50, p99 and max of samples in seconds, as milliseconds under `<prefix>p50_ms` etc."""
    ordered = sorted(samples_s)
    return {
        f"{prefix}p50_ms": round(percentile(ordered, 50) * 1000, 2),
        f"{prefix}p99_ms": round(percentile(ordered, 99) * 1000, 2),
        f"{prefix}max_ms": round(ordered[-1] * 1000, 2),
    }


def figures(tally: Tally) -> dict[str, Any]:
    """Messages, window, throughput and latency spread of one measured run."""
    seconds = tally.window_end - tally.window_start
    count = len(tally.latencies_s)
    return {
        "messages": count,
        "seconds": round(seconds, 3),
        "msgs_per_s": round(count / seconds, 1) if seconds > 0 else 0.0,
        **spread_ms(tally.latencies_s),
    }


# --------------------------------------------------------------------------- report


class Figures(Protocol):
    """The part of a result every benchmark reports."""

    @property
    def msgs_per_s(self) -> float: ...
    @property
    def p50_ms(self) -> float: ...
    @property
    def p99_ms(self) -> float: ...


def ratios(gateway: Figures, baseline: Figures) -> dict[str, float]:
    """Gateway over baseline: below 1 for throughput, above 1 for latency means slower."""
    return {
        "throughput": round(gateway.msgs_per_s / baseline.msgs_per_s, 3),
        "p50": round(gateway.p50_ms / baseline.p50_ms, 2),
        "p99": round(gateway.p99_ms / baseline.p99_ms, 2),
    }


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


def machine_line(box: dict[str, Any]) -> str:
    """The table's line about the machine."""
    return (
        f"machine: {box['cpu']}, {box['cores']} cores ({box['usable_cores']} usable), "
        f"{box['os']}, Python {box['python']}, aiohttp {box['aiohttp']}"
    )


def texts_mode(load: dict[str, Any]) -> str:
    """Which message texts the load used, for the table."""
    if load["distinct_texts"]:
        return "unique texts"
    return f"{load['questions']} questions repeated verbatim"


# --------------------------------------------------------------------------- main


def positive(raw: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_load_options(parser: argparse.ArgumentParser, messages: int, warmup: int) -> None:
    """--messages, --warmup, --timeout, --distinct and --json, with these defaults."""
    parser.add_argument(
        "--messages",
        type=positive,
        default=messages,
        help=f"measured messages (default {messages})",
    )
    parser.add_argument(
        "--warmup", type=int, default=warmup, help=f"unmeasured messages first (default {warmup})"
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


def cancel_on_sigterm() -> None:
    """A SIGTERM to the benchmark must still stop the servers, so it cancels like Ctrl-C does."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def run_and_report(
    args: argparse.Namespace,
    bench: Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]],
    table: Callable[[dict[str, Any]], str],
) -> int:
    """Run both measurements and print the report, as a table or as JSON; the exit status."""
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
