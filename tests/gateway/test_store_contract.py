"""The store contract: every Store implementation must pass these."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway.messages import Address, Inbound, Outbound, QuickReply
from gateway.stores.protocol import AnalyticsEvent, BusinessEvent, EntryDraft, Identity, Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def draft(
    text: str, at: datetime, author: str = "customer", channel: str = "webchat"
) -> EntryDraft:
    return EntryDraft(author=author, channel=channel, text=text, ts=at)


def inbound(
    key: str, address: str = "+15550001", channel: str = "sms", text: str = "hi"
) -> Inbound:
    return Inbound(key=key, sender=Address(channel, address), received_at=T0, text=text)


async def test_resolve_creates_once_and_returns_same_customer(store: Store) -> None:
    first = await store.customers.resolve(Address("sms", "+15550001"), "twilio", "Ann")
    again = await store.customers.resolve(Address("sms", "+15550001"), None, None)
    other = await store.customers.resolve(Address("sms", "+15550002"), None, None)
    assert again == first
    assert other != first
    customer = await store.customers.get(first)
    assert customer is not None
    assert customer.name == "Ann"
    assert customer.identities == (Identity("sms", "+15550001", "twilio"),)


async def test_link_reports_the_other_owner_and_changes_nothing(store: Store) -> None:
    ann = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    bob = await store.customers.resolve(Address("sms", "+15550002"), "twilio", None)
    assert await store.customers.link(ann, Identity("email", "ann@example.com", "jwt")) is None
    assert await store.customers.link(ann, Identity("email", "ann@example.com", "jwt")) is None
    assert await store.customers.link(bob, Identity("email", "ann@example.com", "jwt")) == ann
    bob_record = await store.customers.get(bob)
    assert bob_record is not None
    assert [i.channel for i in bob_record.identities] == ["sms"]


async def test_transcript_seq_is_gap_free_and_appends_are_idempotent(store: Store) -> None:
    cid = await store.customers.resolve(Address("webchat", "v:1"), None, None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    first = await store.transcript.append(conv.id, [draft("a", T0)], key="k1")
    replay = await store.transcript.append(conv.id, [draft("a again", T0)], key="k1")
    second = await store.transcript.append(
        conv.id, [draft("b", T0, "bot"), draft("c", T0, "bot")], key="k2"
    )
    assert [e.seq for e in first] == [1]
    assert replay == first
    assert [e.seq for e in second] == [2, 3]
    assert [e.text for e in await store.transcript.entries(conv.id)] == ["a", "b", "c"]
    assert [e.seq for e in await store.transcript.entries(conv.id, after_seq=1)] == [2, 3]


async def test_append_queues_deliveries_and_saves_state_atomically_once(store: Store) -> None:
    cid = await store.customers.resolve(Address("sms", "+15550001"), None, None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    reply = Outbound(Address("sms", "+15550001"), "hello", (QuickReply("Yes", "yes"),))
    for _ in range(2):
        await store.transcript.append(
            conv.id,
            [draft("hello", T0, "bot", "sms")],
            key="out:1",
            deliveries=[reply],
            state={"misses": 1},
        )
    pending = await store.outbox.list("pending")
    assert [item.message for item in pending] == [reply]
    saved = await store.conversations.get(conv.id)
    assert saved is not None
    assert saved.state == {"misses": 1}


async def test_customer_entry_sets_last_channel(store: Store) -> None:
    cid = await store.customers.resolve(Address("sms", "+15550001"), None, None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    await store.transcript.append(conv.id, [draft("by sms", T0, channel="sms")], key="a")
    await store.transcript.append(conv.id, [draft("bot", T0, "bot", "telegram")], key="b")
    saved = await store.conversations.get(conv.id)
    assert saved is not None
    assert saved.last_channel == "sms"


async def test_idle_conversation_is_resolved_and_a_new_one_opens(store: Store) -> None:
    cid = await store.customers.resolve(Address("webchat", "v:1"), None, None)
    first = await store.conversations.current(cid, T0, idle_seconds=60)
    await store.transcript.append(first.id, [draft("a", T0)], key="a")
    same = await store.conversations.current(cid, T0 + timedelta(seconds=30), idle_seconds=60)
    later = await store.conversations.current(cid, T0 + timedelta(hours=2), idle_seconds=60)
    assert same.id == first.id
    assert later.id != first.id
    timeline = await store.conversations.list_for(cid)
    assert [(c.id, c.status) for c in timeline] == [(first.id, "resolved"), (later.id, "open")]
    assert [e.text for e in await store.transcript.entries(first.id)] == ["a"]


async def test_a_conversation_people_are_handling_does_not_go_idle(store: Store) -> None:
    cid = await store.customers.resolve(Address("webchat", "v:1"), None, None)
    first = await store.conversations.current(cid, T0, idle_seconds=60)
    await store.transcript.append(
        first.id, [draft("a person please", T0)], key="a", state={"handoff": {"id": "hof_1"}}
    )
    days_later = await store.conversations.current(cid, T0 + timedelta(days=3), idle_seconds=60)
    assert days_later.id == first.id and days_later.status == "open"
    await store.conversations.update(first.id, state={})
    after = await store.conversations.current(cid, T0 + timedelta(days=3), idle_seconds=60)
    assert after.id != first.id


async def test_merge_folds_transcripts_in_time_order_into_one_open_conversation(
    store: Store,
) -> None:
    web = await store.customers.resolve(Address("webchat", "u:ann"), "jwt", "Ann")
    sms = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    web_conv = await store.conversations.current(web, T0, idle_seconds=3600)
    sms_conv = await store.conversations.current(sms, T0, idle_seconds=3600)
    minute = timedelta(minutes=1)
    await store.transcript.append(web_conv.id, [draft("w1", T0)], key="w1")
    await store.transcript.append(sms_conv.id, [draft("s1", T0 + minute, channel="sms")], key="s1")
    await store.transcript.append(web_conv.id, [draft("w2", T0 + 2 * minute)], key="w2")

    await store.customers.merge(web, sms, T0 + 3 * minute)

    merged = await store.customers.get(sms)
    assert merged is not None
    assert merged.id == web
    assert {i.channel for i in merged.identities} == {"webchat", "sms"}
    open_convs = [c for c in await store.conversations.list_for(web) if c.status == "open"]
    assert len(open_convs) == 1
    entries = await store.transcript.entries(open_convs[0].id)
    assert [(e.seq, e.text) for e in entries] == [(1, "w1"), (2, "s1"), (3, "w2")]
    # A replayed step finds its entry in the merged conversation instead of writing it again.
    replay = await store.transcript.append(sms_conv.id, [draft("s1", T0)], key="s1")
    assert [(e.conversation_id, e.seq) for e in replay] == [(open_convs[0].id, 2)]


async def test_delete_erases_customer_and_transcript(store: Store) -> None:
    cid = await store.customers.resolve(Address("sms", "+15550001"), None, None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    await store.transcript.append(conv.id, [draft("secret", T0)], key="a")
    assert await store.customers.delete(cid) is True
    assert await store.customers.get(cid) is None
    assert await store.transcript.entries(conv.id) == []
    assert await store.customers.delete(cid) is False


async def test_inbox_accepts_each_key_once(store: Store) -> None:
    first = await store.inbox.accept(inbound("sms:SM1"))
    again = await store.inbox.accept(inbound("sms:SM1", text="different"))
    assert first[1] is True
    assert again == (first[0], False)
    assert await store.inbox.pending() == 1


async def test_inbox_claims_in_order_one_at_a_time_per_sender(store: Store) -> None:
    a1, _ = await store.inbox.accept(inbound("a1", "+1555000001"))
    a2, _ = await store.inbox.accept(inbound("a2", "+1555000001"))
    b1, _ = await store.inbox.accept(inbound("b1", "+1555000002"))
    claimed = await store.inbox.claim("w", 10)
    assert [i.id for i in claimed] == [a1, b1]
    assert await store.inbox.claim("w", 10) == []
    await store.inbox.complete(a1)
    assert [i.id for i in await store.inbox.claim("w", 10)] == [a2]
    await store.inbox.complete(b1, error="boom")
    retried = await store.inbox.claim("w", 10)
    assert [(i.id, i.attempts) for i in retried] == [(b1, 1)]
    await store.inbox.fail(b1, "gave up")
    assert await store.inbox.pending() == 1


async def test_outbox_delivers_in_order_per_recipient_with_retry_and_dead_letter(
    store: Store,
) -> None:
    cid = await store.customers.resolve(Address("sms", "+15550001"), None, None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    to = Address("sms", "+15550001")
    await store.transcript.append(
        conv.id, [], key="o", deliveries=[Outbound(to, "one"), Outbound(to, "two")]
    )
    now = datetime.now(UTC)
    (first,) = await store.outbox.claim_due("w", now, 10)
    assert first.message.text == "one"
    assert await store.outbox.claim_due("w", now, 10) == []
    await store.outbox.retry_later(first.id, now + timedelta(minutes=5), "503")
    # The head is waiting for its retry: the second must not overtake it.
    assert await store.outbox.claim_due("w", now, 10) == []
    (again,) = await store.outbox.claim_due("w", now + timedelta(minutes=6), 10)
    assert (again.id, again.attempts, again.last_error) == (first.id, 1, "503")
    await store.outbox.dead_letter(again.id, "still 503")
    (second,) = await store.outbox.claim_due("w", now, 10)
    assert second.message.text == "two"
    await store.outbox.sent(second.id)
    dead = await store.outbox.list("dead")
    assert [(d.message.text, d.attempts, d.last_error) for d in dead] == [("one", 2, "still 503")]
    assert [s.message.text for s in await store.outbox.list("sent")] == ["two"]


async def test_knowledge_versions(store: Store) -> None:
    assert await store.knowledge.latest() is None
    v1 = await store.knowledge.save({"articles": [1]}, "ann", "first")
    v2 = await store.knowledge.save({"articles": [2]}, "bob", "second")
    assert await store.knowledge.latest() == (v2, {"articles": [2]})
    assert await store.knowledge.version(v1) == {"articles": [1]}
    assert [(v["number"], v["author"]) for v in await store.knowledge.versions()] == [
        (v2, "bob"),
        (v1, "ann"),
    ]


async def test_question_log_records_once_per_key_in_time_order(store: Store) -> None:
    from gateway.stores.protocol import AskedQuestion

    late = AskedQuestion("con_1", "sms", "late", "fallback", T0 + timedelta(minutes=5))
    early = AskedQuestion("con_1", "sms", "early", "answer", T0, article_id="a", score=0.9)
    await store.questions.record("q:2", late)
    await store.questions.record("q:1", early)
    await store.questions.record("q:1", early)
    assert await store.questions.since(T0) == [early, late]
    assert await store.questions.since(T0 + timedelta(minutes=1)) == [late]


async def test_receipts_advance_but_never_go_back(store: Store) -> None:
    cid = await store.customers.resolve(Address("sms", "+15550001"), None, None)
    conv = await store.conversations.current(cid, T0, idle_seconds=3600)
    to = Address("sms", "+15550001")
    await store.transcript.append(conv.id, [], key="r", deliveries=[Outbound(to, "hi")])
    (item,) = await store.outbox.claim_due("w", datetime.now(UTC), 10)
    await store.outbox.sent(item.id, ["SM1", "SM2"])
    assert await store.outbox.receipt("SM-unknown", "delivered") is False
    assert await store.outbox.receipt("SM1", "read") is True
    assert await store.outbox.receipt("SM1", "delivered") is True
    (sent,) = await store.outbox.list("sent")
    assert (sent.provider_ids, sent.receipt) == (("SM1", "SM2"), "read")
    await store.outbox.receipt("SM2", "failed")
    (sent,) = await store.outbox.list("sent")
    assert sent.receipt == "failed"


def handoff(conversation_id: str, customer_id: str, hid: str = "hof_1", at: datetime = T0):
    from gateway.stores.protocol import Handoff

    return Handoff(
        id=hid,
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason="human_agent",
        queue="default",
        status="queued",
        opened_at=at,
    )


async def test_handoffs_one_unresolved_per_conversation_found_by_thread(store: Store) -> None:
    cid = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    conv = await store.conversations.current(cid, T0, 3600)
    opened, new = await store.handoffs.open(handoff(conv.id, cid))
    assert new and opened.status == "queued"
    again, new = await store.handoffs.open(handoff(conv.id, cid, hid="hof_2"))
    assert not new and again.id == "hof_1"
    assert await store.handoffs.by_thread("C1", "1.0") is None
    claimed = await store.handoffs.update(
        "hof_1",
        slack_channel="C1",
        thread_ts="1.0",
        status="claimed",
        agent_id="U1",
        agent_name="jane",
        claimed_at=T0 + timedelta(seconds=30),
        detail={"root": True},
    )
    assert claimed.claimed_at == T0 + timedelta(seconds=30) and claimed.detail == {"root": True}
    assert (await store.handoffs.by_thread("C1", "1.0")).id == "hof_1"
    assert (await store.handoffs.active_for(conv.id)).agent_name == "jane"
    assert [h.id for h in await store.handoffs.active()] == ["hof_1"]
    await store.handoffs.update("hof_1", status="resolved", rating=5, resolved_at=T0)
    assert await store.handoffs.active_for(conv.id) is None
    assert (await store.handoffs.latest_for(conv.id)).rating == 5
    assert await store.handoffs.active() == []
    _, new = await store.handoffs.open(handoff(conv.id, cid, "hof_3", T0 + timedelta(hours=1)))
    assert new and (await store.handoffs.latest_for(conv.id)).id == "hof_3"
    assert [h.id for h in await store.handoffs.since(T0)] == ["hof_1", "hof_3"]
    assert [h.id for h in await store.handoffs.since(T0 + timedelta(minutes=1))] == ["hof_3"]


async def test_handoff_follows_a_merged_conversation(store: Store) -> None:
    a = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    b = await store.customers.resolve(Address("webchat", "v1"), None, None)
    conv_a = await store.conversations.current(a, T0, 3600)
    await store.transcript.append(conv_a.id, [draft("a", T0, channel="sms")], key="a1")
    conv_b = await store.conversations.current(b, T0, 3600)
    await store.transcript.append(conv_b.id, [draft("b", T0 + timedelta(seconds=1))], key="b1")
    await store.handoffs.open(handoff(conv_b.id, b))
    await store.customers.merge(a, b, T0 + timedelta(seconds=2))
    merged = await store.conversations.current(a, T0 + timedelta(seconds=3), 3600)
    moved = await store.handoffs.active_for(merged.id)
    assert moved is not None and moved.id == "hof_1" and moved.customer_id == a


async def test_attributes_are_set_removed_and_follow_merges(store: Store) -> None:
    a = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    b = await store.customers.resolve(Address("webchat", "v1"), None, None)
    updated = await store.customers.update_attributes(b, {"vip": True, "language": "es"})
    assert updated is not None and updated.attributes == {"vip": True, "language": "es"}
    await store.customers.merge(a, b, T0)
    after = await store.customers.update_attributes(b, {"language": None, "plan": "gold"})
    assert after is not None and after.id == a
    assert after.attributes == {"vip": True, "plan": "gold"}
    assert await store.customers.update_attributes("cus_nobody", {"vip": True}) is None


async def test_business_events_are_kept_once_per_key_newest_first(store: Store) -> None:
    ann = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    shipped = BusinessEvent("ev_1", ann, "order_shipped", T0, {"order_number": "FH-1"}, "k1")
    first, new = await store.business_events.record(shipped)
    again, new_again = await store.business_events.record(
        BusinessEvent("ev_2", ann, "order_shipped", T0, {"other": True}, "k1")
    )
    later = BusinessEvent("ev_3", ann, "delivery_delayed", T0 + timedelta(hours=1))
    await store.business_events.record(later)
    assert (new, new_again) == (True, False)
    assert again == first == shipped
    assert [e.id for e in await store.business_events.recent(ann)] == ["ev_3", "ev_1"]
    assert [e.id for e in await store.business_events.recent(ann, limit=1)] == ["ev_3"]
    assert await store.business_events.recent("cus_nobody") == []


async def test_business_events_follow_merges_and_go_with_erasure(store: Store) -> None:
    ann = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    web = await store.customers.resolve(Address("webchat", "v:ann"), None, None)
    await store.business_events.record(BusinessEvent("ev_web", web, "cart_abandoned", T0))
    await store.customers.merge(ann, web, T0)
    late = BusinessEvent("ev_late", web, "order_shipped", T0, key="late")
    await store.business_events.record(late)
    recent = await store.business_events.recent(web)
    assert [e.id for e in recent] == ["ev_late", "ev_web"]
    assert {e.customer_id for e in recent} == {ann}
    assert await store.customers.delete(ann)
    assert await store.business_events.recent(ann) == []


async def test_locks_exclude_holders_of_the_same_key_only(store: Store) -> None:
    order: list[str] = []
    first_in, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with store.locks.hold("cus_1"):
            order.append("first in")
            first_in.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with store.locks.hold("cus_1"):
            order.append("second in")

    holders = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_in.wait()
    async with store.locks.hold("cus_2"):  # another key is not held up
        order.append("other in")
    release.set()
    await asyncio.gather(*holders)
    assert order == ["first in", "other in", "first out", "second in"]


async def test_deleting_a_merged_customer_erases_the_absorbed_record_too(store: Store) -> None:
    ann = await store.customers.resolve(Address("sms", "+15550001"), "twilio", "Ann")
    web = await store.customers.resolve(Address("webchat", "u:ann"), "jwt", None)
    conv = await store.conversations.current(web, T0, 3600)
    await store.transcript.append(conv.id, [draft("hello", T0)], key="w1")
    await store.customers.merge(ann, web, T0 + timedelta(minutes=1))
    assert await store.customers.delete(web) is True  # found through the merge
    assert await store.customers.get(ann) is None
    assert await store.customers.get(web) is None
    assert await store.transcript.entries(conv.id) == []
    fresh = await store.customers.resolve(Address("webchat", "u:ann"), None, None)
    assert fresh not in {ann, web}


async def test_events_record_once_per_key_and_read_back_by_time(store: Store) -> None:
    later = AnalyticsEvent(
        "message_out",
        T0 + timedelta(seconds=5),
        "con_1",
        "cus_1",
        "sms",
        {"decision": "answer", "article_id": "returns", "score": 0.91},
    )
    first = AnalyticsEvent("message_in", T0, "con_1", "cus_1", "sms")
    same_time = AnalyticsEvent("recontact", T0, "con_1", "cus_1", "sms", {"gap_seconds": 10.0})
    assert await store.events.record("out:1", later) is True
    assert await store.events.record("in:1", first) is True
    assert await store.events.record("recontact:1", same_time) is True
    changed = AnalyticsEvent("message_in", T0, "con_2", "cus_2", "webchat")
    assert await store.events.record("in:1", changed) is False
    everything = await store.events.between(T0, T0 + timedelta(hours=1))
    assert everything == [first, same_time, later]
    assert await store.events.between(T0 + timedelta(seconds=1), T0 + timedelta(seconds=5)) == []
    assert await store.events.between(T0 + timedelta(seconds=5), T0 + timedelta(seconds=6)) == [
        later
    ]


async def test_erasing_a_customer_erases_their_events(store: Store) -> None:
    ann = await store.customers.resolve(Address("sms", "+15550001"), "twilio", None)
    bob = await store.customers.resolve(Address("sms", "+15550002"), "twilio", None)
    await store.events.record("in:ann", AnalyticsEvent("message_in", T0, "con_a", ann, "sms"))
    await store.events.record("in:bob", AnalyticsEvent("message_in", T0, "con_b", bob, "sms"))
    assert await store.customers.delete(ann) is True
    left = await store.events.between(T0, T0 + timedelta(hours=1))
    assert [e.customer_id for e in left] == [bob]
