"""Messenger, Instagram and WhatsApp Cloud through the whole gateway, against a fake Graph API."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialogs.replies import HANDOFF_UNAVAILABLE
from gateway.http_ops import SERVICES
from gateway.settings import MetaSettings, Secret
from knowledge.render import markdown_to_text
from tests.fakes import (
    INSTAGRAM_SCOPED_ID,
    MESSENGER_PSID,
    WHATSAPP_CUSTOMER_WA_ID,
    WHATSAPP_PHONE_NUMBER_ID,
    load_payload,
)
from tests.fakes.providers import FakeProviders
from tests.fakes.signing import meta_body, meta_headers
from tests.support import demo_answerer, gateway_settings, running_gateway

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
SEND = "/me/messages"
WA_SEND = f"/{WHATSAPP_PHONE_NUMBER_ID}/messages"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders() as providers:
        yield providers


@pytest.fixture
async def client(tmp_path: Path, fake: FakeProviders):
    meta = MetaSettings(
        app_secret=Secret(APP_SECRET),
        verify_token=Secret(VERIFY_TOKEN),
        page_access_token=Secret(fake.meta_token),
        whatsapp_access_token=Secret(fake.meta_token),
        whatsapp_phone_number_id=WHATSAPP_PHONE_NUMBER_ID,
        graph_base_url=fake.meta_base_url,
    )
    async with running_gateway(gateway_settings(tmp_path, meta=meta)) as c:
        yield c


async def post(client, payload: Any, *, sign: str | None = APP_SECRET, raw: bytes | None = None):
    body = raw if raw is not None else meta_body(payload)
    headers = meta_headers(sign, body) if sign else {"Content-Type": "application/json"}
    return await client.post("/webhooks/meta", data=body, headers=headers)


def messenger_text(mid: str, text: str, ts: int = 1700000000123) -> dict[str, Any]:
    payload = load_payload("meta/messenger_text")
    event = payload["entry"][0]["messaging"][0]
    event["timestamp"] = ts
    event["message"].update(mid=mid, text=text)
    return payload


def whatsapp_text(wamid: str, text: str) -> dict[str, Any]:
    payload = load_payload("meta/whatsapp_text")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id=wamid, text={"body": text})
    return payload


def messenger_answer(question: str) -> str:
    """What Messenger shows of the bot's Markdown answer: plain text, links kept."""
    return markdown_to_text(demo_answerer().query(question, "webchat").text)


def is_send(path: str):
    return lambda r: r.provider == "meta" and r.method == "POST" and r.api == path


def sent_texts(fake: FakeProviders) -> list[str]:
    return [r.json["message"]["text"] for r in fake.calls("meta", "POST", SEND)]


async def pending(client) -> int:
    return await client.server.app[SERVICES].store.inbox.pending()


async def test_the_verification_handshake_needs_the_verify_token(client) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = await client.get("/webhooks/meta", params=query)
    assert ok.status == 200
    assert ok.content_type == "text/plain"
    assert await ok.text() == "1158201444"
    wrong = await client.get("/webhooks/meta", params={**query, "hub.verify_token": "guess"})
    assert wrong.status == 403
    unsubscribe = await client.get("/webhooks/meta", params={**query, "hub.mode": "unsubscribe"})
    assert unsubscribe.status == 403
    assert (await client.get("/webhooks/meta")).status == 403


async def test_a_signed_messenger_message_is_answered_through_the_send_api(client, fake) -> None:
    question = "how long does shipping take"
    resp = await post(client, messenger_text("m_ship", question))
    assert resp.status == 200
    (reply,) = await fake.wait_for(is_send(SEND), count=1)
    assert reply.headers["Authorization"] == f"Bearer {fake.meta_token}"
    assert "access_token" not in reply.query
    assert reply.json["recipient"] == {"id": MESSENGER_PSID}
    assert reply.json["messaging_type"] == "RESPONSE"
    assert reply.json["message"]["text"] == messenger_answer(question)
    assert reply.status == 200


async def test_an_instagram_dm_is_answered_to_the_igsid(client, fake) -> None:
    assert (await post(client, load_payload("meta/instagram_text"))).status == 200
    (reply,) = await fake.wait_for(is_send(SEND), count=1)
    assert reply.json["recipient"] == {"id": INSTAGRAM_SCOPED_ID}


async def test_a_whatsapp_message_is_answered_through_the_cloud_api(client, fake) -> None:
    question = "how long does shipping take"
    assert (await post(client, whatsapp_text("wamid.ship", question))).status == 200
    (reply,) = await fake.wait_for(is_send(WA_SEND), count=1)
    assert reply.json["messaging_product"] == "whatsapp"
    assert reply.json["to"] == WHATSAPP_CUSTOMER_WA_ID
    assert reply.status == 200
    assert reply.json["type"] == "text"
    assert reply.json["text"] == {
        "body": demo_answerer().query(question, "whatsapp").text,
        "preview_url": True,
    }


async def test_whatsapp_and_messenger_buttons_are_postbacks(client, fake) -> None:
    # The recorded button reply, pressing the bot's "talk to a person" button: its id, not its
    # title, decides the answer.
    payload = load_payload("meta/whatsapp_button_reply")
    reply = payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]
    reply["button_reply"] = {"id": "handoff:request", "title": "Yes"}
    assert (await post(client, payload)).status == 200
    (sent,) = await fake.wait_for(is_send(WA_SEND), count=1)
    assert sent.json["text"]["body"] == HANDOFF_UNAVAILABLE
    postback = load_payload("meta/messenger_postback")
    postback["entry"][0]["messaging"][0]["postback"]["payload"] = "handoff:request"
    assert (await post(client, postback)).status == 200
    (sent,) = await fake.wait_for(is_send(SEND), count=1)
    assert sent.json["message"]["text"] == HANDOFF_UNAVAILABLE


async def test_forged_unsigned_and_malformed_webhooks_change_nothing(client, fake) -> None:
    payload = messenger_text("m_forged", "hello")
    assert (await post(client, payload, sign=None)).status == 403
    assert (await post(client, payload, sign="not-the-app-secret")).status == 403
    body = meta_body(payload)
    tampered = body.replace(b"hello", b"HELLO")
    headers = meta_headers(APP_SECRET, body)
    assert (await client.post("/webhooks/meta", data=tampered, headers=headers)).status == 403
    assert (await post(client, None, raw=b"{not json")).status == 400
    assert (await post(client, None, raw=b"\xff\xfe")).status == 400
    assert (await post(client, {"object": "page", "entry": "nope"})).status == 400
    assert (await post(client, {"object": "somethingelse", "entry": []})).status == 400
    huge = messenger_text("m_huge", "x" * 2_000_000)
    assert (await post(client, huge)).status == 413
    assert fake.calls("meta") == []
    assert await pending(client) == 0


async def test_echoes_receipts_and_statuses_are_acknowledged_and_ignored(client, fake) -> None:
    for name in ("messenger_echo", "messenger_delivery", "messenger_read", "whatsapp_status"):
        assert (await post(client, load_payload(f"meta/{name}"))).status == 200
    await post(client, messenger_text("m_after", "thanks"))
    await fake.wait_for(is_send(SEND), count=1)
    assert len(fake.calls("meta")) == 1


async def test_the_same_message_delivered_three_times_is_answered_once(client, fake) -> None:
    payload = messenger_text("m_dup", "do you price match")
    for _ in range(3):
        assert (await post(client, payload)).status == 200
    await post(client, messenger_text("m_next", "thanks"))
    await fake.wait_for(is_send(SEND), count=2)
    wa = whatsapp_text("wamid.dup", "do you price match")
    for _ in range(3):
        assert (await post(client, wa)).status == 200
    await post(client, whatsapp_text("wamid.next", "thanks"))
    await fake.wait_for(is_send(WA_SEND), count=2)
    assert fake.count("meta", "POST", SEND) == 2
    assert fake.count("meta", "POST", WA_SEND) == 2


async def test_a_batch_is_stored_whole_then_answered_oldest_first(client, fake) -> None:
    first = messenger_text("m_b1", "how much is shipping", ts=1700000000000)
    second = messenger_text("m_b2", "do you ship to canada", ts=1700000005000)
    batch = copy.deepcopy(second)
    batch["entry"].append(first["entry"][0])
    batch["entry"].append(load_payload("meta/messenger_echo")["entry"][0])
    assert (await post(client, batch)).status == 200
    await fake.wait_for(is_send(SEND), count=2)
    assert sent_texts(fake) == [
        messenger_answer("how much is shipping"),
        messenger_answer("do you ship to canada"),
    ]


async def test_replies_wait_out_a_graph_outage_and_arrive_in_order(client, fake) -> None:
    fake.fail_next("meta", status=500, times=2)
    await post(client, messenger_text("m_o1", "how much is shipping", ts=1700000000000))
    await post(client, messenger_text("m_o2", "do you ship to canada", ts=1700000001000))
    await fake.wait_for(is_send(SEND), count=4, timeout=30)
    ok = [r for r in fake.calls("meta", "POST", SEND) if r.status == 200]
    assert len(ok) == 2
    failed = [r for r in fake.calls("meta", "POST", SEND) if r.status != 200]
    assert [r.status for r in failed] == [500, 500]
    assert [r.json["message"]["text"] for r in ok] == [
        messenger_answer("how much is shipping"),
        messenger_answer("do you ship to canada"),
    ]


async def test_whatsapp_delivery_reports_are_recorded_against_the_reply(client, fake) -> None:
    import asyncio

    await post(client, whatsapp_text("wamid.status-test", "how long does shipping take"))
    (call,) = await fake.wait_for(is_send(WA_SEND), count=1)
    wamid = call.response["messages"][0]["id"]
    store = client.server.app[SERVICES].store
    async with asyncio.timeout(10):
        # The reply is marked sent right after Graph answers; the store has no feed to await.
        while not await store.outbox.list("sent"):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    report = copy.deepcopy(load_payload("meta/whatsapp_status"))
    statuses = report["entry"][0]["changes"][0]["value"]["statuses"]
    statuses[0].update({"id": wamid, "status": "read"})
    assert (await post(client, report)).status == 200
    (sent,) = await store.outbox.list("sent")
    assert (sent.provider_ids, sent.receipt) == ((wamid,), "read")
