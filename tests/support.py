"""Test harness: a running gateway on a temporary store, and a web chat visitor to drive it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway import app as app_module
from gateway.settings import Settings, load_settings, parse_store_url
from knowledge.answerer import Answerer
from knowledge.content import load_folder

REPO_ROOT = Path(__file__).resolve().parent.parent
_ANSWERER: Answerer | None = None


def demo_answerer() -> Answerer:
    """The demo knowledge base's answerer, trained once per test session."""
    global _ANSWERER
    if _ANSWERER is None:
        _ANSWERER = Answerer.build(load_folder(Settings().kb_dir))
    return _ANSWERER


def gateway_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Default settings on a store in tmp_path."""
    base = load_settings({}, Path("/nonexistent.toml"))
    store_url = parse_store_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    return replace(base, store_url=store_url, **overrides)


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[TestClient]:
    """The real app on a local port, with the demo answerer reused across tests."""

    async def cached(kb: object, thresholds: object = None) -> Answerer:
        return demo_answerer()

    original = app_module.build_answerer
    app_module.build_answerer = cached
    try:
        client = TestClient(TestServer(app_module.create_app(settings)))
        await client.start_server()
        try:
            yield client
        finally:
            await client.close()
    finally:
        app_module.build_answerer = original


class Visitor:
    """A web chat client: says things and reads what the server sends, frame by frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def next_frame(self, wait: float = 15.0) -> dict[str, Any]:
        """The next frame from the server."""
        msg = await self.ws.receive(timeout=wait)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frame = json.loads(msg.data)
        self.frames.append(frame)
        return frame

    async def until(self, predicate, wait: float = 15.0) -> dict[str, Any]:
        """Read frames until one matches."""
        async with asyncio.timeout(wait):
            while True:
                frame = await self.next_frame()
                if predicate(frame):
                    return frame

    async def hello(self, visitor_id: str, **fields: Any) -> dict[str, Any]:
        """Introduce ourselves; returns the welcome frame."""
        await self.ws.send_json({"type": "hello", "visitor_id": visitor_id, **fields})
        return await self.until(lambda f: f["type"] in {"welcome", "error"})

    async def say(self, text: str, client_msg_id: str | None = None) -> dict[str, Any]:
        """Send a message and return the bot's reply frame."""
        await self.ws.send_json(
            {"type": "message", "text": text, "client_msg_id": client_msg_id or uuid.uuid4().hex}
        )
        return await self.until(lambda f: f["type"] == "message" and f["from"] == "bot")

    def entries(self) -> list[dict[str, Any]]:
        """Message frames received so far."""
        return [f for f in self.frames if f["type"] == "message"]


@asynccontextmanager
async def visitor(client: TestClient) -> AsyncIterator[Visitor]:
    """A connected web chat socket."""
    ws = await client.ws_connect("/webchat/ws")
    try:
        yield Visitor(ws)
    finally:
        await ws.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayProcess(subprocess.Popen):
    """A child gateway whose log is read continuously (a full pipe would freeze it)."""

    log: list[str]
    logged: threading.Condition

    def wait_for_log(self, text: str, timeout: float = 60.0) -> str:
        """Block until a log line containing `text` appears; returns that line."""
        with self.logged:
            found = self.logged.wait_for(
                lambda: next((line for line in self.log if text in line), None), timeout
            )
        if not found:
            raise AssertionError(f"no log line with {text!r}:\n{''.join(self.log)}")
        return found


@contextmanager
def gateway_process(tmp_path: Path, port: int, **env: str) -> Iterator[GatewayProcess]:
    """`onethread serve` as a child process; yields once it listens."""
    environ = {
        **os.environ,
        "ONETHREAD_STORE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        # The checkout under test, whatever copy of onethread is installed.
        "PYTHONPATH": str(REPO_ROOT),
        **env,
    }
    proc = GatewayProcess(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=environ,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.log = []
    proc.logged = threading.Condition()
    listening = threading.Event()

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            with proc.logged:
                proc.log.append(line)
                proc.logged.notify_all()
            if "listening on" in line:
                listening.set()
        listening.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        listening.wait(timeout=120)
        if proc.poll() is not None or not any("listening on" in line for line in proc.log):
            pytest.fail(f"gateway did not start:\n{''.join(proc.log)}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=10)
