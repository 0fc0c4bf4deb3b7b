"""Decision policy on synthetic candidates."""

from __future__ import annotations

from knowledge.engine import Candidate
from knowledge.policy import Decision, Thresholds, decide

T = Thresholds(answer=0.4, clarify_margin=0.1, min_similarity=0.4, handoff_after_misses=2)


def art(label: str, score: float) -> Candidate:
    return Candidate(label, "article", score)


def test_clear_answer() -> None:
    choice = decide([art("shipping-times", 0.9), art("shipping-cost", 0.05)], T)
    assert (choice.kind, choice.top, choice.score) == ("answer", art("shipping-times", 0.9), 0.9)


def test_intent_above_threshold() -> None:
    top = Candidate("intent:order_status", "intent", 0.7)
    choice = decide([top, art("track-order", 0.25)], T)
    assert (choice.kind, choice.top and choice.top.intent) == ("intent", "order_status")


def test_close_pair_clarifies() -> None:
    pair = [art("price-match", 0.42), art("price-adjustment", 0.38), art("returns", 0.1)]
    choice = decide(pair, T)
    assert (choice.kind, choice.options) == ("clarify", tuple(pair[:2]))


def test_nonsense_falls_back() -> None:
    low = [art("privacy", 0.08), Candidate("intent:greeting", "intent", 0.07)]
    assert decide(low, T, misses=0).kind == "fallback"


def test_far_from_every_example_is_rejected_even_if_confident() -> None:
    assert decide([art("return-policy", 0.95)], T, similarity=0.2).kind == "fallback"


def test_out_of_scope_class_blocks_an_answer() -> None:
    # 0.25 of the mass is on articles, but the background class holds the rest: not answered.
    over = T.max_out_of_scope + 0.05
    choice = decide(
        [art("return-policy", 1 - over), art("refund-timing", 0.0)], T, out_of_scope=over
    )
    assert choice.kind == "fallback"


def test_confidence_counts_the_out_of_scope_mass() -> None:
    # 0.3 of all mass with 0.4 on the background class: 0.3 is the chance this is the right
    # article (not 0.3 / 0.6 = 0.5), which is below the answer threshold of 0.4.
    strict = Thresholds(answer=0.4, clarify_margin=0.05, max_out_of_scope=0.5)
    choice = decide([art("return-policy", 0.3), art("refund-timing", 0.1)], strict,
                    out_of_scope=0.4)
    assert (choice.kind, round(choice.score, 6)) == ("fallback", 0.3)
    alone = decide([art("return-policy", 0.5), art("refund-timing", 0.1)], strict,
                   out_of_scope=0.4)
    assert (alone.kind, round(alone.score, 6)) == ("answer", 0.5)


def test_foreign_business_name_is_not_answered() -> None:
    choice = decide([art("warranty-coverage", 0.9)], T, foreign_names=("Patagonia",))
    assert choice.kind == "fallback"


def test_repeated_misses_hand_off() -> None:
    low = [art("privacy", 0.08)]
    assert [decide(low, T, misses=m).kind for m in (0, 1, 2)] == ["fallback", "handoff", "handoff"]


def test_decision_to_dict() -> None:
    d = Decision(
        decision="clarify",
        article_id=None,
        intent=None,
        score=0.42,
        candidates=(art("price-match", 0.42), Candidate("intent:thanks", "intent", 0.1)),
        text="Did you mean one of these?",
        quick_replies=(
            ("Do you price match?", "article:price-match"),
            ("Something else", "clarify:none"),
        ),
    )
    assert d.to_dict() == {
        "decision": "clarify",
        "article_id": None,
        "intent": None,
        "score": 0.42,
        "candidates": [
            {"article_id": "price-match", "intent": None, "score": 0.42},
            {"article_id": None, "intent": "thanks", "score": 0.1},
        ],
        "text": "Did you mean one of these?",
        "quick_replies": [
            {"title": "Do you price match?", "payload": "article:price-match"},
            {"title": "Something else", "payload": "clarify:none"},
        ],
    }
