"""The event recorder the router and the handoff code call, and reading the log across merges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.analytics.events import EventRecorder
from gateway.analytics.summary import Period, period_journeys, summarize
from gateway.messages import Address, Inbound
from gateway.stores.protocol import Handoff, Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def inbound(channel: str, address: str, at: datetime) -> Inbound:
    return Inbound(
        key=f"{channel}:{at.isoformat()}",
        sender=Address(channel, address),
        received_at=at,
        text="hi",
    )


async def all_events(store: Store) -> list:
    return await store.events.between(T0 - 10 * HOUR, T0 + 100 * HOUR)


async def test_a_new_conversation_after_an_earlier_one_is_a_recontact(store: Store) -> None:
    recorder = EventRecorder(store.events, store.conversations)
    cid = await store.customers.resolve(Address("webchat", "v:1"), None, None)
    first = await store.conversations.current(cid, T0, idle_seconds=3600)
    await recorder.customer_message("1", first, inbound("webchat", "v:1", T0), opened=True)
    await recorder.bot_turn("1", first, "webchat", "hi", "intent", intent="greeting", at=T0)
    # Three hours later the idle conversation is closed and a new one opens, on SMS.
    second = await store.conversations.current(cid, T0 + 3 * HOUR, idle_seconds=3600)
    assert second.id != first.id
    later = inbound("sms", "+15550001", T0 + 3 * HOUR)
    await recorder.customer_message("2", second, later, opened=True)
    await recorder.customer_message("2", second, later, opened=True)  # a replay adds nothing
    events = await all_events(store)
    assert [(e.kind, e.conversation_id, e.channel) for e in events] == [
        ("message_in", first.id, "webchat"),
        ("message_out", first.id, "webchat"),
        ("message_in", second.id, "sms"),
        ("recontact", second.id, "sms"),
    ]
    recontact = events[-1].data
    assert recontact["previous_conversation_id"] == first.id
    assert recontact["gap_seconds"] == pytest.approx(3 * 3600, abs=1)


async def test_only_the_bots_misses_keep_the_customers_words(store: Store) -> None:
    recorder = EventRecorder(store.events, store.conversations)
    cid = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    await recorder.bot_turn("1", conv, "sms", "refund?", "answer", article_id="refunds", at=T0)
    await recorder.bot_turn("2", conv, "sms", "do you ship to mars", "fallback", at=T0)
    answered, missed = (e.data for e in await all_events(store))
    assert "question" not in answered
    assert answered["article_id"] == "refunds"
    assert missed["question"] == "do you ship to mars"


async def test_the_handoff_api_records_each_step_once(store: Store) -> None:
    recorder = EventRecorder(store.events, store.conversations)
    h = Handoff("hof_1", "con_1", "cus_1", "complaint", "billing", "queued", T0)
    assert await recorder.handoff(h, channel="sms") is True
    assert await recorder.handoff(h, channel="sms") is False
    h = replace(h, status="claimed", claimed_at=T0 + timedelta(seconds=90), agent_id="U7")
    assert await recorder.claim(h) is True
    first_reply = T0 + timedelta(seconds=150)
    await recorder.agent_reply(h, key="1700000000.1", at=first_reply)
    h = replace(h, first_response_at=first_reply)
    await recorder.agent_reply(h, key="1700000000.2", at=first_reply + timedelta(seconds=60))
    h = replace(h, status="resolved", resolved_at=T0 + timedelta(seconds=900))
    await recorder.resolve(h)
    with pytest.raises(ValueError, match="1 to 5"):
        await recorder.rating(h, 6)
    await recorder.rating(h, 4, channel="sms", at=T0 + timedelta(seconds=960))
    await recorder.rating(h, 1, channel="sms", at=T0 + timedelta(seconds=990))  # first counts
    events = await all_events(store)
    assert [e.kind for e in events] == [
        "handoff",
        "claim",
        "agent_reply",
        "agent_reply",
        "resolve",
        "rating",
    ]
    assert [e.data.get("first") for e in events if e.kind == "agent_reply"] == [True, False]
    assert events[0].data == {"handoff_id": "hof_1", "queue": "billing", "reason": "complaint"}
    assert events[-1].data["rating"] == 4
    period = Period(T0 - HOUR, T0 + HOUR)
    s = summarize(await period_journeys(store, period), period)
    assert s["time_to_claim"]["p50"] == 90
    assert s["first_response_time"]["p50"] == 150
    assert s["resolution_time"]["p50"] == 900
    assert s["csat"] == 1.0


async def test_customers_merged_later_are_one_customer_in_the_figures(store: Store) -> None:
    recorder = EventRecorder(store.events, store.conversations)
    web = await store.customers.resolve(Address("webchat", "v:anon"), None, None)
    sms = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    web_conv = await store.conversations.current(web, T0, idle_seconds=86400)
    sms_conv = await store.conversations.current(sms, T0 + HOUR, idle_seconds=86400)
    await recorder.customer_message("1", web_conv, inbound("webchat", "v:anon", T0), True)
    await recorder.bot_turn("1", web_conv, "webchat", "x", "answer", article_id="a", at=T0)
    sms_in = inbound("sms", "+15550001", T0 + HOUR)
    await recorder.customer_message("2", sms_conv, sms_in, True)
    await recorder.bot_turn("2", sms_conv, "sms", "x", "answer", article_id="a", at=T0 + HOUR)
    period = Period(T0 - HOUR, T0 + 2 * HOUR)
    before = summarize(await period_journeys(store, period), period)
    assert (before["conversations"], before["deflection_rate"]) == (2, 1.0)
    # The visitor proves the phone number: one customer, and their open threads become one.
    await store.customers.merge(sms, web, T0 + 2 * HOUR)
    after = summarize(await period_journeys(store, period), period)
    assert after["conversations"] == 1
    assert after["channel_switching_rate"] == 1.0
    assert after["channel_mix"] == {"webchat": 0.5, "sms": 0.5}
