"""The web chat protocol of the contract, driven over a real WebSocket against the real app."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import jwt
import pytest

from tests.support import gateway_settings, running_gateway, visitor

SECRET = "site-secret-for-tests-32-bytes-long!"


@pytest.fixture
async def client(tmp_path: Path):
    from gateway.settings import Secret

    async with running_gateway(
        gateway_settings(tmp_path, webchat_identity_secret=Secret(SECRET))
    ) as c:
        yield c


async def test_a_question_gets_the_knowledge_base_answer(client) -> None:
    async with visitor(client) as v:
        welcome = await v.hello("visitor-1")
        assert welcome["type"] == "welcome"
        assert welcome["customer_id"].startswith("cus_")
        reply = await v.say("how long does shipping take")
        mine, bot = v.entries()
        assert (mine["seq"], mine["from"], mine["channel"]) == (1, "customer", "webchat")
        assert mine["text"] == "how long does shipping take"
        assert (bot["seq"], bot["from"]) == (2, "bot")
        assert "3–6 business days" in reply["text"]


async def test_the_same_client_msg_id_twice_is_one_message(client) -> None:
    async with visitor(client) as v:
        await v.hello("visitor-2")
        await v.say("do you ship to canada", client_msg_id="m-1")
        await v.ws.send_json(
            {"type": "message", "text": "do you ship to canada", "client_msg_id": "m-1"}
        )
        await v.say("thanks!", client_msg_id="m-2")
    async with visitor(client) as again:
        await again.hello("visitor-2")
        await again.until(lambda f: f.get("seq") == 4)
        texts = [(e["from"], e["text"]) for e in again.entries()]
        assert [t for t in texts if t[0] == "customer"] == [
            ("customer", "do you ship to canada"),
            ("customer", "thanks!"),
        ]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message", "text": "", "client_msg_id": "x"}', "bad_message"),
        ('{"type": "message", "text": "hi"}', "bad_message"),
        ('{"type": "message", "text": "' + "x" * 5000 + '", "client_msg_id": "x"}', "too_long"),
        ('{"type": "postback"}', "bad_postback"),
        ('{"type": "hello", "visitor_id": "a b"}', "bad_frame"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_up(client, frame, code) -> None:
    async with visitor(client) as v:
        if not frame.startswith('{"type": "hello"'):
            await v.hello("visitor-3")
        await v.ws.send_str(frame)
        error = await v.until(lambda f: f["type"] == "error")
        assert error["code"] == code
        if frame.startswith('{"type": "hello"'):
            await v.hello("visitor-3")
        reply = await v.say("how much is shipping")
        assert reply["from"] == "bot"


async def test_a_message_before_hello_is_refused(client) -> None:
    async with visitor(client) as v:
        await v.ws.send_json({"type": "message", "text": "hi", "client_msg_id": "1"})
        error = await v.until(lambda f: f["type"] == "error")
        assert error["code"] == "hello_required"


async def test_resume_by_last_seq_sends_only_what_was_missed(client) -> None:
    async with visitor(client) as v:
        welcome = await v.hello("visitor-4")
        await v.say("what payment methods do you take")
        await v.say("do gift cards expire")
    async with visitor(client) as again:
        resumed = await again.hello(
            "visitor-4", last_seq=2, conversation_id=welcome["conversation_id"]
        )
        assert resumed["conversation_id"] == welcome["conversation_id"]
        entry = await again.until(lambda f: f["type"] == "message")
        assert entry["seq"] == 3
        assert entry["text"] == "do gift cards expire"


async def test_every_open_tab_sees_every_entry(client) -> None:
    async with visitor(client) as tab1, visitor(client) as tab2:
        await tab1.hello("visitor-5")
        await tab2.hello("visitor-5")
        await tab1.say("where are your stores")
        seen = await tab2.until(lambda f: f["type"] == "message" and f["from"] == "bot")
        assert [e["seq"] for e in tab2.entries()] == [1, 2]
        assert seen["text"] == tab1.entries()[-1]["text"]


def token(**claims) -> str:
    return jwt.encode({"iat": int(time.time()), **claims}, SECRET, algorithm="HS256")


async def test_a_signed_identity_follows_the_user_across_devices(client) -> None:
    ann = token(sub="user-42", email="ann@example.com", name="Ann")
    async with visitor(client) as laptop:
        first = await laptop.hello("laptop", identity_token=ann)
        await laptop.say("how do i reset my password")
    async with visitor(client) as phone:
        second = await phone.hello("phone", identity_token=ann)
        await phone.until(lambda f: f.get("seq") == 2)
    assert second["customer_id"] == first["customer_id"]
    assert second["conversation_id"] == first["conversation_id"]


async def test_a_forged_identity_token_is_refused_and_leaks_nothing(client) -> None:
    ann = token(sub="user-42", email="ann@example.com")
    forged = jwt.encode(
        {"sub": "user-42", "email": "ann@example.com"},
        "wrong-secret-of-the-same-length!!!!",
        algorithm="HS256",
    )
    async with visitor(client) as real:
        first = await real.hello("device-a", identity_token=ann)
        await real.say("what is your return policy")
    async with visitor(client) as attacker:
        error = await attacker.hello("device-b", identity_token=forged)
        assert error["code"] == "bad_identity_token"
        welcome = await attacker.until(lambda f: f["type"] == "welcome")
        assert welcome["customer_id"] != first["customer_id"]
        reply = await attacker.say("hello")
        assert [e["seq"] for e in attacker.entries()] == [1, 2]
        assert reply["seq"] == 2


async def test_the_widget_is_served_small_and_the_demo_page_embeds_it(client) -> None:
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        widget = await raw.get(
            client.make_url("/webchat/widget.js"), headers={"Accept-Encoding": "gzip"}
        )
        assert widget.status == 200
        assert widget.headers["Content-Type"].startswith("application/javascript")
        assert widget.headers["Content-Encoding"] == "gzip"
        assert 1_000 < len(await widget.read()) < 12_000
    page = await (await client.get("/")).text()
    assert '<script src="/webchat/widget.js"' in page
