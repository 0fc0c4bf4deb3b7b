"""The whole gateway's resident memory and time to ready, as `onethread serve` runs it.

    python bench/gateway_memory.py [--runs 3] [--queries 20]

Starts `python -m gateway.cli serve` on a free port with a fresh SQLite store (so it imports and
trains the bundled demo knowledge base, as the README's run command does), polls `GET /readyz`
until it answers 200, then asks the demo questions through web chat and `POST /api/v1/kb/query`
and reads the process's VmRSS (and its peak, VmHWM) from /proc. Prints each figure as the median
of --runs fresh starts. Targets: ready <= 3 s after start, resident memory <= 300 MB.
The model cache (ONETHREAD_MODEL_CACHE) is the user's, as for `scripts/run`: after the first start
(or `scripts/run`'s install step) the demo's training embeddings are remembered there, so the
median is a prepared start; point ONETHREAD_MODEL_CACHE at an empty directory to time an
unprepared one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import LOOPBACK, QUESTIONS, free_port  # noqa: E402

ADMIN_TOKEN = "bench-token"
READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Sample:
    """One fresh gateway: seconds from spawn to /readyz 200, and memory in MB."""

    ready_s: float
    cpu_ready_s: float  # CPU the gateway used until ready: its share of a busy host's cores aside
    rss_ready_mb: float
    rss_mb: float
    peak_mb: float


def proc_status_mb(pid: int, key: str) -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_ready(session: aiohttp.ClientSession, base: str, proc: asyncio.subprocess.Process,
                     started: float) -> float:
    """Poll /readyz until 200; seconds since `started`."""
    while time.perf_counter() - started < READY_TIMEOUT_S:
        if proc.returncode is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode} before it was ready")
        try:
            async with session.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    return time.perf_counter() - started
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.02)
    raise TimeoutError("gateway not ready in time")


async def ask(session: aiohttp.ClientSession, base: str, questions: list[str]) -> None:
    """Each question once through web chat (waiting for the bot's reply) and once via the API."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for text in questions:
        async with session.post(f"{base}/api/v1/kb/query", json={"text": text,
                                "channel": "webchat"}, headers=headers) as resp:
            resp.raise_for_status()
    async with session.ws_connect(f"{base}/webchat/ws") as ws:
        await ws.send_json({"type": "hello", "visitor_id": "bench-visitor"})
        for n, text in enumerate(questions):
            await ws.send_json({"type": "message", "text": text, "client_msg_id": f"m{n}"})
            while True:
                frame = await asyncio.wait_for(ws.receive_json(), 30)
                if frame.get("type") == "message" and frame.get("from") == "bot":
                    break


async def one_run(queries: int) -> Sample:
    """Start a fresh gateway, measure it, stop it."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "ONETHREAD_STORE_URL": f"sqlite:///{tmp}/store.sqlite3",
               "ONETHREAD_ADMIN_TOKEN": ADMIN_TOKEN, "ONETHREAD_PUBLIC_URL": base}
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "serve", "--host", LOOPBACK, "--port", str(port),
            env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            async with aiohttp.ClientSession() as session:
                ready = await wait_ready(session, base, proc, started)
                cpu = cpu_seconds(proc.pid)
                rss_ready = proc_status_mb(proc.pid, "VmRSS")
                await ask(session, base, list(QUESTIONS[:queries]))
                return Sample(ready, cpu, rss_ready, proc_status_mb(proc.pid, "VmRSS"),
                              proc_status_mb(proc.pid, "VmHWM"))
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    samples = [asyncio.run(one_run(args.queries)) for _ in range(args.runs)]
    for s in samples:
        print(f"  run: ready {s.ready_s:.2f} s (CPU {s.cpu_ready_s:.2f} s), "
              f"RSS at ready {s.rss_ready_mb:.0f} MB, after queries {s.rss_mb:.0f} MB, "
              f"peak {s.peak_mb:.0f} MB")

    def median(field: str) -> float:
        return statistics.median(getattr(s, field) for s in samples)

    print(f"gateway (median of {args.runs} fresh starts, demo KB, {args.queries} questions via web "
          f"chat and the API): ready {median('ready_s'):.2f} s after start (target <= 3; CPU "
          f"{median('cpu_ready_s'):.2f} s)  "
          f"RSS {median('rss_mb'):.0f} MB (target <= 300; at ready {median('rss_ready_mb'):.0f}, "
          f"peak {median('peak_mb'):.0f})")


if __name__ == "__main__":
    main()
