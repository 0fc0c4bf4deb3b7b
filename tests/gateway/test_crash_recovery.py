"""A gateway killed between any two steps loses nothing and answers nothing twice."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp
import pytest

from tests.support import Visitor, free_port, gateway_process

CRASH_EXIT = 70


async def open_visitor(session: aiohttp.ClientSession, port: int) -> Visitor:
    return Visitor(await session.ws_connect(f"http://127.0.0.1:{port}/webchat/ws"))


@pytest.mark.parametrize("point", ["after_accept", "after_customer_entry", "after_reply"])
async def test_killed_mid_message_answers_exactly_once_after_restart(
    tmp_path: Path, point: str
) -> None:
    port = free_port()
    async with aiohttp.ClientSession() as session:
        with gateway_process(tmp_path, port, ONETHREAD_CRASH_AT=point) as doomed:
            v = await open_visitor(session, port)
            await v.hello("crash-visitor")
            await v.ws.send_json(
                {"type": "message", "text": "how long does shipping take", "client_msg_id": "c1"}
            )
            assert doomed.wait(timeout=60) == CRASH_EXIT
            await v.ws.close()
        with gateway_process(tmp_path, port):
            v = await open_visitor(session, port)
            await v.hello("crash-visitor")
            # The client resends what it never saw acknowledged: still one message.
            await v.ws.send_json(
                {"type": "message", "text": "how long does shipping take", "client_msg_id": "c1"}
            )
            await v.ws.send_json({"type": "message", "text": "thanks", "client_msg_id": "c2"})
            await v.until(lambda f: f.get("seq") == 4)
            await v.ws.close()
    entries = [(e["seq"], e["from"]) for e in v.entries()]
    assert entries == [(1, "customer"), (2, "bot"), (3, "customer"), (4, "bot")]
    assert "3–6 business days" in v.entries()[1]["text"]


async def test_sigterm_drains_and_exits_cleanly(tmp_path: Path) -> None:
    port = free_port()
    async with aiohttp.ClientSession() as session:
        with gateway_process(tmp_path, port) as proc:
            v = await open_visitor(session, port)
            await v.hello("polite")
            await v.say("do you price match")
            # An open socket must not hold shutdown up: the server closes it, going away.
            proc.send_signal(signal.SIGTERM)
            closing = await v.ws.receive(timeout=10)
            assert closing.type == aiohttp.WSMsgType.CLOSE
            assert closing.data == aiohttp.WSCloseCode.GOING_AWAY
            assert proc.wait(timeout=20) == 0
