"""The handoff's pure parts: configuration, business hours, redaction, cards, Slack markup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.settings import SettingsError, load_settings
from gateway.stores.protocol import Customer, Handoff, Identity
from handoff.card import (
    HEADER_LIMIT,
    MESSAGE_LIMIT,
    SECTION_LIMIT,
    CardView,
    card_blocks,
    transcript_messages,
)
from handoff.config import Facts, HandoffConfigError, load_config, parse_config
from handoff.redact import CARD_MASK, luhn_valid, redact
from handoff.slack_text import is_note, slack_to_markdown
from handoff.texts import offline, rating_of

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
SLACK = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "s",
    "SLACK_HANDOFF_CHANNEL": "C0123456",
}


def hours(**overrides: object) -> dict:
    return {
        "timezone": "Europe/London",
        "days": "mon-fri",
        "open": "09:00",
        "close": "17:30",
        **overrides,
    }


def test_business_hours_in_the_queues_time_zone() -> None:
    config = parse_config({"queues": {"default": {"hours": hours(timezone="America/New_York")}}})
    queue_hours = config.queues["default"].hours
    assert queue_hours is not None
    assert not queue_hours.is_open(MONDAY_NOON)  # 07:00 in New York
    opens = queue_hours.next_open(MONDAY_NOON)
    assert (opens.hour, opens.date().isoformat()) == (9, "2026-11-23")
    friday_evening = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # 18:00 in New York
    assert queue_hours.next_open(friday_evening).strftime("%A %H:%M") == "Monday 09:00"
    assert "Monday at 09:00 (EST)" in offline(queue_hours.next_open(friday_evening), friday_evening)
    assert "today at 09:00" in offline(opens, MONDAY_NOON)


def test_days_ranges_wrap_and_lists_work() -> None:
    config = parse_config(
        {
            "queues": {
                "weekend": {"hours": hours(days="fri-mon")},
                "some": {"hours": hours(days=["tue", "thu"])},
            }
        }
    )
    assert config.queues["weekend"].hours.days == frozenset({4, 5, 6, 0})
    assert config.queues["some"].hours.days == frozenset({1, 3})


def test_routes_first_match_wins_and_default_is_implicit() -> None:
    config = parse_config(
        {
            "queues": {"vip": {"channel": "C0VIP"}, "es": {"channel": "C0ES"}},
            "routes": [
                {"when": {"attribute": {"vip": True}}, "queue": "vip", "priority": "high"},
                {"when": {"language": "es", "channel": ["sms", "whatsapp"]}, "queue": "es"},
            ],
            "triggers": [
                {
                    "when": {"intent": "complaint", "attribute": {"vip": True}},
                    "reason": "vip_complaint",
                }
            ],
        }
    )
    vip = Facts("sms", "complaint", "es", {"vip": True})
    assert config.route(vip)[0].name == "vip" and config.route(vip)[1] == "high"
    spanish = Facts("whatsapp", None, "es-MX", {})
    assert config.route(spanish)[0].name == "es"
    assert config.route(Facts("webchat", None, "es", {}))[0].name == "default"
    assert config.trigger(vip) == "vip_complaint"
    assert config.trigger(spanish) is None


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"queues": {"x": {"hours": hours(timezone="Mars/Olympus")}}}, "queues.x.hours.timezone"),
        ({"queues": {"x": {"hours": hours(open="18:00")}}}, "close must be later"),
        ({"queues": {"x": {"hours": hours(days="mon-fry")}}}, "queues.x.hours.days"),
        ({"queues": {"x": {"channel": "#support"}}}, "queues.x.channel"),
        ({"routes": [{"when": {}, "queue": "nope"}]}, "routes[0].queue"),
        ({"routes": [{"when": {"colour": "red"}, "queue": "default"}]}, "routes[0].when"),
        ({"triggers": [{"when": {}}]}, "triggers[0]"),
        ({"redact": ["(unclosed"]}, "redact[0]"),
        ({"queuez": {}}, "unknown key 'queuez'"),
    ],
)
def test_a_mistake_names_its_place(data: dict, where: str) -> None:
    with pytest.raises(HandoffConfigError, match=rf".*{where.replace('[', '.').replace(']', '.')}"):
        parse_config(data)


def test_a_bad_config_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "handoff.yml"
    path.write_text("routes:\n  - when: {}\n    queue: ghost\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({**SLACK, "ONETHREAD_HANDOFF_CONFIG": str(path)}, Path("/none.toml"))
    message = str(caught.value)
    assert message.startswith("ONETHREAD_HANDOFF_CONFIG:") and "ghost" in message
    assert "\n" not in message
    path.write_text("queues: [unclosed")
    with pytest.raises(HandoffConfigError):
        load_config(path)
    with pytest.raises(SettingsError, match="no such file"):
        load_settings({"ONETHREAD_HANDOFF_CONFIG": str(tmp_path / "nope.yml")}, Path("/n.toml"))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**SLACK, "SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({**SLACK, "SLACK_HANDOFF_CHANNEL": "#support"}, "SLACK_HANDOFF_CHANNEL"),
        ({**SLACK, "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({**SLACK, "SLACK_API_BASE_URL": "slack.local"}, "SLACK_API_BASE_URL"),
    ],
)
def test_slack_settings_refuse_half_or_wrong_configuration(env: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=f"^{named}:"):
        load_settings(env, Path("/none.toml"))


def test_slack_settings_keep_the_trailing_slash_slack_sdk_needs() -> None:
    settings = load_settings(
        {**SLACK, "SLACK_API_BASE_URL": "http://127.0.0.1:9/slack/api"}, Path("/none.toml")
    )
    assert settings.slack is not None
    assert settings.slack.api_base_url == "http://127.0.0.1:9/slack/api/"


def test_card_numbers_are_found_by_luhn_and_other_numbers_are_kept() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    text = "card 4111-1111-1111-1111, order 4111111111111112, phone +15550001234"
    assert redact(text) == f"card {CARD_MASK}, order 4111111111111112, phone +15550001234"
    assert redact("amex 3782 822463 10005") == f"amex {CARD_MASK}"


def view(name: str = "Ann", status: str = "queued", **changes: object) -> CardView:
    handoff = Handoff(
        id="hof_1",
        conversation_id="con_1",
        customer_id="cus_1",
        reason="human_agent",
        queue="default",
        status=status,
        opened_at=MONDAY_NOON,
        **changes,
    )
    customer = Customer(
        "cus_1",
        name,
        MONDAY_NOON,
        (Identity("sms", "+15550001", "twilio"), Identity("webchat", "v1", None)),
    )
    return CardView(
        handoff,
        customer,
        ("webchat", "sms"),
        ("<@U123> hi & bye",),
        ("default", "vip"),
        MONDAY_NOON,
    )


def test_the_card_stays_within_slacks_limits_and_escapes_customer_text() -> None:
    blocks = card_blocks(view(name="A" * 500))
    assert len(blocks) <= 50
    header = blocks[0]["text"]["text"]
    assert len(header) <= HEADER_LIMIT and header.endswith("…")
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= SECTION_LIMIT
    dumped = json.dumps(blocks)
    assert "&lt;@U123&gt; hi &amp; bye" in dumped
    assert "+15550001 (verified)" in dumped and "v1 (unverified)" in dumped
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["onethread.claim", "onethread.resolve", "onethread.transfer"]


def test_a_claimed_card_has_no_claim_button_and_a_resolved_one_no_buttons() -> None:
    claimed = card_blocks(view(status="claimed", agent_name="jane", claimed_at=MONDAY_NOON))
    actions = [e["action_id"] for b in claimed if b["type"] == "actions" for e in b["elements"]]
    assert "onethread.claim" not in actions and "Claimed" in json.dumps(claimed)
    resolved = card_blocks(view(status="resolved", rating=4))
    assert not [b for b in resolved if b["type"] == "actions"]
    assert "rated 4/5" in json.dumps(resolved)


def test_transcripts_become_a_few_messages_or_a_file() -> None:
    short = transcript_messages(["line one", "line <two>"])
    assert short == ["*Transcript*\nline one\nline &lt;two&gt;"]
    long = transcript_messages(["x" * 1000] * 9)
    assert long is not None and all(len(m) <= MESSAGE_LIMIT + 20 for m in long)
    assert transcript_messages(["x" * 1000] * 20) is None


def test_slack_markup_becomes_markdown() -> None:
    text = "Hi <@U1|jane>, *see* <https://x.example/a?b=1&amp;c=2|this> ~no~ &lt;3"
    assert (
        slack_to_markdown(text) == "Hi jane, **see** [this](https://x.example/a?b=1&c=2) ~~no~~ <3"
    )
    assert is_note("  Note: internal") and is_note("// also") and not is_note("a note: no")


def test_ratings_from_buttons_and_typed_digits() -> None:
    assert rating_of("", "csat:4") == 4
    assert rating_of(" 5! ", None) == 5
    assert rating_of("5/5", None) == 5
    assert rating_of("6", None) is None and rating_of("great", None) is None
