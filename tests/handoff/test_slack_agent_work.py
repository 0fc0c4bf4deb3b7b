"""The agent's side in detail: signatures, retries, notes, commands, transfers, reminders, Slack
outages and limits, queues, business hours and redaction."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from gateway.http_ops import SERVICES
from gateway.settings import Secret
from gateway.stores.protocol import BusinessEvent, EntryDraft
from handoff.config import parse_config
from handoff.redact import CARD_MASK
from tests.fakes.providers import FakeProviders
from tests.fakes.signing import slack_headers
from tests.handoff.slack_agent import QUEUE_CHANNEL, SIGNING_SECRET, SlackAgent
from tests.handoff.test_slack_handoff import root_post, slack_settings, thread_text, until_posted
from tests.support import Visitor, gateway_settings, running_gateway, visitor

SITE_SECRET = "site-secret-for-tests-32-bytes-long!"
VIP_CHANNEL = "C0VIPDESK01"
LEADS_CHANNEL = "C0LEADS0001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders() as providers:
        yield providers


@asynccontextmanager
async def gateway(tmp_path: Path, fake: FakeProviders, config: dict | None = None, **overrides):
    settings = gateway_settings(
        tmp_path,
        webchat_identity_secret=Secret(SITE_SECRET),
        slack=slack_settings(fake),
        handoff_config=parse_config(config or {}),
        **overrides,
    )
    async with running_gateway(settings) as client:
        yield client


async def command(agent: SlackAgent, text: str) -> str:
    """Run a slash command; returns what Slack would show the agent."""
    resp = await agent.command(text)
    assert resp.status == 200
    body = await resp.text()
    return json.loads(body)["text"] if body.startswith("{") else body


async def tell(ann: Visitor, text: str) -> None:
    """Send a message and wait for its echo, not for a reply (people may have the chat)."""
    await ann.ws.send_json({"type": "message", "text": text, "client_msg_id": uuid.uuid4().hex})
    await ann.until(
        lambda f: f["type"] == "message" and f["from"] == "customer" and f["text"] == text
    )


async def hand_off(ann: Visitor, *before: str) -> dict:
    await ann.hello("visitor-ann")
    for text in before:
        await ann.say(text)
    return await ann.say("I want to talk to a person")


async def test_a_forged_or_stale_slack_request_is_refused_and_changes_nothing(
    tmp_path, fake
) -> None:
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        await hand_off(ann)
        _, root_ts, _, _ = await root_post(fake)
        agent = SlackAgent(client)
        store = client.server.app[SERVICES].store
        body = agent.event_body(
            {
                "type": "message",
                "channel": QUEUE_CHANNEL,
                "user": "U0AGENT001",
                "text": "forged",
                "ts": "1.2",
                "thread_ts": root_ts,
            }
        )
        wrong = slack_headers("not-the-secret", body)
        stale = slack_headers(
            SIGNING_SECRET, body, timestamp=int(datetime.now(UTC).timestamp()) - 600
        )
        for headers in (wrong, stale, {}):
            resp = await agent.post(body, "application/json", headers=headers)
            assert resp.status == 401
        await asyncio.sleep(0.3)
        assert await store.inbox.pending() == 0
        frames = [f for f in ann.entries() if f["from"] == "agent"]
        assert frames == []


async def test_a_retried_event_is_handled_once(tmp_path, fake) -> None:
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        await hand_off(ann)
        _, root_ts, _, _ = await root_post(fake)
        agent = SlackAgent(client)
        body = agent.event_body(
            {
                "type": "message",
                "channel": QUEUE_CHANNEL,
                "user": agent.user_id,
                "text": "Hello from Jane",
                "ts": "1700000500.000100",
                "thread_ts": root_ts,
            },
            event_id="Ev0RETRIED1",
        )
        first = await agent.post(body, "application/json")
        retry_headers = {
            **slack_headers(SIGNING_SECRET, body),
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        }
        again = await agent.post(body, "application/json", headers=retry_headers)
        assert (first.status, again.status) == (200, 200)
        await ann.until(lambda f: f["type"] == "message" and f["from"] == "agent")
        await asyncio.sleep(0.5)
        store = client.server.app[SERVICES].store
        conversation_id = ann.frames[0]["conversation_id"]
        said = [e for e in await store.transcript.entries(conversation_id) if e.author == "agent"]
        assert [e.text for e in said] == ["Hello from Jane"]


async def test_a_note_stays_internal_and_is_marked(tmp_path, fake) -> None:
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        await hand_off(ann)
        _, root_ts, _, _ = await root_post(fake)
        agent = SlackAgent(client)
        await agent.reply(root_ts, "note: customer sounds upset, be gentle")
        await agent.reply(root_ts, "// checking the warehouse")
        (reaction, _) = await fake.wait_for(lambda r: r.api == "reactions.add", count=2)
        assert reaction.params["name"] == "memo"
        await agent.reply(root_ts, "Hi! Looking into it now.")
        said = await ann.until(lambda f: f["type"] == "message" and f["from"] == "agent")
        assert said["text"] == "Hi! Looking into it now."
        store = client.server.app[SERVICES].store
        entries = await store.transcript.entries(ann.frames[0]["conversation_id"])
        assert not any("upset" in e.text or "warehouse" in e.text for e in entries)


async def test_slash_commands_list_claim_and_resolve(tmp_path, fake) -> None:
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        await hand_off(ann)
        _, _, handoff_id, _ = await root_post(fake)
        agent = SlackAgent(client)
        await until_posted(client, handoff_id)
        listed = await command(agent, "queue")
        assert handoff_id in listed and "waiting" in listed
        assert "/onethread resolve" in await command(agent, "")
        assert "Nothing to resolve" in await command(agent, "resolve")
        assert handoff_id in await command(agent, "claim")
        await ann.until(lambda f: f["type"] == "message" and f["from"] == "system")
        assert handoff_id in await command(agent, "resolve")
        rating = await ann.until(lambda f: f["type"] == "message" and "How did we do" in f["text"])
        assert [q["payload"] for q in rating["quick_replies"]] == [f"csat:{n}" for n in range(1, 6)]
        store = client.server.app[SERVICES].store
        assert (await store.handoffs.get(handoff_id)).status == "resolved"
        # The bot has the conversation again.
        back = await ann.say("how long does shipping take")
        assert "business days" in back["text"]


async def test_transfer_moves_the_handoff_to_another_queue(tmp_path, fake) -> None:
    config = {"queues": {"vip": {"channel": VIP_CHANNEL}}}
    async with gateway(tmp_path, fake, config) as client, visitor(client) as ann:
        await hand_off(ann, "how long does shipping take")
        _, root_ts, handoff_id, blocks = await root_post(fake)
        assert "onethread.transfer" in json.dumps(blocks)
        agent = SlackAgent(client)
        await agent.click("onethread.transfer", root_ts, selected=f"{handoff_id}|vip")
        (moved,) = await fake.wait_for(
            lambda r: (
                r.api == "chat.postMessage"
                and r.params.get("channel") == VIP_CHANNEL
                and not r.params.get("thread_ts")
            ),
            count=1,
        )
        (old,) = await fake.wait_for(
            lambda r: r.api == "chat.update" and r.params.get("ts") == root_ts, count=1
        )
        assert "transferred this conversation to the vip queue" in old.params["text"]
        new_ts = moved.response["ts"]
        await thread_text(fake, new_ts, "how long does shipping take")
        store = client.server.app[SERVICES].store
        handoff = await store.handoffs.get(handoff_id)
        assert (handoff.queue, handoff.slack_channel, handoff.thread_ts) == (
            "vip",
            VIP_CHANNEL,
            new_ts,
        )


async def test_routing_rules_pick_the_queue_and_priority(tmp_path, fake) -> None:
    config = {
        "queues": {"vip": {"channel": VIP_CHANNEL}},
        "routes": [{"when": {"attribute": {"vip": True}}, "queue": "vip", "priority": "high"}],
    }
    # The site vouches for the VIP in its signed identity token.
    token = jwt.encode(
        {"sub": "user-vip", "name": "Vera", "attributes": {"vip": True}, "locale": "de-AT"},
        SITE_SECRET,
        algorithm="HS256",
    )
    async with gateway(tmp_path, fake, config) as client, visitor(client) as vera:
        welcome = await vera.hello("visitor-vip", identity_token=token)
        store = client.server.app[SERVICES].store
        customer = await store.customers.get(welcome["customer_id"])
        assert customer.attributes == {"vip": True, "language": "de-AT"}
        await vera.say("I want to talk to a person")
        root, _, handoff_id, blocks = await root_post(fake)
        assert root.params["channel"] == VIP_CHANNEL
        assert "high priority" in json.dumps(blocks)
        assert (await store.handoffs.get(handoff_id)).priority == "high"


async def test_attributes_set_by_the_admin_api_route_too(tmp_path, fake) -> None:
    config = {
        "queues": {"vip": {"channel": VIP_CHANNEL}},
        "routes": [{"when": {"attribute": {"plan": "gold"}}, "queue": "vip"}],
    }
    admin = {"Authorization": "Bearer admin-token-for-tests"}
    async with (
        gateway(tmp_path, fake, config, admin_token=Secret("admin-token-for-tests")) as client,
        visitor(client) as ann,
    ):
        welcome = await ann.hello("visitor-gold")
        path = f"/api/v1/customers/{welcome['customer_id']}"
        refused = await client.patch(path, json={"attributes": {"plan": ["gold"]}}, headers=admin)
        assert refused.status == 400
        resp = await client.patch(path, json={"attributes": {"plan": "gold"}}, headers=admin)
        assert resp.status == 200 and (await resp.json())["attributes"] == {"plan": "gold"}
        await ann.say("I want to talk to a person")
        root, _, _, _ = await root_post(fake)
        assert root.params["channel"] == VIP_CHANNEL


async def test_a_trigger_rule_hands_off_at_once(tmp_path, fake) -> None:
    config = {"triggers": [{"when": {"intent": "cancel_order"}, "reason": "cancellations"}]}
    async with gateway(tmp_path, fake, config) as client, visitor(client) as ann:
        await ann.hello("visitor-cancel")
        reply = await ann.say("I want to cancel my order")
        assert "passing this conversation to our team" in reply["text"]
        _, _, handoff_id, blocks = await root_post(fake)
        assert "Rule: cancellations" in json.dumps(blocks)
        store = client.server.app[SERVICES].store
        assert (await store.handoffs.get(handoff_id)).reason == "rule:cancellations"


async def test_the_bot_hands_off_after_failing_twice(tmp_path, fake) -> None:
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        await ann.hello("visitor-lost")
        await ann.say("blorft the quizzical marmoset")
        reply = await ann.say("zebra trombone tax flux")
        assert "passing this conversation to our team" in reply["text"]
        _, _, handoff_id, _ = await root_post(fake)
        store = client.server.app[SERVICES].store
        assert (await store.handoffs.get(handoff_id)).reason == "repeated_misses"


async def test_outside_business_hours_the_customer_is_told_when_and_it_waits(
    tmp_path, fake
) -> None:
    now = datetime.now(UTC)
    # A one-minute window two hours from now, every day: closed now, open later today/tomorrow.
    opens = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    hours = {
        "timezone": "UTC",
        "days": "mon-sun",
        "open": opens.strftime("%H:%M"),
        "close": (opens + timedelta(minutes=1)).strftime("%H:%M"),
    }
    if hours["close"] <= hours["open"]:
        pytest.skip("the window would cross midnight")
    config = {"queues": {"default": {"hours": hours}}}
    async with gateway(tmp_path, fake, config) as client, visitor(client) as ann:
        reply = await hand_off(ann)
        assert "offline right now" in reply["text"] and opens.strftime("%H:%M") in reply["text"]
        _, _, _, blocks = await root_post(fake)
        assert "queue opens" in json.dumps(blocks)


async def test_an_unclaimed_handoff_is_reminded_and_escalated(tmp_path, fake) -> None:
    config = {
        "queues": {"default": {"escalation_channel": LEADS_CHANNEL, "remind_after_seconds": 60}}
    }
    async with gateway(tmp_path, fake, config) as client, visitor(client) as ann:
        await hand_off(ann)
        _, root_ts, handoff_id, _ = await root_post(fake)
        await until_posted(client, handoff_id)
        desk = client.server.app[SERVICES].desk
        assert await desk.remind_due(datetime.now(UTC)) == 0  # not yet
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert await desk.remind_due(later) == 1
        assert await desk.remind_due(later) == 0  # once
        await thread_text(fake, root_ts, "nobody has claimed it yet")
        (escalation,) = await fake.wait_for(
            lambda r: r.api == "chat.postMessage" and r.params.get("channel") == LEADS_CHANNEL,
            count=1,
        )
        assert f"<#{QUEUE_CHANNEL}>" in escalation.params["text"]
        assert root_ts.replace(".", "") in escalation.params["text"]


async def test_a_handoff_while_slack_is_down_arrives_when_it_is_back(tmp_path, fake) -> None:
    fake.down("slack")
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        reply = await hand_off(ann)
        assert "passing this conversation" in reply["text"]
        delayed = await ann.until(lambda f: f["type"] == "message" and f["from"] == "system")
        assert "taking longer than usual" in delayed["text"]
        store = client.server.app[SERVICES].store
        assert (await store.outbox.list("pending"))[0].last_error
        fake.up("slack")
        await root_post(fake)
        # Only one "taking longer" notice, however many retries it took.
        await asyncio.sleep(0.3)
        notices = [f for f in ann.entries() if "taking longer" in f["text"]]
        assert len(notices) == 1


async def test_slack_rate_limits_are_waited_out(tmp_path, fake) -> None:
    fake.fail_next("slack", 429, retry_after=1, path="chat.postMessage")
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        await hand_off(ann)
        first = await fake.wait_for(lambda r: r.api == "chat.postMessage", count=1)
        root, _, _, _ = await root_post(fake)
        waited = root.at - first[0].at
        assert waited >= 0.9  # Retry-After: 1 was honoured


async def test_card_numbers_never_reach_slack_and_long_transcripts_are_a_file(
    tmp_path, fake
) -> None:
    config = {"redact": [r"\bPW-\w+"]}
    async with gateway(tmp_path, fake, config) as client, visitor(client) as ann:
        await ann.hello("visitor-long")
        await ann.say("my card 4242 4242 4242 4242 was charged twice, password PW-hunter2")
        # A long earlier exchange, too long for a few thread messages.
        store = client.server.app[SERVICES].store
        conversation_id = ann.frames[0]["conversation_id"]
        earlier = [
            EntryDraft(
                "customer",
                "webchat",
                f"question {n}: " + "where is my parcel? " * 30,
                datetime.now(UTC),
            )
            for n in range(40)
        ]
        await store.transcript.append(conversation_id, earlier, key="earlier")
        await ann.say("I want to talk to a person")
        _, root_ts, handoff_id, _ = await root_post(fake)
        (completed,) = await fake.wait_for(
            lambda r: r.api == "files.completeUploadExternal", count=1
        )
        assert completed.params.get("thread_ts") == root_ts
        (content,) = [f["data"] for f in fake.slack_files.values()]
        text = content.decode() if isinstance(content, bytes) else str(content)
        assert CARD_MASK in text and "4242 4242" not in text and "hunter2" not in text
        assert text.count("question") == 40
        await until_posted(client, handoff_id)
        await tell(ann, "it was 4242424242424242 again")
        (mirrored,) = await thread_text(fake, root_ts, "again")
        assert CARD_MASK in mirrored.params["text"]
        # The customer's own transcript keeps what they wrote.
        entries = await store.transcript.entries(conversation_id)
        assert "4242 4242 4242 4242" in entries[0].text


async def test_the_card_shows_the_customers_recent_business_events(tmp_path, fake) -> None:
    async with gateway(tmp_path, fake) as client, visitor(client) as ann:
        welcome = await ann.hello("visitor-events")
        store = client.server.app[SERVICES].store
        shipped = BusinessEvent(
            "ev_1",
            welcome["customer_id"],
            "order_shipped",
            datetime.now(UTC),
            {"order_number": "FH-482913"},
        )
        await store.business_events.record(shipped)
        await ann.say("I want to talk to a person")
        _, _, _, blocks = await root_post(fake)
        assert "order shipped · FH-482913" in json.dumps(blocks, ensure_ascii=False)
