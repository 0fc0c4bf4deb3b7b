"""Meta adapter pieces: settings, signature, webhook parsing, Send API rendering, Graph errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.meta.inbound import parse_webhook
from adapters.meta.outbound import (
    CHOOSE,
    delivery_error,
    messenger_messages,
    render_text,
    whatsapp_bodies,
)
from adapters.meta.signature import signature_valid
from gateway.messages import Address, Attachment, Contact, Evidence, Location, Outbound, QuickReply
from gateway.settings import SettingsError, load_settings
from tests.fakes import load_payload
from tests.fakes.signing import meta_body, meta_signature

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SECRET = "meta-app-secret"
PSID = "7654321098765432"
GRAPH = "https://graph.example/v21.0"


def settings(**env: str):
    return load_settings(env, Path("/nonexistent.toml"))


# -- settings ----------------------------------------------------------------------------------

FULL = {
    "META_APP_SECRET": SECRET,
    "META_VERIFY_TOKEN": "verify-me",
    "META_PAGE_ACCESS_TOKEN": "EAAG-page",
    "WHATSAPP_ACCESS_TOKEN": "EAAG-wa",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
}


def test_meta_is_off_by_default_and_on_with_the_app_secret() -> None:
    assert settings().meta is None
    meta = settings(**FULL).meta
    assert meta is not None
    assert meta.page and meta.whatsapp
    assert meta.graph_base_url == "https://graph.facebook.com/v21.0"
    assert meta.app_secret.reveal() == SECRET
    assert SECRET not in repr(meta) and "EAAG" not in repr(meta)
    custom = settings(**FULL, META_GRAPH_BASE_URL="http://127.0.0.1:9/meta/v21.0/").meta
    assert custom is not None and custom.graph_base_url == "http://127.0.0.1:9/meta/v21.0"


def test_either_channel_alone_is_enough() -> None:
    page_only = {k: v for k, v in FULL.items() if not k.startswith("WHATSAPP")}
    meta = settings(**page_only).meta
    assert meta is not None and meta.page and not meta.whatsapp
    wa_only = {k: v for k, v in FULL.items() if k != "META_PAGE_ACCESS_TOKEN"}
    meta = settings(**wa_only).meta
    assert meta is not None and meta.whatsapp and not meta.page


@pytest.mark.parametrize(
    ("drop", "missing"),
    [
        (("META_VERIFY_TOKEN",), "META_VERIFY_TOKEN"),
        (("WHATSAPP_PHONE_NUMBER_ID",), "WHATSAPP_PHONE_NUMBER_ID"),
        (("WHATSAPP_ACCESS_TOKEN",), "WHATSAPP_ACCESS_TOKEN"),
        (("META_APP_SECRET",), "META_APP_SECRET"),
        (
            ("META_PAGE_ACCESS_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"),
            "META_PAGE_ACCESS_TOKEN",
        ),
    ],
)
def test_a_half_configured_meta_is_refused_naming_the_variable(drop, missing) -> None:
    env = {k: v for k, v in FULL.items() if k not in drop}
    with pytest.raises(SettingsError, match=f"^{missing}:"):
        settings(**env)


def test_bad_meta_values_are_refused() -> None:
    with pytest.raises(SettingsError, match=r"^WHATSAPP_PHONE_NUMBER_ID:"):
        settings(**{**FULL, "WHATSAPP_PHONE_NUMBER_ID": "+1 555 0100"})
    with pytest.raises(SettingsError, match=r"^META_GRAPH_BASE_URL:"):
        settings(**FULL, META_GRAPH_BASE_URL="graph.facebook.com")
    with pytest.raises(SettingsError, match=r"^META_VERIFY_TOKEN:"):
        settings(**{**FULL, "META_VERIFY_TOKEN": "  "})


async def test_whatsapp_cloud_wins_the_whatsapp_channel_over_twilio() -> None:
    from adapters import open_senders

    both = settings(
        **FULL,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="t",
        TWILIO_FROM_NUMBER="+15557654321",
    )
    senders = await open_senders(both)
    try:
        from adapters.meta.sender import MetaSender
        from adapters.pacing import PacedSender
        from adapters.twilio.sender import TwilioSender

        whatsapp = senders["whatsapp"]
        assert isinstance(whatsapp, PacedSender)
        assert isinstance(whatsapp.inner, MetaSender)
        assert isinstance(senders["sms"], TwilioSender)
    finally:
        for sender in senders.values():
            await sender.close()


# -- signature ---------------------------------------------------------------------------------


def test_the_signature_covers_the_raw_bytes_with_the_app_secret() -> None:
    body = meta_body(load_payload("meta/messenger_text"))
    header = meta_signature(SECRET, body)
    assert signature_valid(SECRET.encode(), body, header)
    assert signature_valid(SECRET.encode(), body, header.upper().replace("SHA256=", "sha256="))
    assert not signature_valid(SECRET.encode(), body + b" ", header)
    assert not signature_valid(b"other-secret", body, header)
    assert not signature_valid(SECRET.encode(), body, header.removeprefix("sha256="))
    assert not signature_valid(SECRET.encode(), body, "sha1=" + header[7:])
    assert not signature_valid(SECRET.encode(), body, None)
    assert not signature_valid(SECRET.encode(), body, "")


# -- inbound -----------------------------------------------------------------------------------


def parse(name: str):
    return parse_webhook(load_payload(f"meta/{name}"), graph_base_url=GRAPH, now=NOW)


def test_a_messenger_text_is_keyed_by_mid_and_addressed_by_psid() -> None:
    (message,) = parse("messenger_text")
    payload = load_payload("meta/messenger_text")
    mid = payload["entry"][0]["messaging"][0]["message"]["mid"]
    assert message.key == f"meta:{mid}"
    assert message.sender == Address("messenger", PSID)
    assert message.text == "Hi, where is my order #1042?"
    assert message.postback is None and message.evidence == ()
    assert message.received_at == NOW


def test_quick_replies_and_buttons_are_postbacks() -> None:
    (quick,) = parse("messenger_quick_reply")
    assert (quick.text, quick.postback) == ("Yes", "HELPFUL_YES")
    (button,) = parse("messenger_postback")
    assert (button.text, button.postback) == ("Talk to a person", "HANDOFF")
    assert button.key.startswith("meta:m_")


def test_an_instagram_dm_is_on_the_instagram_channel() -> None:
    (message,) = parse("instagram_text")
    assert message.sender == Address("instagram", "1234567890123456")
    assert message.text == "Hi from Instagram"
    assert message.key.startswith("meta:")


@pytest.mark.parametrize(
    "name", ["messenger_echo", "messenger_delivery", "messenger_read", "whatsapp_status"]
)
def test_echoes_receipts_and_statuses_are_not_messages(name: str) -> None:
    assert parse(name) == []


def test_reactions_are_not_messages() -> None:
    payload = load_payload("meta/messenger_text")
    event = payload["entry"][0]["messaging"][0]
    del event["message"]
    event["reaction"] = {"mid": "m_x", "action": "react", "reaction": "love", "emoji": "❤"}
    assert parse_webhook(payload) == []
    wa = load_payload("meta/whatsapp_text")
    wa["entry"][0]["changes"][0]["value"]["messages"][0].update(
        type="reaction", reaction={"message_id": "wamid.x", "emoji": "👍"}
    )
    assert parse_webhook(wa) == []


def test_a_whatsapp_text_carries_the_number_as_verified_evidence_and_the_profile_name() -> None:
    (message,) = parse("whatsapp_text")
    payload = load_payload("meta/whatsapp_text")
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert message.key == f"whatsapp:{wamid}"
    assert message.sender == Address("whatsapp", "+14155550123")
    assert message.evidence == (Evidence("phone", "+14155550123", "whatsapp_cloud"),)
    assert message.sender_name == "Ana Customer"
    assert message.text == "Hi, where is my order #1042?"


def test_whatsapp_button_and_list_replies_are_postbacks_with_the_reply_id() -> None:
    (button,) = parse("whatsapp_button_reply")
    assert (button.text, button.postback) == ("Yes", "helpful:yes")
    (row,) = parse("whatsapp_list_reply")
    assert (row.text, row.postback) == ("Billing", "topic:billing")


def _wa_with(**message) -> dict:
    payload = load_payload("meta/whatsapp_text")
    original = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del original["text"]
    original.update(message)
    return payload


def test_whatsapp_location_media_and_contacts() -> None:
    place = {"latitude": 37.78, "longitude": -122.41, "name": "Shop", "address": "1 Main St"}
    (message,) = parse_webhook(_wa_with(type="location", location=place), now=NOW)
    assert message.location == Location(37.78, -122.41, "Shop")
    image = {"id": "1234", "mime_type": "image/jpeg", "caption": "the box"}
    (message,) = parse_webhook(_wa_with(type="image", image=image), graph_base_url=GRAPH)
    assert message.attachments == (Attachment(f"{GRAPH}/1234", "image/jpeg"),)
    assert message.text == "the box"
    card = {
        "name": {"formatted_name": "Ana Customer"},
        "phones": [{"phone": "+1 415-555-0123", "wa_id": "14155550123", "type": "CELL"}],
    }
    (message,) = parse_webhook(_wa_with(type="contacts", contacts=[card]))
    assert message.contact == Contact("+14155550123", "Ana Customer", "14155550123")


def test_messenger_attachments_and_location() -> None:
    payload = load_payload("meta/messenger_text")
    message = payload["entry"][0]["messaging"][0]["message"]
    del message["text"]
    message["attachments"] = [
        {"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}},
        {"type": "file", "payload": {"url": "https://cdn.example/i.pdf"}},
        {"type": "location", "payload": {"coordinates": {"lat": 1.5, "long": 2.5}}},
    ]
    (inbound,) = parse_webhook(payload)
    assert inbound.attachments == (
        Attachment("https://cdn.example/p.jpg", "image/*"),
        Attachment("https://cdn.example/i.pdf", "application/octet-stream"),
    )
    assert inbound.location == Location(1.5, 2.5)


def test_a_batch_yields_every_message_oldest_first() -> None:
    payload = load_payload("meta/messenger_text")
    later = copy.deepcopy(payload["entry"][0])
    later["messaging"][0]["timestamp"] += 5000
    later["messaging"][0]["message"].update(mid="m_later", text="second")
    earlier = copy.deepcopy(payload["entry"][0])
    earlier["messaging"][0]["message"].update(mid="m_first", text="first")
    echo = load_payload("meta/messenger_echo")["entry"][0]
    payload["entry"] = [later, echo, earlier]
    assert [m.text for m in parse_webhook(payload)] == ["first", "second"]

    wa = load_payload("meta/whatsapp_text")
    value = wa["entry"][0]["changes"][0]["value"]
    second = {**value["messages"][0], "id": "wamid.2", "timestamp": "1700000009"}
    value["messages"].insert(0, second)
    value["statuses"] = load_payload("meta/whatsapp_status")["entry"][0]["changes"][0]["value"][
        "statuses"
    ]
    assert [m.key for m in parse_webhook(wa)][1] == "whatsapp:wamid.2"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "text",
        {"object": "page"},
        {"object": "user", "entry": []},
        {"object": ["page"], "entry": []},
        {"object": "page", "entry": {"id": "1"}},
        {"object": "page", "entry": [{"messaging": "x"}]},
        {"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "message": {}}]}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [1]}]},
    ],
)
def test_wrong_shapes_are_refused(payload) -> None:
    with pytest.raises(ValueError):
        parse_webhook(payload)


# -- outbound ----------------------------------------------------------------------------------

TO = Address("messenger", PSID)
WA = Address("whatsapp", "+14155550123")


def options(n: int, title: str = "Option") -> tuple[QuickReply, ...]:
    return tuple(QuickReply(f"{title} {i}", f"opt:{i}") for i in range(1, n + 1))


def test_messenger_text_is_plain_with_links_and_agents_named() -> None:
    reply = Outbound(
        TO, "**Track it** at [our site](https://x.example/t)", author="agent", author_name="Sam"
    )
    assert messenger_messages(reply) == [
        {"text": "Sam: Track it at our site (https://x.example/t)"}
    ]
    assert render_text(Outbound(TO, "**bold**"), "messenger") == "bold"


def test_messenger_quick_replies_fit_the_limits_and_ride_on_the_last_part() -> None:
    long_title = "A very long option title that does not fit"
    reply = Outbound(TO, "word " * 900, (*options(12), QuickReply(long_title, "long")))
    parts = messenger_messages(reply)
    assert len(parts) == 3
    assert all(len(p["text"]) <= 2000 for p in parts)
    assert "quick_replies" not in parts[0] and "quick_replies" not in parts[1]
    quick = parts[-1]["quick_replies"]
    assert len(quick) == 13
    assert all(q["content_type"] == "text" and len(q["title"]) <= 20 for q in quick)
    assert quick[-1] == {"content_type": "text", "title": "A very long option…", "payload": "long"}


def test_more_than_13_options_become_numbered_lines_on_messenger() -> None:
    (part,) = messenger_messages(Outbound(TO, "Pick one:", options(14)))
    assert "quick_replies" not in part
    assert part["text"].startswith("Pick one:\n1. Option 1\n")
    assert part["text"].endswith("14. Option 14\nReply with a number.")


def test_messenger_attachments_follow_the_text() -> None:
    reply = Outbound(
        TO,
        "Your invoice",
        (QuickReply("Thanks", "ok"),),
        (Attachment("https://x/i.pdf", "application/pdf"),),
    )
    text, attachment = messenger_messages(reply, "instagram")
    assert text == {"text": "Your invoice"}
    assert attachment["attachment"] == {
        "type": "file",
        "payload": {"url": "https://x/i.pdf", "is_reusable": False},
    }
    assert attachment["quick_replies"][0]["payload"] == "ok"


def test_whatsapp_text_goes_to_the_digits_with_link_previews() -> None:
    (body,) = whatsapp_bodies(Outbound(WA, "See https://x.example"))
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "14155550123",
        "type": "text",
        "text": {"body": "See https://x.example", "preview_url": True},
    }
    parts = whatsapp_bodies(Outbound(WA, "word " * 2000))
    assert len(parts) == 3 and all(len(p["text"]["body"]) <= 4096 for p in parts)


def test_up_to_three_options_are_whatsapp_reply_buttons() -> None:
    reply = Outbound(
        WA,
        "Was this helpful?",
        (QuickReply("Yes, thank you very much", "helpful:yes"), QuickReply("No", "helpful:no")),
    )
    (body,) = whatsapp_bodies(reply)
    assert body["type"] == "interactive"
    interactive = body["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "Was this helpful?"}
    buttons = interactive["action"]["buttons"]
    assert buttons[0] == {
        "type": "reply",
        "reply": {"id": "helpful:yes", "title": "Yes, thank you very…"},
    }
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)


def test_four_to_ten_options_are_a_whatsapp_list() -> None:
    (body,) = whatsapp_bodies(Outbound(WA, "Which topic?", options(10, "A rather long topic name")))
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    assert len(interactive["action"]["button"]) <= 20
    (section,) = interactive["action"]["sections"]
    assert len(section["rows"]) == 10
    assert all(len(r["title"]) <= 24 for r in section["rows"])
    assert section["rows"][0]["id"] == "opt:1"


def test_more_than_ten_options_are_numbered_whatsapp_text() -> None:
    (body,) = whatsapp_bodies(Outbound(WA, "Which topic?", options(11)))
    assert body["type"] == "text"
    assert "11. Option 11" in body["text"]["body"]


def test_a_long_whatsapp_text_with_buttons_keeps_the_buttons_last() -> None:
    bodies = whatsapp_bodies(Outbound(WA, "word " * 400, options(2)))
    assert [b["type"] for b in bodies] == ["text", "interactive"]
    assert bodies[-1]["interactive"]["body"]["text"] == CHOOSE
    media = whatsapp_bodies(
        Outbound(WA, "", attachments=(Attachment("https://x/p.png", "image/png"),))
    )
    assert media == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "14155550123",
            "type": "image",
            "image": {"link": "https://x/p.png"},
        }
    ]


# -- Graph errors ------------------------------------------------------------------------------


def graph(code: int, message: str = "boom", **extra) -> dict:
    return {"error": {"message": message, "type": "OAuthException", "code": code, **extra}}


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, 4), (400, 4), (400, 17), (400, 32), (400, 613), (400, 130429), (400, 131056)],
)
def test_throttling_is_retried_after_the_asked_delay(status: int, code: int) -> None:
    error = delivery_error(status, graph(code), "7")
    assert not error.permanent and error.retry_after == 7.0


def test_outages_are_retried_and_bad_requests_are_final() -> None:
    assert not delivery_error(500, graph(2)).permanent
    assert not delivery_error(503, "<html>down</html>").permanent
    assert not delivery_error(400, graph(100, is_transient=True)).permanent
    for code in (100, 190, 10, 200, 131047):
        error = delivery_error(400, graph(code, f"problem {code}"))
        assert error.permanent and error.retry_after is None
        assert f"code {code}" in str(error) and f"problem {code}" in str(error)
    assert delivery_error(401, None).permanent


# -- sender against the fake Graph API ---------------------------------------------------------


async def test_the_sender_reports_ids_throttling_and_bad_tokens_without_the_token() -> None:
    from adapters.base import DeliveryError
    from adapters.meta.sender import MetaSender
    from gateway.settings import MetaSettings, Secret
    from tests.fakes.providers import FakeProviders

    async with FakeProviders() as fake:

        def meta(token: str) -> MetaSettings:
            return MetaSettings(
                Secret(SECRET),
                Secret("verify"),
                page_access_token=Secret(token),
                whatsapp_access_token=Secret(token),
                whatsapp_phone_number_id="106540352242922",
                graph_base_url=fake.meta_base_url,
            )

        messenger = MetaSender(meta(fake.meta_token), "messenger")
        whatsapp = MetaSender(meta(fake.meta_token), "whatsapp")
        wrong = MetaSender(meta("EAAG-wrong-token"), "messenger")
        try:
            (mid,) = await messenger.send(Outbound(TO, "hello", options(2)))
            assert mid.startswith("m_")
            (wamid,) = await whatsapp.send(Outbound(WA, "hello", options(2)))
            assert wamid.startswith("wamid.")
            (call,) = fake.calls("meta", "POST", "/106540352242922/messages")
            assert call.json["interactive"]["type"] == "button"
            fake.fail_next("meta", status=429, retry_after=7)
            with pytest.raises(DeliveryError) as throttled:
                await messenger.send(Outbound(TO, "hello"))
            assert (throttled.value.permanent, throttled.value.retry_after) == (False, 7.0)
            with pytest.raises(DeliveryError) as refused:
                await wrong.send(Outbound(TO, "hello"))
            assert refused.value.permanent
            assert "code 190" in str(refused.value)
            assert "EAAG-wrong-token" not in str(refused.value)
        finally:
            for sender in (messenger, whatsapp, wrong):
                await sender.close()
        closed = meta(fake.meta_token)
    # The fake has stopped: nothing listens on its port any more.
    unreachable = MetaSender(closed, "instagram")
    try:
        with pytest.raises(DeliveryError, match="unreachable") as down:
            await unreachable.send(Outbound(TO, "hello"))
    finally:
        await unreachable.close()
    assert not down.value.permanent
