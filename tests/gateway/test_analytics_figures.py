"""Every operator figure over the scripted conversations, against values worked out by hand."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pytest

from gateway.analytics import figures
from gateway.analytics.journeys import journeys
from gateway.analytics.summary import Period, period_journeys, summarize
from gateway.stores.protocol import AnalyticsEvent, Store
from tests.analytics_script import SINCE, UNTIL, WINDOW, record_script


class WordsEncoder:
    """Bag-of-words vectors: texts sharing most words are similar (a stand-in for MiniLM)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        vocab = sorted({w for t in texts for w in re.findall(r"\w+", t.lower())})
        rows = np.zeros((len(texts), len(vocab)), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                rows[i, vocab.index(word)] = 1.0
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


async def _summary(store: Store, **period: object) -> dict:
    await record_script(store)
    chosen = Period(**{"since": SINCE, "until": UNTIL, "window": WINDOW, **period})
    return summarize(await period_journeys(store, chosen), chosen, WordsEncoder())


async def test_headline_figures(store: Store) -> None:
    s = await _summary(store)
    # In the period: A1 B1 Y1 Y2 D1 D2 E1. Deflected: A1, Y2, D1 (Y1 was re-contacted).
    assert s["conversations"] == 7
    assert s["deflected"] == 3
    assert s["deflection_rate"] == round(3 / 7, 4)
    assert s["handoff_rate"] == round(3 / 7, 4)
    assert s["handoffs"] == 3
    assert s["handoffs_by_reason"] == {"human_agent": 1, "repeated_misses": 1, "complaint": 1}
    assert s["containment_rate"] == round(4 / 7, 4)
    assert s["recontact_rate"] == round(1 / 7, 4)


async def test_conversations_still_inside_their_window_are_provisional(store: Store) -> None:
    # Read at the period's end, D2 (ended 11-04 20:20) is the only one less than 24 h old.
    assert (await _summary(store, now=UNTIL))["provisional"] == 1
    assert (await _summary(store, now=UNTIL + WINDOW))["provisional"] == 0


async def test_agent_times_and_satisfaction(store: Store) -> None:
    s = await _summary(store)
    assert s["time_to_claim"] == {"count": 3, "mean": 840.0, "p50": 600, "p90": 1800, "max": 1800}
    assert s["time_to_claim_distribution"] == [
        {"le": 60, "count": 0},
        {"le": 300, "count": 1},
        {"le": 900, "count": 1},
        {"le": 3600, "count": 1},
        {"le": 14400, "count": 0},
        {"le": None, "count": 0},
    ]
    # The second reply of each handoff does not move its first response time.
    assert s["first_response_time"] == {
        "count": 3,
        "mean": 1060.0,
        "p50": 1080,
        "p90": 1860,
        "max": 1860,
    }
    assert s["resolution_time"] == {
        "count": 2,
        "mean": 2700.0,
        "p50": 1800,
        "p90": 3600,
        "max": 3600,
    }
    assert s["ratings"] == 2
    assert s["csat"] == 0.5
    assert s["csat_average"] == 3.5


async def test_cross_channel_figures(store: Store) -> None:
    s = await _summary(store)
    # Customer messages: 6 on SMS, 4 on web chat, 1 each on WhatsApp and Telegram.
    assert s["channel_mix"] == {
        "sms": 0.5,
        "webchat": round(4 / 12, 4),
        "whatsapp": round(1 / 12, 4),
        "telegram": round(1 / 12, 4),
    }
    assert s["channel_switching_rate"] == round(1 / 7, 4)  # E1: web chat, then SMS
    # Resolved and not re-contacted: A1, B1, Y2, D1, E1 (Y1 came back, D2 is unresolved).
    assert s["first_contact_resolution"] == round(5 / 7, 4)
    # First touch to resolution: A1 61 s, B1 2162 s, Y1 1 s, Y2 61 s, D1 1 s, E1 3780 s.
    assert s["journey_time"] == {"count": 6, "mean": 1011.0, "p50": 61, "p90": 3780, "max": 3780}


async def test_answers_per_article_with_what_followed(store: Store) -> None:
    s = await _summary(store)
    assert s["answers_by_article"] == [
        {
            "article_id": "free-shipping",
            "answered": 1,
            "re_asked": 0,
            "handed_off": 0,
            "thanked": 0,
        },
        {
            "article_id": "gift-card-balance",
            "answered": 1,
            "re_asked": 1,
            "handed_off": 1,
            "thanked": 0,
        },
        {
            "article_id": "how-to-return",
            "answered": 1,
            "re_asked": 0,
            "handed_off": 0,
            "thanked": 1,
        },
        {
            "article_id": "payment-methods",
            "answered": 1,
            "re_asked": 0,
            "handed_off": 1,
            "thanked": 0,
        },
        {
            "article_id": "shipping-times",
            "answered": 1,
            "re_asked": 0,
            "handed_off": 0,
            "thanked": 0,
        },
    ]


async def test_unanswered_questions_grouped_by_similarity(store: Store) -> None:
    s = await _summary(store)
    groups = [(g["count"], sorted(g["examples"])) for g in s["unanswered"]]
    assert groups[0] == (2, ["do you deliver to mars", "do you ship to mars"])
    assert sorted(groups[1:]) == [(1, ["my card shows zero"]), (1, ["where is my parcel"])]


async def test_every_figure_by_channel_intent_queue_and_day(store: Store) -> None:
    s = await _summary(store)
    by_channel = {k: (v["conversations"], v["deflection_rate"]) for k, v in s["by_channel"].items()}
    assert by_channel == {
        "sms": (2, 0.5),  # B1 handed off, Y2 deflected
        "telegram": (1, 0.0),
        "webchat": (3, round(1 / 3, 4)),  # A1 deflected, Y1 re-contacted, E1 handed off
        "whatsapp": (1, 1.0),
    }
    assert s["by_channel"]["webchat"]["handoff_rate"] == round(1 / 3, 4)
    assert s["by_channel"]["sms"]["csat"] == 1.0
    by_queue = {k: (v["conversations"], v["handoff_rate"]) for k, v in s["by_queue"].items()}
    assert by_queue == {"billing": (1, 1.0), "bot": (4, 0.0), "general": (2, 1.0)}
    assert s["by_queue"]["general"]["time_to_claim"]["mean"] == 1200.0
    assert s["by_queue"]["bot"]["deflection_rate"] == 0.75
    by_intent = {k: v["conversations"] for k, v in s["by_intent"].items()}
    assert by_intent == {"human_agent": 1, "none": 4, "order_status": 1, "thanks": 1}
    assert s["bucket_seconds"] == 86400
    days = [(b["start"][:10], b["conversations"], b["deflection_rate"]) for b in s["by_bucket"]]
    assert days == [("2026-11-02", 5, 0.6), ("2026-11-03", 1, 0.0), ("2026-11-04", 1, 0.0)]


async def test_channel_filter_counts_conversations_begun_there(store: Store) -> None:
    s = await _summary(store, channel="sms")
    assert (s["conversations"], s["deflected"], s["handoff_rate"]) == (2, 1, 0.5)


@pytest.mark.parametrize(
    ("hours", "deflected"),
    [(2, 4), (24, 3), (51, 2)],  # 2 h: Y1's 3 h gap is outside; 51 h: D1's 50 h gap is inside
)
async def test_the_window_decides_what_counts_as_coming_back(
    store: Store, hours: int, deflected: int
) -> None:
    s = await _summary(store, window=timedelta(hours=hours))
    assert s["deflected"] == deflected


async def test_nothing_in_the_period_gives_no_rates(store: Store) -> None:
    s = await _summary(store, since=UNTIL + timedelta(days=30), until=UNTIL + timedelta(days=31))
    assert s["conversations"] == 0
    assert s["deflection_rate"] is None
    assert s["csat"] is None
    assert s["time_to_claim"]["mean"] is None


def test_asking_for_a_person_when_none_is_there_is_not_contained() -> None:
    def event(kind: str, conv: str, seconds: int, **data: object) -> AnalyticsEvent:
        return AnalyticsEvent(kind, SINCE + timedelta(seconds=seconds), conv, "cus_1", "sms", data)

    log = [
        event("message_in", "con_1", 0, new_conversation=True),
        event("message_out", "con_1", 1, decision="handoff"),  # asked; no agent to take it
        event("message_in", "con_2", 90_000, new_conversation=True),
        event("message_out", "con_2", 90_001, decision="answer", article_id="returns"),
    ]
    convs = journeys(log, WINDOW)
    assert figures.handoff_rate(convs) == 0.0
    assert figures.containment_rate(convs) == 0.5
    assert figures.deflection_rate(convs) == 0.5
    assert figures.first_contact_resolution(convs) == 0.5  # con_1 never ended well
