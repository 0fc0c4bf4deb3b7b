"""Chatty training variants: deterministic, label-preserving, and only for small training sets."""

from __future__ import annotations

from knowledge.augment import variants
from knowledge.content import KnowledgeBase
from knowledge.engine import Engine
from tests.knowledge.conftest import HashingEncoder


def test_variants_are_deterministic_and_keep_the_question() -> None:
    text = "How long does shipping take?"
    first = variants(text, 3)
    assert first == variants(text, 3)
    assert 1 <= len(first) <= 3 and text not in first
    assert all("shipping" in v or "shiping" in v or "shippng" in v for v in first)
    assert variants("ok", 2) and all(v != "ok" for v in variants("ok", 2))


def test_augmented_engine_keeps_classes_and_similarity_rows(demo_kb: KnowledgeBase) -> None:
    plain = Engine.build(demo_kb, HashingEncoder(), augment=0)
    chatty = Engine.build(demo_kb, HashingEncoder(), augment=1)
    assert plain.classes == chatty.classes
    assert chatty.rank("how long does shipping take", k=1)[0].label == "shipping-times"
    assert chatty.analyze("hi, how long does shipping take? thanks").candidates[0].label == (
        "shipping-times"
    )
