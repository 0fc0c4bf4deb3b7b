"""Identity resolution: verified evidence links customers; typed claims never do."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.identity import IdentityResolver, normalize_email, normalize_phone
from gateway.messages import Address, Evidence
from gateway.stores.protocol import Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WEB_ANN = Address("webchat", "u:ann")
JWT_PHONE = Evidence("phone", "+1 555 000 0001", "webchat_jwt")
CARRIER_PHONE = Evidence("phone", "+15550000001", "twilio")


async def test_sms_from_a_phone_verified_in_web_chat_is_the_same_customer(store: Store) -> None:
    resolver = IdentityResolver(store.customers)
    web = await resolver.resolve(WEB_ANN, (JWT_PHONE,), T0, name="Ann")
    sms = await resolver.resolve(Address("sms", "+15550000001"), (CARRIER_PHONE,), T0)
    assert sms.customer_id == web.customer_id
    customer = await store.customers.get(web.customer_id)
    assert customer is not None
    assert {(i.channel, i.address) for i in customer.identities} == {
        ("webchat", "u:ann"),
        ("phone", "+15550000001"),
        ("sms", "+15550000001"),
    }


async def test_a_typed_claim_is_not_evidence_and_links_nothing(store: Store) -> None:
    resolver = IdentityResolver(store.customers)
    ann = await resolver.resolve(
        WEB_ANN, (Evidence("email", "ann@example.com", "webchat_jwt"),), T0
    )
    # A stranger says "my email is ann@example.com": the adapter passes no evidence for it, and
    # evidence without a verifier is refused too.
    stranger = await resolver.resolve(
        Address("webchat", "v:stranger"), (Evidence("email", "ann@example.com", ""),), T0
    )
    assert stranger.customer_id != ann.customer_id
    assert stranger.absorbed == ()
    record = await store.customers.get(stranger.customer_id)
    assert record is not None
    assert [i.channel for i in record.identities] == ["webchat"]


async def test_email_links_case_insensitively_and_merges_two_histories(store: Store) -> None:
    resolver = IdentityResolver(store.customers)
    first = await resolver.resolve(
        Address("webchat", "u:1"), (Evidence("email", "Ann@Example.com", "webchat_jwt"),), T0
    )
    tg = await resolver.resolve(Address("telegram", "42"), (), T0)
    assert tg.customer_id != first.customer_id
    linked = await resolver.resolve(
        Address("telegram", "42"), (Evidence("email", "ann@example.COM", "otp"),), T0
    )
    assert linked.customer_id == first.customer_id
    assert linked.absorbed == (tg.customer_id,)
    absorbed = await store.customers.get(tg.customer_id)
    assert absorbed is not None
    assert absorbed.id == first.customer_id


async def test_malformed_evidence_is_ignored() -> None:
    assert normalize_phone("555-0001") is None
    assert normalize_phone("+1 (555) 000-0001") == "+15550000001"
    assert normalize_email("not-an-email") is None
    assert normalize_email(" Ann@Example.COM ") == "ann@example.com"
