"""Telegram through the whole gateway, and the seed scenario: web, then SMS, then Telegram."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import jwt
import pytest

from gateway.http_ops import SERVICES
from gateway.settings import Secret, TelegramSettings, TwilioSettings
from knowledge.render import markdown_to_telegram_html
from tests.fakes import (
    CUSTOMER_PHONE,
    TELEGRAM_USER_ID,
    TWILIO_ACCOUNT_SID,
    TWILIO_NUMBER,
    load_payload,
)
from tests.fakes.providers import FakeProviders
from tests.fakes.signing import telegram_headers, twilio_headers
from tests.support import demo_answerer, gateway_settings, running_gateway, visitor

PUBLIC_URL = "https://gateway.example"
SECRET = "telegram-webhook-secret_1"
SITE_SECRET = "site-secret-for-tests-32-bytes-long!"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders() as providers:
        yield providers


@pytest.fixture
async def client(tmp_path: Path, fake: FakeProviders):
    settings = gateway_settings(
        tmp_path,
        public_url=PUBLIC_URL,
        webchat_identity_secret=Secret(SITE_SECRET),
        telegram=TelegramSettings(
            Secret(fake.telegram_token), Secret(SECRET), fake.telegram_base_url
        ),
        twilio=TwilioSettings(
            TWILIO_ACCOUNT_SID, Secret(fake.twilio_auth_token), TWILIO_NUMBER, fake.twilio_base_url
        ),
    )
    async with running_gateway(settings) as c:
        yield c


def update(name: str, update_id: int, **message_fields) -> dict:
    data = copy.deepcopy(load_payload(f"telegram/{name}"))
    data["update_id"] = update_id
    if "message" in data:
        data["message"].update(message_fields)
    return data


async def post_update(client, data: dict, secret: str | None = SECRET):
    headers = telegram_headers(secret) if secret is not None else {}
    return await client.post("/webhooks/telegram", json=data, headers=headers)


def sent_texts(fake: FakeProviders) -> list[str]:
    return [r.params["text"] for r in fake.calls("telegram", path="sendMessage")]


async def test_a_message_with_the_secret_is_answered_as_telegram_html(client, fake) -> None:
    resp = await post_update(client, update("message_text", 1, text="how long does shipping take"))
    assert resp.status == 200
    (sent,) = await fake.wait_for(lambda r: r.api == "sendMessage")
    assert sent.params["chat_id"] in (TELEGRAM_USER_ID, str(TELEGRAM_USER_ID))
    assert sent.params["parse_mode"] == "HTML"
    assert "<b>3–6 business days</b>" in sent.params["text"]


async def test_wrong_or_missing_secret_and_junk_change_nothing(client, fake) -> None:
    data = update("message_text", 2, text="hello")
    assert (await post_update(client, data, secret=None)).status == 401
    assert (await post_update(client, data, secret="wrong-secret")).status == 401
    junk = await client.post(
        "/webhooks/telegram", data=b"{not json", headers=telegram_headers(SECRET)
    )
    assert junk.status == 400
    assert (await post_update(client, {"no": "update_id"})).status == 400
    oversized = update("message_text", 99, text="x" * 2_000_000)
    assert (await post_update(client, oversized)).status == 413
    assert await client.server.app[SERVICES].store.inbox.pending() == 0
    assert fake.calls("telegram", path="sendMessage") == []


async def test_the_same_update_three_times_is_answered_once(client, fake) -> None:
    data = update("message_text", 3, text="do you price match")
    for _ in range(3):
        assert (await post_update(client, data)).status == 200
    await post_update(client, update("message_text", 4, text="thanks"))
    await fake.wait_for(lambda r: r.api == "sendMessage", count=2)
    assert len(sent_texts(fake)) == 2


async def test_edits_are_ignored_and_button_presses_are_acknowledged(client, fake) -> None:
    assert (await post_update(client, update("edited_message", 5))).status == 200
    press = update("callback_query", 6)
    press["callback_query"]["data"] = "article:free-shipping"
    resp = await post_update(client, press)
    assert await resp.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
    }
    (sent,) = await fake.wait_for(lambda r: r.api == "sendMessage")
    assert "free" in sent.params["text"].lower()


async def test_quick_replies_become_an_inline_keyboard(client, fake) -> None:
    await post_update(client, update("message_text", 7, text="blorp zzzt qwv"))
    (sent,) = await fake.wait_for(lambda r: r.api == "sendMessage")
    keyboard = sent.params.get("reply_markup")
    assert keyboard is not None
    assert "inline_keyboard" in str(keyboard)


def identity(**claims) -> str:
    return jwt.encode({"iat": int(time.time()), **claims}, SITE_SECRET, algorithm="HS256")


async def test_web_then_sms_then_telegram_is_one_customer_one_transcript(client, fake) -> None:
    async with visitor(client) as web:
        welcome = await web.hello(
            "laptop", identity_token=identity(sub="ana", phone=CUSTOMER_PHONE)
        )
        await web.say("what payment methods do you accept")

        form = {**load_payload("twilio/sms_inbound"), "Body": "how long does shipping take"}
        signed = twilio_headers(fake.twilio_auth_token, f"{PUBLIC_URL}/webhooks/twilio", form)
        resp = await client.post(
            "/webhooks/twilio",
            data=urlencode(form),
            headers={**signed, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status == 200
        await web.until(lambda f: f.get("seq") == 4)

        # Ana shares her own contact on Telegram: the phone is verified, the chats are one.
        assert (await post_update(client, update("contact_shared", 8))).status == 200
        await web.until(lambda f: f.get("seq") == 6)
        assert (
            await post_update(client, update("message_text", 9, text="do gift cards expire"))
        ).status == 200
        last = await web.until(lambda f: f.get("seq") == 8)

    assert [(e["seq"], e["from"], e["channel"]) for e in web.entries()] == [
        (1, "customer", "webchat"),
        (2, "bot", "webchat"),
        (3, "customer", "sms"),
        (4, "bot", "sms"),
        (5, "customer", "telegram"),
        (6, "bot", "telegram"),
        (7, "customer", "telegram"),
        (8, "bot", "telegram"),
    ]
    assert last["text"] == demo_answerer().query("do gift cards expire").text
    record = await client.server.app[SERVICES].store.customers.get(welcome["customer_id"])
    assert {i.channel for i in record.identities} >= {"webchat", "sms", "telegram", "phone"}
    conversations = await client.server.app[SERVICES].store.conversations.list_for(record.id)
    assert [c.status for c in conversations] == ["open"]
    # The reply went where the customer wrote last: Telegram, not SMS or web chat.
    await fake.wait_for(lambda r: r.api == "sendMessage", count=2)
    assert len(fake.calls("twilio", "POST", "/2010-04-01/Accounts/{sid}/Messages.json")) == 1


async def test_a_forwarded_contact_links_nothing(client, fake) -> None:
    forwarded = update("contact_shared", 10)
    forwarded["message"]["contact"]["user_id"] = 111  # someone else's card
    async with visitor(client) as web:
        welcome = await web.hello("d", identity_token=identity(sub="ana", phone=CUSTOMER_PHONE))
        await web.say("hello")
        await post_update(client, forwarded)
        await fake.wait_for(lambda r: r.api == "sendMessage")
    record = await client.server.app[SERVICES].store.customers.get(welcome["customer_id"])
    assert "telegram" not in {i.channel for i in record.identities}


def test_set_webhook_registers_the_public_url_with_the_secret(tmp_path: Path) -> None:
    import asyncio
    import os
    import subprocess
    import sys

    from tests.support import REPO_ROOT

    async def scenario() -> None:
        async with FakeProviders() as fake:
            env = {
                **os.environ,
                "PYTHONPATH": str(REPO_ROOT),
                "ONETHREAD_PUBLIC_URL": PUBLIC_URL,
                "TELEGRAM_BOT_TOKEN": fake.telegram_token,
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "TELEGRAM_API_BASE_URL": fake.telegram_base_url,
            }
            result = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "gateway.cli", "telegram", "set-webhook"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 0, result.stderr
            (call,) = fake.calls("telegram", path="setWebhook")
            assert call.params["url"] == f"{PUBLIC_URL}/webhooks/telegram"
            assert call.params["secret_token"] == SECRET
            assert "updates go to https://gateway.example/webhooks/telegram" in result.stdout

    asyncio.run(scenario())


async def test_replies_wait_out_an_outage_and_arrive_in_order(client, fake) -> None:
    fake.fail_next("telegram", status=502, times=2, path="sendMessage")
    await post_update(client, update("message_text", 20, text="how much is shipping"))
    await post_update(client, update("message_text", 21, text="do you ship to canada"))
    await fake.wait_for(lambda r: r.api == "sendMessage" and r.status == 200, count=2, timeout=30)
    delivered = [
        r.params["text"] for r in fake.calls("telegram", path="sendMessage") if r.status == 200
    ]
    expected = [
        markdown_to_telegram_html(demo_answerer().query(q).text)
        for q in ("how much is shipping", "do you ship to canada")
    ]
    assert delivered == expected


async def test_asking_to_link_a_phone_offers_the_share_contact_button(client, fake) -> None:
    await post_update(client, update("message_text", 30, text="can i link my phone number?"))
    (sent,) = await fake.wait_for(lambda r: r.api == "sendMessage")
    markup = sent.params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert markup["keyboard"][0][0]["request_contact"] is True
    assert markup["one_time_keyboard"] is True
