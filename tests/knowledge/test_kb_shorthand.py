"""Texting shorthand is spelled out before ranking; plain words and names are left alone."""

from __future__ import annotations

from knowledge.content import KnowledgeBase
from knowledge.engine import Engine, Vocabulary, _kb_texts
from knowledge.shorthand import Shorthand
from tests.knowledge.conftest import HashingEncoder

KB_TEXTS = [
    "How do I check my gift card balance?", "Gift cards never expire.",
    "Lost a gift card? We can replace an e-gift card.", "Trail Points: 500 points = $10",
    "Redeem Trail Points at checkout", "Your Trail Points balance is in your account",
    "Ship to British Columbia (BC) and the rest of Canada",
]


def shorthand() -> Shorthand:
    vocabulary = Vocabulary(KB_TEXTS)
    return Shorthand(KB_TEXTS, vocabulary.knows)


def test_common_shorthand_and_the_kb_s_initials_are_spelled_out() -> None:
    assert shorthand().expand("hw do i chk gc bal") == "how do i check gift card balance"
    assert shorthand().expand("my tp pls") == "my trail points please"


def test_plain_words_names_and_known_abbreviations_stay() -> None:
    s = shorthand()
    for text in ("How do I check my balance?", "is REI cheaper", "can I use GC here",
                 "do you ship to BC", "order FH-482913 please"):
        assert s.expand(text) == text


def test_initials_of_rare_or_stop_word_phrases_are_not_used() -> None:
    s = shorthand()
    assert s.expand("rc") == "rc"  # "replace an": a stop word, and used once
    assert s.expand("tc") == "tc"


def test_the_engine_ranks_the_spelled_out_message(demo_kb: KnowledgeBase) -> None:
    engine = Engine.build(demo_kb, HashingEncoder())
    spelled = Vocabulary(_kb_texts(demo_kb)).shorthand.expand("hw do i chk gc bal")
    assert spelled != "hw do i chk gc bal"
    assert engine.analyze("hw do i chk gc bal").candidates == engine.analyze(spelled).candidates
