"""Integration with the real MiniLM embedder on the demo KB, and query-file loading."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from knowledge.answerer import Answerer
from knowledge.content import ContentErrors
from knowledge.evaluate import QueryLine, evaluate, load_queries
from tests.knowledge.conftest import DEMO


def test_shipping_question_is_answered(demo_answerer: Answerer) -> None:
    d = demo_answerer.query("how long does shipping take")
    assert (d.decision, d.article_id) == ("answer", "shipping-times")
    assert d.text == demo_answerer.kb.article("shipping-times").body  # type: ignore[union-attr]


def test_answer_text_follows_channel(demo_answerer: Answerer) -> None:
    d = demo_answerer.query("how long does shipping take", channel="sms")
    assert d.text == demo_answerer.kb.article("shipping-times").sms  # type: ignore[union-attr]


def test_off_topic_is_not_answered(demo_answerer: Answerer) -> None:
    d = demo_answerer.query("can you help me with my algebra homework")
    assert (d.decision, d.article_id, d.intent) == ("fallback", None, None)
    assert d.quick_replies == (("Talk to a person", "handoff:request"),)


def test_second_miss_hands_off(demo_answerer: Answerer) -> None:
    assert demo_answerer.query("asdfghjkl", misses=1).decision == "handoff"


def test_intent_has_no_text(demo_answerer: Answerer) -> None:
    d = demo_answerer.query("where is my order FH-558201")
    assert (d.decision, d.intent, d.text) == ("intent", "order_status", "")


def test_postback_answers_article(demo_answerer: Answerer) -> None:
    d = demo_answerer.for_postback("article:price-match", "webchat")
    assert d is not None
    assert (d.decision, d.article_id) == ("answer", "price-match")
    assert demo_answerer.for_postback("article:nope", "webchat") is None
    assert demo_answerer.for_postback("clarify:none", "webchat") is None


def test_concurrent_queries_match_serial(demo_answerer: Answerer) -> None:
    texts = ["how long does shipping take", "do you price match", "hi", "asdf qwerty"] * 4
    serial = [demo_answerer.query(t).to_dict() for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = [d.to_dict() for d in pool.map(demo_answerer.query, texts)]
    assert threaded == serial


def test_dev_set_figures(demo_answerer: Answerer) -> None:
    report = evaluate(demo_answerer, load_queries(DEMO / "queries-dev.jsonl"))
    # Floors a few points under the measured figures (article 89.6%, intent 96.9%,
    # none answered 0.0%, wrong answers 4.5%), so that a regression fails but noise doesn't.
    assert len(report.outcomes) == 207
    assert report.article_accuracy >= 0.85
    assert report.intent_accuracy >= 0.90
    assert report.none_answered <= 0.07
    assert report.wrong_answer_rate <= 0.06
    assert len(report.lines()) == 8


def test_load_queries_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"text": "hi", "expect": "intent:greeting"}\n'
        "not json\n"
        '{"text": "", "expect": "none"}\n'
        '{"text": "x", "expect": "none", "extra": 1}\n',
        encoding="utf-8",
    )
    with pytest.raises(ContentErrors) as info:
        load_queries(path)
    assert [(e.line, e.reason.split(":")[0]) for e in info.value] == [
        (2, "not valid JSON"),
        (3, "'text' must be a non-empty string"),
        (4, "unknown key(s)"),
    ]


def test_load_queries_ok(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"text": "hi", "expect": "intent:greeting"}\n\n', encoding="utf-8")
    assert load_queries(path) == [QueryLine("hi", "intent:greeting", 1)]
