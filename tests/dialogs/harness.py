"""Driving one customer's conversation through the real gateway on web chat and SMS.

Replies are read back from the web chat feed (every entry of the conversation, whatever channel
it came on) and, for a whole turn, from the store: the router stores a turn's replies in one
atomic step before it publishes them, so once the first reply arrives all of them are stored.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from dialogs.commerce.demo import DemoCommerce
from dialogs.commerce.http_app import create_app
from gateway.http_ops import SERVICES
from tests.fakes.providers import FakeProviders
from tests.support import REPO_ROOT, Visitor, free_port

PUBLIC_URL = "https://gateway.example"
SID = "AC" + "0" * 32
TOKEN = "twilio-token-for-flow-tests"
OUR_NUMBER = "+15557654321"
SITE_SECRET = "site-secret-for-flow-tests-32-bytes!"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"

# Demo customers (dialogs/commerce/demo.py seeds their orders).
ANA = "+14155550123"
JORDAN = "+16175550188"


@dataclass(frozen=True)
class Said:
    """A bot entry: its text, channel and quick replies."""

    text: str
    channel: str
    buttons: tuple[tuple[str, str], ...]
    meta: dict[str, Any]

    @property
    def payloads(self) -> list[str]:
        """The quick replies' payloads."""
        return [p for _, p in self.buttons]


def identity_token(**claims: Any) -> str:
    """A web chat identity token signed like the site would."""
    return jwt.encode({"iat": int(time.time()), **claims}, SITE_SECRET, algorithm="HS256")


class Thread:
    """One customer: a web chat socket that sees the whole conversation, and an SMS phone."""

    def __init__(self, client: TestClient, web_chat: Visitor, phone: str | None) -> None:
        self.client = client
        self.web_chat = web_chat
        self.phone = phone
        self.conversation_id = ""
        self.customer_id = ""
        self._sms = 0

    @property
    def store(self) -> Any:
        """The gateway's store."""
        return self.client.server.app[SERVICES].store

    async def open(self, visitor_id: str, token: str | None) -> Thread:
        """Say hello on web chat."""
        fields = {"identity_token": token} if token else {}
        welcome = await self.web_chat.hello(visitor_id, **fields)
        assert welcome["type"] == "welcome", welcome
        self.conversation_id = welcome["conversation_id"]
        self.customer_id = welcome["customer_id"]
        return self

    async def web(self, text: str) -> list[Said]:
        """Type on web chat; the bot's replies to it."""
        await self.web_chat.ws.send_json(
            {"type": "message", "text": text, "client_msg_id": uuid.uuid4().hex}
        )
        return await self._turn()

    async def press(self, payload: str) -> list[Said]:
        """Press a quick reply on web chat."""
        await self.web_chat.ws.send_json({"type": "postback", "payload": payload})
        return await self._turn()

    async def sms(self, text: str) -> list[Said]:
        """Text from the customer's phone through the signed Twilio webhook."""
        assert self.phone is not None
        self._sms += 1
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": SID, "From": self.phone,
            "To": OUR_NUMBER, "Body": text, "NumMedia": "0",
        }
        url = f"{PUBLIC_URL}/webhooks/twilio"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form),
        }
        resp = await self.client.post("/webhooks/twilio", data=urlencode(form), headers=headers)
        assert resp.status == 200
        return await self._turn()

    async def _turn(self) -> list[Said]:
        mine = await self.web_chat.until(lambda f: f["type"] == "message"
                                         and f["from"] == "customer")
        await self.web_chat.until(lambda f: f["type"] == "message" and f["from"] == "bot"
                                  and f["seq"] > mine["seq"])
        entries = await self.store.transcript.entries(self.conversation_id, after_seq=mine["seq"])
        replies = []
        for entry in entries:
            if entry.author != "bot":
                break
            buttons = tuple((q.title, q.payload) for q in entry.quick_replies)
            replies.append(Said(entry.text, entry.channel, buttons, dict(entry.meta)))
        return replies

    async def customer_entries(self) -> list[str]:
        """What the transcript holds of the customer's own messages."""
        entries = await self.store.transcript.entries(self.conversation_id)
        return [e.text for e in entries if e.author == "customer"]


def texts(replies: list[Said]) -> str:
    """Every reply's text in one string, for `in` checks."""
    return "\n".join(r.text for r in replies)


def sms_to(fake: FakeProviders, number: str) -> list[str]:
    """Bodies of the texts the gateway sent to a number."""
    return [r.form["Body"] for r in fake.calls("twilio", "POST", MESSAGES_PATH)
            if r.form["To"] == number]


@contextmanager
def commerce_server(backend: DemoCommerce) -> Iterator[str]:
    """The commerce HTTP interface over `backend`, on loopback in a thread with its own loop."""
    port = free_port()
    ready = threading.Event()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        runner = web.AppRunner(create_app(backend))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop.append(asyncio.Event())
        ready.set()
        await stop[0].wait()
        await runner.cleanup()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(timeout=30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=10)
        loop.close()


def _until_healthy(url: str, proc: subprocess.Popen, log: list[str], wait: float = 60.0) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("rasa-sdk action server is not healthy:\n" + "".join(log))
        time.sleep(0.1)


@contextmanager
def rasa_action_server(commerce_url: str) -> Iterator[str]:
    """rasa-sdk's own action server (`python -m rasa_sdk`) serving dialogs.actions."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ONETHREAD_COMMERCE_URL": commerce_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "dialogs.actions", "--port", str(port)],
        env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    up = threading.Event()
    log: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if "up and running" in line:
                up.set()
        up.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        up.wait(timeout=120)
        assert proc.poll() is None, "".join(log)
        # Sanic says "up and running" before its worker listens: ask its /health until it answers.
        _until_healthy(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
