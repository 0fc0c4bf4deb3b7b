"""The provider fake against the REAL SDKs: what works here works against the providers.

twilio (async client), python-telegram-bot and slack_sdk (AsyncWebClient) are pointed at the
fake exactly as README.md says; the Graph API has no SDK, so plain aiohttp calls it. No test
sleeps to wait: requests are awaited through ``FakeProviders.wait_for``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dtm
import json
import re
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes import (
    CUSTOMER_PHONE,
    INSTAGRAM_ACCOUNT_ID,
    MESSENGER_PSID,
    META_PAGE_ID,
    TELEGRAM_USER_ID,
    TWILIO_ACCOUNT_SID,
    TWILIO_MESSAGING_SERVICE_SID,
    TWILIO_NUMBER,
    WHATSAPP_CUSTOMER_WA_ID,
    WHATSAPP_PHONE_NUMBER_ID,
    load_payload,
    payload_names,
    signing,
)
from tests.fakes.providers import FakeProviders, sms_segments

MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders() as running:
        yield running


# -- Twilio ----------------------------------------------------------------------------------


@pytest.fixture
async def twilio_client(fake: FakeProviders) -> AsyncIterator[Any]:
    pytest.importorskip("twilio")
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    client = Client(
        fake.twilio_account_sid, fake.twilio_auth_token, http_client=AsyncTwilioHttpClient()
    )
    # The Api domain's base_url replaces https://api.twilio.com for every request it builds.
    client.api.base_url = fake.twilio_base_url
    yield client
    await client.http_client.close()


async def test_twilio_sdk_creates_and_fetches_a_message(
    fake: FakeProviders, twilio_client: Any
) -> None:
    message = await twilio_client.messages.create_async(
        to=CUSTOMER_PHONE,
        messaging_service_sid=TWILIO_MESSAGING_SERVICE_SID,
        body="Your order #1042 ships tomorrow.",
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.account_sid == TWILIO_ACCOUNT_SID
    assert message.to == CUSTOMER_PHONE
    assert message.messaging_service_sid == TWILIO_MESSAGING_SERVICE_SID
    assert message.status == "accepted"  # a service send without From is accepted, not queued
    assert message.num_segments == "1"
    assert message.api_version == "2010-04-01"
    assert message.price is None and message.error_code is None
    assert isinstance(message.date_created, dtm.datetime)  # the SDK parsed the RFC 2822 date
    assert message.uri == f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{message.sid}.json"

    fetched = await twilio_client.messages(message.sid).fetch_async()
    assert fetched.sid == message.sid and fetched.body == "Your order #1042 ships tomorrow."

    (sent,) = fake.calls("twilio", "POST", MESSAGES_PATH)
    assert sent.form == {
        "To": CUSTOMER_PHONE,
        "MessagingServiceSid": TWILIO_MESSAGING_SERVICE_SID,
        "Body": "Your order #1042 ships tomorrow.",
    }
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.status == 201 and sent.response["sid"] == message.sid
    assert fake.count("twilio", "GET", "/2010-04-01/Accounts/{sid}/Messages/{msid}.json") == 1


async def test_twilio_from_number_queues_and_counts_segments(
    fake: FakeProviders, twilio_client: Any
) -> None:
    message = await twilio_client.messages.create_async(
        to=CUSTOMER_PHONE, from_=TWILIO_NUMBER, body="x" * 161
    )
    assert message.status == "queued" and message.from_ == TWILIO_NUMBER
    assert message.num_segments == "2"
    assert sms_segments("é" * 70) == 1 and sms_segments("😀" * 70) == 3  # UCS-2 counts


async def test_twilio_validation_and_auth_errors(fake: FakeProviders, twilio_client: Any) -> None:
    from twilio.base.exceptions import TwilioRestException

    with pytest.raises(TwilioRestException) as missing_to:
        await twilio_client.messages.create_async(to="", from_=TWILIO_NUMBER, body="hi")
    assert missing_to.value.status == 400 and missing_to.value.code == 21604
    assert missing_to.value.msg.endswith("A 'To' phone number is required.")

    url = f"{fake.twilio_base_url}/2010-04-01/Accounts/{fake.twilio_account_sid}/Messages.json"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data={"To": CUSTOMER_PHONE, "Body": "hi"}) as resp:
            assert resp.status == 401
            error = await resp.json()
        wrong = base64.b64encode(f"{fake.twilio_account_sid}:wrong".encode()).decode()
        headers = {"Authorization": f"Basic {wrong}"}
        async with http.post(url, data={"To": "+1"}, headers=headers) as resp:
            assert resp.status == 401
    assert error["code"] == 20003 and error["status"] == 401
    assert error["more_info"] == "https://www.twilio.com/docs/errors/20003"


async def test_twilio_500_twice_then_success(fake: FakeProviders, twilio_client: Any) -> None:
    from twilio.base.exceptions import TwilioRestException

    fake.fail_next("twilio", status=500, times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as failed:
            await twilio_client.messages.create_async(
                to=CUSTOMER_PHONE, from_=TWILIO_NUMBER, body="retry me"
            )
        assert failed.value.status == 500
    message = await twilio_client.messages.create_async(
        to=CUSTOMER_PHONE, from_=TWILIO_NUMBER, body="retry me"
    )
    assert message.status == "queued"
    assert [r.status for r in fake.calls("twilio", "POST", MESSAGES_PATH)] == [500, 500, 201]


async def test_twilio_429_carries_retry_after(fake: FakeProviders, twilio_client: Any) -> None:
    from twilio.base.exceptions import TwilioRestException

    fake.fail_next("twilio", status=429, retry_after=7, path=MESSAGES_PATH)
    with pytest.raises(TwilioRestException) as limited:
        await twilio_client.messages.create_async(to=CUSTOMER_PHONE, from_=TWILIO_NUMBER, body="a")
    assert limited.value.status == 429 and limited.value.code == 20429
    # TwilioRestException drops headers; the async http client keeps the last response's.
    assert twilio_client.http_client._test_only_last_response.headers["Retry-After"] == "7"


# -- Telegram --------------------------------------------------------------------------------


def _bot(fake: FakeProviders, token: str | None = None) -> Any:
    telegram = pytest.importorskip("telegram")
    # python-telegram-bot appends the token to base_url: .../telegram/bot + token.
    return telegram.Bot(token or fake.telegram_token, base_url=f"{fake.telegram_base_url}/bot")


async def test_telegram_bot_sends_edits_and_answers(fake: FakeProviders) -> None:
    pytest.importorskip("telegram")
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    async with _bot(fake) as bot:  # initialize() calls getMe
        assert bot.username == "onethread_test_bot" and bot.id == 123456
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Yes", callback_data="helpful:yes")]]
        )
        first = await bot.send_message(
            TELEGRAM_USER_ID, "Did that help?", parse_mode="HTML", reply_markup=keyboard
        )
        second = await bot.send_message(TELEGRAM_USER_ID, "Second")
        assert first.text == "Did that help?" and first.from_user.id == bot.id
        assert first.chat.id == TELEGRAM_USER_ID and first.chat.type == "private"
        assert second.message_id == first.message_id + 1
        assert first.reply_markup == keyboard
        edited = await bot.edit_message_text("Thanks!", TELEGRAM_USER_ID, first.message_id)
        assert edited.text == "Thanks!" and edited.edit_date is not None
        assert await bot.answer_callback_query("4242424242424242424", text="Noted")
        assert await bot.send_chat_action(TELEGRAM_USER_ID, "typing")
        assert await bot.set_webhook("https://example.test/telegram", secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url == "https://example.test/telegram" and info.pending_update_count == 0
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""

    (sent, _) = fake.calls("telegram", "POST", "sendMessage")
    # PTB posts form-encoded fields, objects JSON-encoded; multipart only when uploading files.
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.path == f"/bot{fake.telegram_token}/sendMessage"
    assert sent.form is not None and sent.form["chat_id"] == str(TELEGRAM_USER_ID)
    assert json.loads(sent.form["reply_markup"])["inline_keyboard"][0][0]["text"] == "Yes"
    assert fake.telegram_webhook == {}


async def test_telegram_accepts_json_bodies_and_reports_errors(fake: FakeProviders) -> None:
    root = f"{fake.telegram_base_url}/bot{fake.telegram_token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{root}/sendMessage", json={"chat_id": 5, "text": "hi"}) as resp:
            body = await resp.json()
        assert body["ok"] is True and body["result"]["chat"]["id"] == 5
        form = aiohttp.FormData()
        form.add_field("chat_id", "6")
        form.add_field("text", "multipart")
        form.add_field("thumbnail", b"\x89PNG", filename="t.png", content_type="image/png")
        async with http.post(f"{root}/sendMessage", data=form) as resp:
            assert (await resp.json())["result"]["text"] == "multipart"
        multipart = fake.calls("telegram", path="sendMessage")[-1]
        assert multipart.headers["Content-Type"].startswith("multipart/form-data")
        assert multipart.form is not None and multipart.form["thumbnail"]["data"] == b"\x89PNG"
        async with http.get(f"{fake.telegram_base_url}/bot1:nope/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{root}/sendMessage", json={"chat_id": 5, "text": "x" * 4097}) as r:
            assert r.status == 400
            assert (await r.json())["description"] == "Bad Request: message is too long"


async def test_telegram_errors_through_the_sdk(fake: FakeProviders) -> None:
    pytest.importorskip("telegram")
    from telegram.error import BadRequest, InvalidToken, RetryAfter

    with pytest.raises(InvalidToken):
        async with _bot(fake, token="999:wrong"):
            pass
    async with _bot(fake) as bot:
        with pytest.raises(BadRequest, match=r"[Mm]essage is too long"):
            await bot.send_message(TELEGRAM_USER_ID, "x" * 4097)
        fake.fail_next("telegram", status=429, retry_after=3)
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(TELEGRAM_USER_ID, "flood")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            retry_after = limited.value.retry_after
        if isinstance(retry_after, dtm.timedelta):
            retry_after = retry_after.total_seconds()
        assert retry_after == 3
    assert fake.calls("telegram", path="sendMessage")[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


# -- Meta Graph ------------------------------------------------------------------------------


async def test_messenger_and_whatsapp_send_api(fake: FakeProviders) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{fake.meta_base_url}/me/messages",
            params={"access_token": fake.meta_token},
            json={
                "recipient": {"id": MESSENGER_PSID},
                "messaging_type": "RESPONSE",
                "message": {
                    "text": "Did that help?",
                    "quick_replies": [
                        {"content_type": "text", "title": "Yes", "payload": "HELPFUL_YES"}
                    ],
                },
            },
        ) as resp:
            assert resp.status == 200
            sent = await resp.json()
        async with http.post(
            f"{fake.meta_base_url}/{WHATSAPP_PHONE_NUMBER_ID}/messages",
            headers={"Authorization": f"Bearer {fake.meta_token}"},
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": WHATSAPP_CUSTOMER_WA_ID,
                "type": "text",
                "text": {"body": "Hello!"},
            },
        ) as resp:
            wa = await resp.json()
    assert sent["recipient_id"] == MESSENGER_PSID and sent["message_id"].startswith("m_")
    assert wa["messaging_product"] == "whatsapp"
    assert wa["contacts"] == [{"input": WHATSAPP_CUSTOMER_WA_ID, "wa_id": WHATSAPP_CUSTOMER_WA_ID}]
    assert wa["messages"][0]["id"].startswith("wamid.")
    assert fake.count("meta", "POST", "/me/messages") == 1
    assert fake.count("meta", "POST", "/{version}/{phone_number_id}/messages") == 2


async def test_graph_errors(fake: FakeProviders) -> None:
    url = f"{fake.meta_base_url}/me/messages"
    good = {"recipient": {"id": MESSENGER_PSID}, "message": {"text": "x" * 2001}}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, params={"access_token": "bad"}, json=good) as resp:
            assert resp.status == 401
            bad_token = (await resp.json())["error"]
        async with http.post(url, params={"access_token": fake.meta_token}, json=good) as resp:
            assert resp.status == 400
            too_long = (await resp.json())["error"]
    assert bad_token["type"] == "OAuthException" and bad_token["code"] == 190
    assert bad_token["fbtrace_id"]
    assert too_long["code"] == 100 and "2000" in too_long["message"]


async def test_delay_next_holds_the_response(fake: FakeProviders) -> None:
    fake.delay_next("meta", seconds=0.3)
    async with aiohttp.ClientSession() as http:

        async def send() -> dict[str, Any]:
            async with http.post(
                f"{fake.meta_base_url}/me/messages",
                params={"access_token": fake.meta_token},
                json={"recipient": {"id": MESSENGER_PSID}, "message": {"text": "slow"}},
            ) as resp:
                return await resp.json()

        started = time.monotonic()
        task = asyncio.create_task(send())
        (arrived,) = await fake.wait_for(lambda r: r.provider == "meta")
        assert not task.done() and arrived.status is None  # recorded, not yet answered
        assert "message_id" in await task
        assert time.monotonic() - started >= 0.3
        assert arrived.status == 200


# -- Slack -----------------------------------------------------------------------------------


def _slack(fake: FakeProviders, token: str | None = None) -> Any:
    pytest.importorskip("slack_sdk")
    from slack_sdk.web.async_client import AsyncWebClient

    return AsyncWebClient(token=token or fake.slack_token, base_url=fake.slack_base_url)


async def test_slack_web_api_calls(fake: FakeProviders) -> None:
    client = _slack(fake)
    auth = await client.auth_test()
    assert auth["user_id"] == fake.slack_bot_user_id and auth["team_id"] == "T0TESTTEAM"
    first = await client.chat_postMessage(channel="C0HANDOFF1", text="New conversation")
    reply = await client.chat_postMessage(channel="C0HANDOFF1", text="more", thread_ts=first["ts"])
    assert first["ts"] == "1700000000.000100" and reply["ts"] == "1700000000.000200"
    assert first["channel"] == "C0HANDOFF1" and first["message"]["text"] == "New conversation"
    assert reply["message"]["thread_ts"] == first["ts"]
    updated = await client.chat_update(channel="C0HANDOFF1", ts=first["ts"], text="Claimed")
    assert updated["text"] == "Claimed"
    assert (await client.chat_postEphemeral(channel="C0HANDOFF1", user="U0AGENT01", text="hi"))[
        "message_ts"
    ]
    assert (await client.conversations_info(channel="C0HANDOFF1"))["channel"]["is_member"]
    user = (await client.users_info(user="U0AGENT01"))["user"]
    assert user["real_name"] == "Jane Agent" and user["profile"]["display_name"] == "jane"
    assert (await client.reactions_add(channel="C0HANDOFF1", timestamp=first["ts"], name="eyes"))[
        "ok"
    ]

    posted = fake.calls("slack", "POST", "chat.postMessage")[0]
    assert posted.headers["Authorization"] == "Bearer xoxb-test"
    assert posted.json == {"channel": "C0HANDOFF1", "text": "New conversation"}
    assert fake.counts("slack")[("slack", "POST", "chat.postMessage")] == 2


async def test_slack_files_upload_v2(fake: FakeProviders) -> None:
    client = _slack(fake)
    result = await client.files_upload_v2(
        channel="C0HANDOFF1", content=b"transcript line 1\n", filename="transcript.txt"
    )
    assert result["file"]["name"] == "transcript.txt" and result["file"]["size"] == 18
    (upload,) = fake.calls("slack", "POST", "upload")
    assert upload.body == b"transcript line 1\n" and upload.response == "OK - 18"
    assert [r.api for r in fake.requests] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


async def test_slack_errors_rate_limit_and_outage(fake: FakeProviders) -> None:
    pytest.importorskip("slack_sdk")
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError) as bad:
        await _slack(fake, token="xoxb-wrong").auth_test()
    assert bad.value.response.status_code == 200 and bad.value.response["error"] == "invalid_auth"

    client = _slack(fake)
    fake.fail_next("slack", status=429, retry_after=30)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C0HANDOFF1", text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "30"
    assert limited.value.response["error"] == "ratelimited"

    fake.down("slack")
    for _ in range(2):
        with pytest.raises(SlackApiError) as down:
            await client.auth_test()
        assert down.value.response.status_code == 503
    fake.up("slack")
    assert (await client.auth_test())["ok"]


# -- recording, waiting ----------------------------------------------------------------------


async def test_wait_for_wakes_on_requests_and_times_out(fake: FakeProviders) -> None:
    client = _slack(fake)
    waiter = asyncio.create_task(
        fake.wait_for(lambda r: r.api == "chat.postMessage", count=2, timeout=5)
    )
    await client.chat_postMessage(channel="C1", text="one")
    assert not waiter.done()
    await client.chat_postMessage(channel="C1", text="two")
    matched = await waiter
    assert [r.json["text"] for r in matched] == ["one", "two"]

    with pytest.raises(TimeoutError, match="0/1 matching"):
        await fake.wait_for(lambda r: r.provider == "twilio", timeout=0.05)


async def test_fail_next_per_path_leaves_other_calls_alone(fake: FakeProviders) -> None:
    client = _slack(fake)
    fake.fail_next("slack", status=200, error="channel_not_found", path="chat.postMessage")
    assert (await client.auth_test())["ok"]
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.chat_postMessage(channel="C1", text="x")
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]


# -- signing ---------------------------------------------------------------------------------


def test_twilio_signature_validates_with_the_sdk() -> None:
    pytest.importorskip("twilio")
    from twilio.request_validator import RequestValidator

    params = load_payload("twilio/sms_inbound")
    url = "https://gateway.example.test/webhooks/twilio/sms?tenant=1"
    headers = signing.twilio_headers("twilio-test-auth-token", url, params)
    validator = RequestValidator("twilio-test-auth-token")
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert not validator.validate(url, {**params, "Body": "x"}, headers["X-Twilio-Signature"])
    assert not RequestValidator("other").validate(url, params, headers["X-Twilio-Signature"])
    assert "Body=Hi%2C+where+is+my+order+%231042%3F" in signing.twilio_form_body(params)

    body = b'{"a":1}'
    json_url = signing.twilio_json_url(url, body)
    sig = signing.twilio_signature("twilio-test-auth-token", json_url)
    assert validator.validate(json_url, body.decode(), sig)


def test_slack_signature_validates_with_the_sdk() -> None:
    pytest.importorskip("slack_sdk")
    from slack_sdk.signature import SignatureVerifier

    body = "payload=" + json.dumps({"type": "block_actions"})
    headers = signing.slack_headers("slack-signing-secret", body)
    verifier = SignatureVerifier("slack-signing-secret")
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid(
        body + "x", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    stale = signing.slack_headers("slack-signing-secret", body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


def test_meta_and_telegram_headers() -> None:
    import hashlib
    import hmac

    body = signing.meta_body(load_payload("meta/messenger_text"))
    headers = signing.meta_headers("meta-app-secret", body)
    expected = hmac.new(b"meta-app-secret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hub-Signature-256"], "sha256=" + expected)
    assert signing.telegram_headers("s3cret")["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"


# -- payload files ---------------------------------------------------------------------------


def test_payload_files_are_consistent() -> None:
    names = payload_names()
    assert len(names) == 20
    for name in names:
        assert load_payload(name)
    for name in (n for n in names if n.startswith("twilio/")):
        fields = load_payload(name)
        assert all(isinstance(v, str) for v in fields.values()), name  # form fields
        assert fields["AccountSid"] == TWILIO_ACCOUNT_SID
    contact = load_payload("telegram/contact_shared")["message"]
    assert contact["contact"]["user_id"] == contact["from"]["id"] == TELEGRAM_USER_ID
    for name in (n for n in names if n.startswith("meta/messenger")):
        entry = load_payload(name)["entry"][0]
        assert entry["id"] == META_PAGE_ID
        event = entry["messaging"][0]
        assert {event["sender"]["id"], event["recipient"]["id"]} == {MESSENGER_PSID, META_PAGE_ID}
    assert load_payload("meta/instagram_text")["entry"][0]["id"] == INSTAGRAM_ACCOUNT_ID
    for name in (n for n in names if n.startswith("meta/whatsapp")):
        value = load_payload(name)["entry"][0]["changes"][0]["value"]
        assert value["metadata"]["phone_number_id"] == WHATSAPP_PHONE_NUMBER_ID
    echo = load_payload("meta/messenger_echo")["entry"][0]["messaging"][0]
    assert echo["message"]["is_echo"] is True
