"""SMS through the whole gateway: signed webhooks in, replies out through a fake Twilio API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import jwt
import pytest
from twilio.request_validator import RequestValidator

from gateway.http_ops import SERVICES
from gateway.messages import Address
from gateway.settings import Secret, TwilioSettings
from tests.fakes.providers import FakeProviders
from tests.support import demo_answerer, gateway_settings, running_gateway, visitor

PUBLIC_URL = "https://gateway.example"
SID = "AC" + "0" * 32
TOKEN = "twilio-token-for-tests"
OUR_NUMBER = "+15557654321"
ANN = "+15550000001"
SITE_SECRET = "site-secret-for-tests-32-bytes-long!"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders(twilio_account_sid=SID, twilio_auth_token=TOKEN) as providers:
        yield providers


@pytest.fixture
async def client(tmp_path: Path, fake: FakeProviders):
    settings = gateway_settings(
        tmp_path,
        public_url=PUBLIC_URL,
        webchat_identity_secret=Secret(SITE_SECRET),
        twilio=TwilioSettings(SID, Secret(TOKEN), OUR_NUMBER, fake.twilio_base_url),
    )
    async with running_gateway(settings) as c:
        yield c


def sms_form(sid: str, body: str, sender: str = ANN) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": SID,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


async def post_sms(client, form: dict[str, str], signature: str | None = "sign"):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC_URL}/webhooks/twilio", form)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await client.post("/webhooks/twilio", data=urlencode(form), headers=headers)


def sent_bodies(fake: FakeProviders) -> list[str]:
    return [r.form["Body"] for r in fake.calls("twilio", "POST", MESSAGES_PATH)]


async def test_a_signed_sms_is_answered_with_the_articles_sms_text(client, fake) -> None:
    resp = await post_sms(client, sms_form("SM" + "1" * 32, "how long does shipping take"))
    assert resp.status == 200
    assert "<Response>" in await resp.text()
    await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST", count=1)
    (reply,) = fake.calls("twilio", "POST", MESSAGES_PATH)
    assert (reply.form["To"], reply.form["From"]) == (ANN, OUR_NUMBER)
    assert "**" not in reply.form["Body"]
    assert len(reply.form["Body"]) <= 320


async def test_forged_unsigned_and_malformed_webhooks_change_nothing(client, fake) -> None:
    form = sms_form("SM" + "2" * 32, "hello")
    assert (await post_sms(client, form, signature=None)).status == 403
    assert (await post_sms(client, form, signature="forged")).status == 403
    bad = await client.post(
        "/webhooks/twilio", data="{}", headers={"Content-Type": "application/json"}
    )
    assert bad.status == 415
    assert (await post_sms(client, {"Body": "no sid"})).status == 400
    huge = await post_sms(client, sms_form("SM" + "3" * 32, "x" * 2_000_000))
    assert huge.status == 413
    assert fake.calls("twilio", "POST", MESSAGES_PATH) == []
    assert await client.server.app[SERVICES].store.inbox.pending() == 0


async def test_the_same_sms_delivered_three_times_is_answered_once(client, fake) -> None:
    form = sms_form("SM" + "4" * 32, "do you price match")
    for _ in range(3):
        assert (await post_sms(client, form)).status == 200
    await post_sms(client, sms_form("SM" + "5" * 32, "thanks"))
    await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST", count=2)
    assert len(sent_bodies(fake)) == 2


async def test_replies_wait_out_an_outage_and_arrive_in_order(client, fake) -> None:
    fake.fail_next("twilio", status=503, times=2)
    await post_sms(client, sms_form("SM" + "6" * 32, "how much is shipping"))
    await post_sms(client, sms_form("SM" + "7" * 32, "do you ship to canada"))
    await fake.wait_for(
        lambda r: r.provider == "twilio" and r.method == "POST", count=4, timeout=30
    )
    expected = [
        demo_answerer().query(q, "sms").text
        for q in ("how much is shipping", "do you ship to canada")
    ]
    assert sent_bodies(fake)[-2:] == expected


def identity(**claims) -> str:
    return jwt.encode({"iat": int(time.time()), **claims}, SITE_SECRET, algorithm="HS256")


async def test_web_then_sms_is_one_customer_and_the_reply_follows_the_customer(client, fake):
    async with visitor(client) as web:
        welcome = await web.hello("laptop", identity_token=identity(sub="ann", phone=ANN))
        await web.say("what payment methods do you accept")
        await post_sms(client, sms_form("SM" + "8" * 32, "how long does shipping take"))
        sms_entry = await web.until(lambda f: f.get("channel") == "sms" and f["from"] == "bot")
    assert sms_entry["seq"] == 4
    assert [(e["seq"], e["from"], e["channel"]) for e in web.entries()] == [
        (1, "customer", "webchat"),
        (2, "bot", "webchat"),
        (3, "customer", "sms"),
        (4, "bot", "sms"),
    ]
    await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST", count=1)
    assert sent_bodies(fake) == [sms_entry["text"]]
    assert sms_entry["text"] == demo_answerer().query("how long does shipping take", "sms").text
    record = await client.server.app[SERVICES].store.customers.get(welcome["customer_id"])
    assert {(i.channel, i.address) for i in record.identities} >= {("sms", ANN), ("phone", ANN)}


async def test_a_429_is_retried_no_sooner_than_twilio_asked(fake) -> None:
    from adapters.base import DeliveryError
    from adapters.twilio.sender import TwilioSender
    from gateway.messages import Address, Outbound

    sender = TwilioSender(
        TwilioSettings(SID, Secret(TOKEN), OUR_NUMBER, fake.twilio_base_url), "sms", PUBLIC_URL
    )
    fake.fail_next("twilio", status=429, retry_after=7)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(Outbound(Address("sms", ANN), "hello"))
        assert caught.value.retry_after == 7.0
        assert not caught.value.permanent
        await sender.send(Outbound(Address("sms", ANN), "hello again"))
    finally:
        await sender.close()
    assert sent_bodies(fake)[-1] == "hello again"


async def test_delivery_reports_are_recorded_against_the_reply(client, fake) -> None:
    await post_sms(client, sms_form("SM" + "9" * 32, "how long does shipping take"))
    (call,) = await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
    assert call.form["StatusCallback"] == f"{PUBLIC_URL}/webhooks/twilio"
    sid = call.response["sid"]
    store = client.server.app[SERVICES].store
    async with asyncio.timeout(10):
        # The reply is marked sent right after Twilio answers; the store has no feed to await.
        while not await store.outbox.list("sent"):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    for status in ("sent", "delivered"):
        report = {
            "MessageSid": sid,
            "MessageStatus": status,
            "AccountSid": SID,
            "From": OUR_NUMBER,
            "To": ANN,
        }
        assert (await post_sms(client, report)).status == 200
    (sent,) = await store.outbox.list("sent")
    assert (sent.provider_ids, sent.receipt) == ((sid,), "delivered")


async def test_a_messaging_service_sends_without_a_from_number(fake) -> None:
    from adapters.twilio.sender import TwilioSender
    from gateway.messages import Address, Outbound

    service = "MG" + "9" * 32
    sender = TwilioSender(
        TwilioSettings(SID, Secret(TOKEN), service, fake.twilio_base_url), "whatsapp", PUBLIC_URL
    )
    try:
        (sid,) = await sender.send(Outbound(Address("whatsapp", ANN), "hello"))
    finally:
        await sender.close()
    (call,) = fake.calls("twilio", "POST", MESSAGES_PATH)
    assert call.form["MessagingServiceSid"] == service
    assert "From" not in call.form
    assert call.form["To"] == f"whatsapp:{ANN}"
    assert sid == call.response["sid"]


async def test_a_typed_number_picks_the_numbered_option(client, fake) -> None:
    await post_sms(client, sms_form("SM" + "d" * 32, "blorp zzzt qwv"))
    (first,) = await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
    body = first.form["Body"]
    assert "\n1. " in body
    assert body.endswith("Reply with a number.")
    chosen = body.split("\n1. ", 1)[1].split("\n", 1)[0]
    await post_sms(client, sms_form("SM" + "e" * 32, "1"))
    await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST", count=2)
    store = client.server.app[SERVICES].store
    record = await store.customers.get(
        await store.customers.resolve(Address("sms", ANN), None, None)
    )
    (conversation,) = await store.conversations.list_for(record.id)
    entries = await store.transcript.entries(conversation.id)
    assert entries[2].author == "customer"
    assert entries[2].text == chosen  # the option's title, not "1"
    assert entries[2].meta == {"postback": "handoff:request"}
