#!/usr/bin/env python
"""Web chat throughput and latency of the gateway, against a bare aiohttp echo baseline."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import harness
from aiohttp import web
from harness import LOOPBACK, QUESTIONS, Server

WS_PATH = "/webchat/ws"
SCRIPT = Path(__file__).resolve()  # the baseline is this very script, re-invoked
FRAME_TIMEOUT_S = 30.0  # one stuck reply should fail the run long before the hard timeout


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
        print=harness.ready_print("baseline", port),
        access_log=None,
        shutdown_timeout=5,
    )


# --------------------------------------------------------------------------- load


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


class Visitor:
    """One web chat client on its own socket, sending its next question only after the answer."""

    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, first_question: int, tag: str | None
    ) -> None:
        self.ws = ws
        self.questions = harness.questions_from(first_question)
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
) -> harness.Tally:
    """Drive one server with `concurrency` closed-loop visitors until all messages are answered."""
    tally = harness.Tally(total=warmup + messages, warmup=warmup)
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
                now = time.perf_counter()
                tally.record(now - sent, now)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.TaskGroup() as group:
        for index in range(concurrency):
            group.create_task(visitor(index, session))
    return tally


async def measure(server: Server, args: argparse.Namespace) -> Result:
    """One bounded run against one server."""
    run = run_load(server.port, args.concurrency, args.messages, args.warmup, args.distinct)
    tally, errors = await harness.drive(server, args.timeout, run)
    return Result(**harness.figures(tally), errors_logged=errors)


# --------------------------------------------------------------------------- report


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    box, load = report["machine"], report["load"]
    lines = [
        "onethread web chat throughput (closed loop, loopback)",
        harness.machine_line(box),
        f"load: concurrency {load['concurrency']}, {load['messages']} measured messages "
        f"after {load['warmup']} warm-up, "
        f"{harness.texts_mode(load)}; client, gateway and baseline share these cores",
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
    harness.cancel_on_sigterm()
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="onethread-bench-") as tmp:
        workdir = Path(tmp)
        port = harness.free_port()
        # A fresh store per run; the temp dir as cwd keeps any local onethread.toml out of it.
        env = {**os.environ, "ONETHREAD_STORE_URL": harness.store_url(workdir)}
        argv = harness.gateway_argv(port)
        print("starting gateway ...", file=sys.stderr)
        async with harness.running_server("gateway", argv, env, workdir, port) as s:
            results["gateway"] = await measure(s, args)
        port = harness.free_port()
        echo = harness.self_argv(SCRIPT, "--serve-echo", str(port))
        print("starting baseline ...", file=sys.stderr)
        async with harness.running_server("baseline", echo, dict(os.environ), workdir, port) as s:
            results["baseline"] = await measure(s, args)
    return {
        "machine": harness.machine(),
        "load": {
            "concurrency": args.concurrency,
            "messages": args.messages,
            "warmup": args.warmup,
            "questions": len(QUESTIONS),
            "distinct_texts": args.distinct,
        },
        "results": {name: asdict(result) for name, result in results.items()},
        "gateway_over_baseline": harness.ratios(results["gateway"], results["baseline"]),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--concurrency", type=harness.positive, default=16, help="clients (default 16)"
    )
    harness.add_load_options(parser, messages=2000, warmup=100)
    parser.add_argument("--serve-echo", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both measurements, print the report."""
    args = _parser().parse_args(argv)
    if args.serve_echo is not None:
        serve_echo(args.serve_echo)
        return 0
    return harness.run_and_report(args, bench, table)


if __name__ == "__main__":
    sys.exit(main())
