"""Continue by SMS: a web chat customer proves a phone with a code, then chats on by text."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from dialogs.continue_by_sms import handle, masked, phone_in
from gateway.http_ops import SERVICES
from gateway.settings import Secret, TwilioSettings
from tests.fakes.providers import FakeProviders
from tests.fakes.signing import twilio_headers
from tests.support import gateway_settings, running_gateway, visitor

PUBLIC_URL = "https://gateway.example"
SID = "AC" + "0" * 32
OUR_NUMBER = "+15557654321"
ANA = "+14155550123"
MESSAGES = "/2010-04-01/Accounts/{sid}/Messages.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders(twilio_account_sid=SID) as providers:
        yield providers


@pytest.fixture
async def client(tmp_path: Path, fake: FakeProviders):
    settings = gateway_settings(
        tmp_path,
        public_url=PUBLIC_URL,
        twilio=TwilioSettings(
            SID, Secret(fake.twilio_auth_token), OUR_NUMBER, fake.twilio_base_url
        ),
    )
    async with running_gateway(settings) as c:
        yield c


def texts_to(fake: FakeProviders, number: str) -> list[str]:
    return [
        r.form["Body"] for r in fake.calls("twilio", "POST", MESSAGES) if r.form["To"] == number
    ]


async def test_a_proven_phone_moves_the_conversation_to_sms(client, fake) -> None:
    async with visitor(client) as web:
        welcome = await web.hello("ana-laptop")
        asked = await web.say("can we continue by text message?")
        assert "mobile number" in asked["text"]
        sent = await web.say("it's (415) 555-0123")
        assert masked(ANA) in sent["text"]
        (code_sms,) = await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
        code = re.search(r"\d{6}", code_sms.form["Body"]).group()
        assert code_sms.form["To"] == ANA

        wrong = "000000" if code != "000000" else "111111"
        assert "doesn't match" in (await web.say(wrong))["text"]
        done = await web.say(code)
        assert "Confirmed" in done["text"]
        await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST", count=2)
        assert "Reply here to continue" in texts_to(fake, ANA)[-1]

        # Ana answers from her phone: the same customer, the same conversation.
        form = {
            "MessageSid": "SM" + "c" * 32,
            "AccountSid": SID,
            "From": ANA,
            "To": OUR_NUMBER,
            "Body": "how long does shipping take",
            "NumMedia": "0",
        }
        headers = {
            **twilio_headers(fake.twilio_auth_token, f"{PUBLIC_URL}/webhooks/twilio", form),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        assert (
            await client.post("/webhooks/twilio", data=urlencode(form), headers=headers)
        ).status == 200
        sms_reply = await web.until(
            lambda f: f["from"] == "bot" and f["channel"] == "sms" and "business days" in f["text"]
        )

        # A later web chat message is answered by text, as she chose.
        await web.ws.send_json(
            {"type": "message", "text": "do you price match", "client_msg_id": "pm"}
        )
        by_text = await web.until(lambda f: f["from"] == "bot" and f["seq"] > sms_reply["seq"])
        assert by_text["channel"] == "sms"

    transcript = " ".join(e["text"] for e in web.entries())
    assert code not in transcript
    record = await client.server.app[SERVICES].store.customers.get(welcome["customer_id"])
    assert ("phone", ANA, "one_time_code") in {
        (i.channel, i.address, i.verified_by) for i in record.identities
    }
    assert ("sms", ANA) in {(i.channel, i.address) for i in record.identities}


async def test_a_typed_number_without_the_code_links_nothing(client, fake) -> None:
    async with visitor(client) as web:
        welcome = await web.hello("mallory")
        await web.say(f"text me at {ANA}")
        await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
        assert "carry on here" in (await web.say("never mind"))["text"]
    record = await client.server.app[SERVICES].store.customers.get(welcome["customer_id"])
    assert [i.channel for i in record.identities] == ["webchat"]


def test_phone_numbers_are_read_as_customers_type_them() -> None:
    assert phone_in("my number is (415) 555-0123") == ANA
    assert phone_in("+44 20 7946 0958 please") == "+442079460958"
    assert phone_in("order FH-482913") is None
    now = datetime(2026, 11, 1, tzinfo=UTC)
    assert handle("continue by sms please", {}, "sms", now) is None
    offer = handle("continue by sms please", {}, "telegram", now)
    assert offer is not None
    assert offer.share_contact
    assert handle("what is your return policy", {}, "webchat", now) is None
