"""Handoff to Slack end to end: web chat and SMS customers, an agent in a fake Slack workspace.

The gateway's real slack-bolt app and slack_sdk client talk to the fake Slack Web API; every
request to /slack/events is signed by slack_sdk's own code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from twilio.request_validator import RequestValidator

from gateway.http_ops import SERVICES
from gateway.settings import Secret, SlackSettings, TwilioSettings
from tests.fakes.providers import FakeProviders
from tests.handoff.slack_agent import QUEUE_CHANNEL, SIGNING_SECRET, SlackAgent
from tests.support import gateway_settings, running_gateway, visitor

PUBLIC_URL = "https://gateway.example"
SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-token-for-slack-tests"
OUR_NUMBER = "+15557654321"
ANN = "+15550000001"
SITE_SECRET = "site-secret-for-tests-32-bytes-long!"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders(twilio_account_sid=SID, twilio_auth_token=TWILIO_TOKEN) as providers:
        yield providers


def slack_settings(fake: FakeProviders) -> SlackSettings:
    return SlackSettings(
        bot_token=Secret(fake.slack_token),
        signing_secret=Secret(SIGNING_SECRET),
        handoff_channel=QUEUE_CHANNEL,
        api_base_url=fake.slack_base_url,
    )


@pytest.fixture
async def client(tmp_path: Path, fake: FakeProviders):
    settings = gateway_settings(
        tmp_path,
        public_url=PUBLIC_URL,
        webchat_identity_secret=Secret(SITE_SECRET),
        twilio=TwilioSettings(SID, Secret(TWILIO_TOKEN), OUR_NUMBER, fake.twilio_base_url),
        slack=slack_settings(fake),
    )
    async with running_gateway(settings) as c:
        yield c


def ann_token() -> str:
    claims = {"sub": "user-ann", "phone": ANN, "name": "Ann Example"}
    return jwt.encode(claims, SITE_SECRET, algorithm="HS256")


async def post_sms(client, sid: str, body: str, sender: str = ANN):
    form = {
        "MessageSid": sid,
        "AccountSid": SID,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        f"{PUBLIC_URL}/webhooks/twilio", form
    )
    resp = await client.post(
        "/webhooks/twilio",
        data=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    assert resp.status == 200, await resp.text()


def posts(fake: FakeProviders, **match: Any) -> list:
    """chat.postMessage calls whose arguments include every given key/value."""
    return [
        r
        for r in fake.calls("slack", path="chat.postMessage")
        if all(r.params.get(k) == v for k, v in match.items())
    ]


async def root_post(fake: FakeProviders):
    """The handoff's root card, once Slack accepted it; returns (record, ts, handoff id, blocks).

    Requests are recorded on arrival, before their answer: wait for each attempt's answer, and
    for another attempt when Slack refused it (down, rate limited).
    """
    attempts = 1
    while True:
        found = await fake.wait_for(
            lambda r: r.api == "chat.postMessage" and not r.params.get("thread_ts"),
            count=attempts,
        )
        root = found[attempts - 1]
        async with asyncio.timeout(10):
            while True:  # the fake fills in the answer without notifying anyone
                if root.status is not None:
                    break
                await asyncio.sleep(0.02)
        if root.status == 200 and root.response.get("ok"):
            break
        attempts += 1
    blocks = root.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    claim = next(e for e in buttons if e.get("action_id") == "onethread.claim")
    return root, root.response["ts"], claim["value"], blocks


async def until_posted(client, handoff_id: str):
    """The handoff once its card and transcript are in Slack and the store knows the thread."""
    store = client.server.app[SERVICES].store
    async with asyncio.timeout(10):
        while True:
            handoff = await store.handoffs.get(handoff_id)
            if handoff and handoff.thread_ts and handoff.detail.get("transcript_until"):
                return handoff
            await asyncio.sleep(0.05)


async def thread_text(fake: FakeProviders, ts: str, needle: str, count: int = 1) -> list:
    return await fake.wait_for(
        lambda r: (
            r.api == "chat.postMessage"
            and r.params.get("thread_ts") == ts
            and needle in (r.params.get("text") or "")
        ),
        count=count,
    )


async def sms_to_ann(fake: FakeProviders, needle: str) -> str:
    (sent,) = await fake.wait_for(
        lambda r: (
            r.provider == "twilio" and r.path == MESSAGES_PATH and needle in r.form.get("Body", "")
        ),
        count=1,
    )
    return sent.form["Body"]


async def test_web_chat_to_slack_and_back_across_sms_with_a_rating(client, fake) -> None:
    agent = SlackAgent(client)
    store = client.server.app[SERVICES].store
    async with visitor(client) as ann:
        welcome = await ann.hello("visitor-ann", identity_token=ann_token())
        await ann.say("how long does shipping take")
        await ann.say("can I return worn boots")
        handing = await ann.say("I want to talk to a person")
        assert "passing this conversation to our team" in handing["text"]

        root, root_ts, handoff_id, blocks = await root_post(fake)
        assert root.params["channel"] == QUEUE_CHANNEL
        card = json.dumps(blocks)
        assert "Ann Example" in card and "Customer asked for a person" in card
        assert "onethread.resolve" in card and ANN in card
        # The whole story so far is in the thread: both questions and the bot's answers.
        (transcript,) = await thread_text(fake, root_ts, "Transcript")
        lines = transcript.params["text"]
        assert "how long does shipping take" in lines and "can I return worn boots" in lines
        assert lines.count("Bot:") >= 2 and "Web chat" in lines

        resp = await agent.click("onethread.claim", root_ts, value=handoff_id)
        assert resp.status == 200
        joined = await ann.until(lambda f: f["type"] == "message" and f["from"] == "system")
        assert "jane from our team has joined" in joined["text"]
        await fake.wait_for(lambda r: r.api == "chat.update", count=1)

        resp = await agent.reply(
            root_ts, "Hi Ann, *I'm on it*. <https://fernhill.example/r|Returns>"
        )
        assert resp.status == 200
        said = await ann.until(lambda f: f["type"] == "message" and f["from"] == "agent")
        assert said["author_name"] == "jane"
        assert said["text"] == "Hi Ann, **I'm on it**. [Returns](https://fernhill.example/r)"

    # Ann picks up her phone: same verified number, same conversation, and the thread sees it.
    await post_sms(client, "SM" + "a" * 32, "I'm on my phone now")
    (mirrored,) = await thread_text(fake, root_ts, "I'm on my phone now")
    assert mirrored.params["text"].startswith("*SMS*")
    assert fake.count("twilio", "POST", MESSAGES_PATH) == 0  # the bot kept quiet

    await agent.reply(root_ts, "Your refund is on its way")
    assert await sms_to_ann(fake, "refund") == "jane: Your refund is on its way"

    await agent.click("onethread.resolve", root_ts, value=handoff_id)
    prompt = await sms_to_ann(fake, "How did we do?")
    assert "1" in prompt and "5" in prompt
    await post_sms(client, "SM" + "b" * 32, "5")
    await sms_to_ann(fake, "Thank you for your rating")
    handoff = await store.handoffs.get(handoff_id)
    assert (
        handoff.status == "resolved" and handoff.rating == 5 and handoff.agent_id == agent.user_id
    )
    assert handoff.claimed_at is not None and handoff.first_response_at is not None

    # The bot is back: a question by SMS gets the article's SMS answer.
    await post_sms(client, "SM" + "c" * 32, "how long does shipping take")
    await sms_to_ann(fake, "business days")

    # Each step is in the operators' event log, once.
    events = await store.events.between(
        handoff.opened_at - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1)
    )
    steps = [
        (e.kind, e.data.get("first"), e.data.get("rating"))
        for e in events
        if e.kind in {"handoff", "claim", "agent_reply", "resolve", "rating"}
    ]
    assert steps == [
        ("handoff", None, None),
        ("claim", None, None),
        ("agent_reply", True, None),
        ("agent_reply", False, None),
        ("resolve", None, None),
        ("rating", None, 5),
    ]
    assert next(e for e in events if e.kind == "handoff").data["reason"] == "human_agent"

    entries = await store.transcript.entries(welcome["conversation_id"])
    authors = [(e.author, e.channel) for e in entries]
    assert ("agent", "webchat") in authors and ("agent", "sms") in authors
    assert authors[-1] == ("bot", "sms")


async def test_an_agent_reply_that_cannot_be_delivered_is_reported_in_the_thread(
    client, fake
) -> None:
    agent = SlackAgent(client)
    await post_sms(client, "SM" + "d" * 32, "I want to talk to a person")
    await sms_to_ann(fake, "passing this conversation")
    _, root_ts, handoff_id, _ = await root_post(fake)
    await until_posted(client, handoff_id)
    await agent.click("onethread.claim", root_ts, value=handoff_id)
    await sms_to_ann(fake, "has joined")
    fake.fail_next("twilio", status=400, path=MESSAGES_PATH)  # e.g. the number opted out
    await agent.reply(root_ts, "Here is your tracking link")
    (warning,) = await thread_text(fake, root_ts, "Not delivered to the customer by SMS")
    assert "Here is your tracking link" in warning.params["text"]
