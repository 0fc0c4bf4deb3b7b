"""Editors' insights: unanswered questions grouped by meaning, and per-article effectiveness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.kb_insights import effectiveness, group_questions, unanswered
from gateway.knowledge_loader import shared_embedder
from gateway.stores.protocol import AskedQuestion
from gateway.timespec import parse_since

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def asked(
    conv: str,
    minute: int,
    decision: str,
    article: str | None = None,
    text: str = "q",
    intent: str | None = None,
) -> AskedQuestion:
    return AskedQuestion(
        conv,
        "webchat",
        text,
        decision,
        T0 + timedelta(minutes=minute),
        article_id=article,
        intent=intent,
    )


def test_similar_unanswered_questions_group_together() -> None:
    log = [
        asked("c1", 0, "fallback", text="do you sell kayaks"),
        asked("c2", 1, "fallback", text="do you have kayaks for sale?"),
        asked("c3", 2, "handoff", text="can i buy a kayak from you"),
        asked("c4", 3, "fallback", text="is my dog allowed in the denver store"),
        asked("c5", 4, "answer", "shipping-times", text="how long is shipping"),
    ]
    groups = [g.to_dict() for g in group_questions(unanswered(log), shared_embedder())]
    assert [g["count"] for g in groups] == [3, 1]
    assert groups[0]["decisions"] == {"fallback": 2, "handoff": 1}
    assert "kayak" in groups[0]["representative"]


def test_effectiveness_counts_answers_re_asks_and_handoffs() -> None:
    log = [
        asked("c1", 0, "answer", "returns"),
        asked("c1", 2, "fallback"),  # asked again soon after: the answer did not help
        asked("c1", 3, "handoff"),
        asked("c2", 0, "answer", "returns"),
        asked("c2", 30, "answer", "shipping"),  # a new need, long after: not a re-ask
        asked("c3", 0, "answer", "shipping"),
        asked("c3", 1, "answer", "shipping"),  # the same article again at once: re-asked
        asked("c3", 5, "intent", intent="human_agent"),
    ]
    assert effectiveness(log) == [
        {"article_id": "shipping", "answered": 3, "re_asked": 1, "handed_off": 2},
        {"article_id": "returns", "answered": 2, "re_asked": 1, "handed_off": 1},
    ]


def test_since_accepts_durations_and_iso_times() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("2026-11-01T00:00:00Z") == datetime(2026, 11, 1, tzinfo=UTC)
