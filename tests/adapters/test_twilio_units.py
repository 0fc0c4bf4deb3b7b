"""Twilio adapter pieces: signature, form parsing, reply text and splitting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twilio.request_validator import RequestValidator

from adapters.text import split_text
from adapters.twilio.inbound import NotAMessage, parse_form
from adapters.twilio.outbound import render_text
from adapters.twilio.signature import signature_valid
from gateway.messages import Address, Attachment, Evidence, Outbound, QuickReply

TOKEN = "twilio-auth-token"
URL = "https://gateway.example/webhooks/twilio"
FORM = {
    "MessageSid": "SM" + "a" * 32,
    "AccountSid": "AC" + "b" * 32,
    "From": "+15550000001",
    "To": "+15557654321",
    "Body": " where is my order ",
    "NumMedia": "0",
}
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_sdks_signature_is_accepted_and_anything_else_refused() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, FORM)
    assert signature_valid(TOKEN, URL, FORM, signature)
    assert not signature_valid(TOKEN, URL, {**FORM, "Body": "changed"}, signature)
    assert not signature_valid(TOKEN, URL + "?x=1", FORM, signature)
    assert not signature_valid("other-token", URL, FORM, signature)
    assert not signature_valid(TOKEN, URL, FORM, None)


def test_an_sms_becomes_an_inbound_with_the_carrier_verified_phone() -> None:
    message = parse_form(FORM, NOW)
    assert message.key == "twilio:SM" + "a" * 32
    assert message.sender == Address("sms", "+15550000001")
    assert message.text == "where is my order"
    assert message.evidence == (Evidence("phone", "+15550000001", "twilio"),)


def test_whatsapp_media_and_button_replies() -> None:
    form = {
        **FORM,
        "From": "whatsapp:+15550000002",
        "ProfileName": "Ana",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/media/ME1",
        "MediaContentType0": "image/jpeg",
        "ButtonPayload": "article:free-shipping",
    }
    message = parse_form(form, NOW)
    assert message.sender == Address("whatsapp", "+15550000002")
    assert message.sender_name == "Ana"
    assert message.attachments == (Attachment("https://api.twilio.com/media/ME1", "image/jpeg"),)
    assert message.postback == "article:free-shipping"


def test_status_callbacks_and_junk_are_not_messages() -> None:
    with pytest.raises(NotAMessage):
        parse_form({"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+1555"}, NOW)
    with pytest.raises(ValueError, match="required"):
        parse_form({"Body": "hi"}, NOW)


def test_options_are_numbered_and_agents_named() -> None:
    to = Address("sms", "+15550000001")
    reply = Outbound(to, "Did you mean:", (QuickReply("Returns", "a"), QuickReply("Refunds", "b")))
    assert render_text(reply) == "Did you mean:\n1. Returns\n2. Refunds\nReply with a number."
    agent = Outbound(to, "**On it**, see https://x.example", author="agent", author_name="Sam")
    assert render_text(agent) == "Sam: On it, see https://x.example"


def test_long_replies_split_at_word_boundaries_within_twilio_limit() -> None:
    text = " ".join(["word"] * 1000)
    pieces = split_text(text, 1600)
    assert all(len(p) <= 1600 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("short", 1600) == ["short"]
