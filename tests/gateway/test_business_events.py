"""Business events: posted by the shop, kept in the timeline, told to the customer on request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.business_events import notice, preferred_address, recent_events
from gateway.http_ops import SERVICES
from gateway.messages import Address
from gateway.settings import Secret, TwilioSettings
from gateway.stores.protocol import BusinessEvent, Customer, Identity
from tests.fakes.providers import FakeProviders
from tests.support import gateway_settings, running_gateway, visitor

SID = "AC" + "0" * 32
ADMIN = "admin-token-for-event-tests"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
ANA = "+14155550123"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders(twilio_account_sid=SID) as providers:
        yield providers


@pytest.fixture
async def client(tmp_path: Path, fake: FakeProviders):
    settings = gateway_settings(
        tmp_path,
        admin_token=Secret(ADMIN),
        twilio=TwilioSettings(SID, Secret(fake.twilio_auth_token), "+15557654321",
                              fake.twilio_base_url),
    )
    async with running_gateway(settings) as c:
        yield c


async def sms_customer(client) -> str:
    store = client.server.app[SERVICES].store
    return await store.customers.resolve(Address("sms", ANA), "twilio", "Ana")


async def test_a_shipped_order_is_in_the_timeline_and_texted_once(client, fake) -> None:
    ana = await sms_customer(client)
    body = {
        "type": "order_shipped", "id": "shop-evt-1", "notify": True,
        "data": {"order_number": "FH-482913", "tracking_url": "https://fernhill.example/t/1"},
    }
    first = await client.post(f"/api/v1/customers/{ana}/events", json=body, headers=AUTH)
    assert first.status == 201
    posted = await first.json()
    assert posted["notified"] == {"channel": "sms", "address": ANA}
    (sent,) = await fake.wait_for(lambda r: r.provider == "twilio" and r.method == "POST")
    assert sent.form["To"] == ANA
    assert "FH-482913 has shipped" in sent.form["Body"]
    assert "https://fernhill.example/t/1" in sent.form["Body"]

    again = await client.post(f"/api/v1/customers/{ana}/events", json=body, headers=AUTH)
    assert again.status == 200
    assert (await again.json())["event"]["id"] == posted["event"]["id"]

    record = await (await client.get(f"/api/v1/customers/{ana}", headers=AUTH)).json()
    events = [t for t in record["timeline"] if t.get("kind") == "event"]
    assert [e["type"] for e in events] == ["order_shipped"]
    told = [t for t in record["timeline"] if t.get("from") == "bot"]
    assert len(told) == 1  # the repeat post sent nothing more
    assert len(fake.calls("twilio", "POST", MESSAGES)) == 1
    lines = await recent_events(client.server.app[SERVICES].store, ana)
    assert len(lines) == 1
    assert "order shipped · FH-482913" in lines[0]


async def test_an_event_without_notify_is_only_recorded(client, fake) -> None:
    ana = await sms_customer(client)
    resp = await client.post(
        f"/api/v1/customers/{ana}/events", json={"type": "cart_abandoned"}, headers=AUTH
    )
    assert resp.status == 201
    assert (await resp.json())["notified"] is None
    store = client.server.app[SERVICES].store
    assert [e.type for e in await store.business_events.recent(ana)] == ["cart_abandoned"]
    assert fake.calls("twilio", "POST", MESSAGES) == []


async def test_a_web_chat_customer_sees_a_proactive_ticket_update(client) -> None:
    async with visitor(client) as web:
        welcome = await web.hello("visitor-events")
        body = {"type": "ticket_updated", "notify": True, "message": "Your refund was issued."}
        resp = await client.post(
            f"/api/v1/customers/{welcome['customer_id']}/events", json=body, headers=AUTH
        )
        assert (await resp.json())["notified"]["channel"] == "webchat"
        frame = await web.until(lambda f: f["type"] == "message" and f["from"] == "bot")
        assert frame["text"] == "Your refund was issued."


async def test_a_bad_event_is_refused_whole_and_changes_nothing(client) -> None:
    ana = await sms_customer(client)
    bad = {"type": "Order Shipped", "data": [], "notify": "yes", "channel": "fax", "extra": 1}
    resp = await client.post(f"/api/v1/customers/{ana}/events", json=bad, headers=AUTH)
    assert resp.status == 422
    problems = (await resp.json())["problems"]
    assert len(problems) == 5
    wordless = {"type": "loyalty_tier_changed", "notify": True}
    refused = await client.post(f"/api/v1/customers/{ana}/events", json=wordless, headers=AUTH)
    assert refused.status == 422
    assert await client.server.app[SERVICES].store.business_events.recent(ana) == []
    missing = await client.post(
        "/api/v1/customers/cus_nobody/events", json={"type": "order_shipped"}, headers=AUTH
    )
    assert missing.status == 404
    unauthorised = await client.post(f"/api/v1/customers/{ana}/events", json={"type": "x"})
    assert unauthorised.status == 401


def test_the_preferred_channel_is_one_the_customer_can_be_reached_on() -> None:
    both = Customer(
        "cus_1", "Ana", datetime.now(UTC),
        (Identity("webchat", "v:1", None), Identity("phone", ANA, "webchat_jwt"),
         Identity("telegram", "42", "telegram")),
        attributes={"preferred_channel": "telegram"},
    )
    sendable = {"sms", "whatsapp", "telegram"}
    assert preferred_address(both, None, "webchat", sendable) == Address("telegram", "42")
    assert preferred_address(both, "sms", None, sendable) == Address("sms", ANA)
    assert preferred_address(both, "whatsapp", None, sendable) is None
    no_telegram_bot = {"sms", "whatsapp"}
    assert preferred_address(both, None, "webchat", no_telegram_bot) == Address("webchat", "v:1")
    unverified = Customer("cus_2", None, datetime.now(UTC), (Identity("phone", ANA, None),))
    assert preferred_address(unverified, None, None, sendable) is None


def test_each_known_event_type_has_wording_and_others_need_a_message() -> None:
    late = BusinessEvent("ev", "cus", "delivery_delayed", datetime.now(UTC),
                         {"order_number": "FH-482913", "eta": "2026-12-01"})
    assert notice(late, None) == (
        "Sorry: your order FH-482913 is running late. It should arrive by 2026-12-01. "
        "Reply here if you need help."
    )
    odd = BusinessEvent("ev", "cus", "loyalty_tier_changed", datetime.now(UTC))
    assert notice(odd, None) is None
    assert notice(odd, " You reached Ridge! ") == "You reached Ridge!"
