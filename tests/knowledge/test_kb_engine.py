"""Engine ranking with a stand-in encoder; embedder checksum checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.content import KnowledgeBase
from knowledge.embedder import Embedder, ModelChecksumError
from knowledge.engine import Engine, Vocabulary
from tests.knowledge.conftest import HashingEncoder


@pytest.fixture(scope="module")
def engine(demo_kb: KnowledgeBase) -> Engine:
    return Engine.build(demo_kb, HashingEncoder())


def test_rank_returns_k_sorted_probabilities(engine: Engine) -> None:
    ranked = engine.rank("how long does shipping take", k=5)
    scores = [c.score for c in ranked]
    assert (len(ranked), scores == sorted(scores, reverse=True)) == (5, True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert ranked[0].label == "shipping-times"


def test_labels_cover_articles_and_intents(engine: Engine, demo_kb: KnowledgeBase) -> None:
    expected = {a.id for a in demo_kb.articles} | {f"intent:{i.name}" for i in demo_kb.intents}
    assert set(engine.classes) == expected
    ranking = engine.analyze("where is my order FH-482913")
    assert abs(sum(c.score for c in ranking.candidates) - 1.0) < 1e-6
    top = ranking.candidates[0]
    assert (top.kind, top.intent, top.article_id) == ("intent", "order_status", None)


def test_vocabulary_coverage_tolerates_one_typo() -> None:
    vocab = Vocabulary(["reset your password", "returns policy"])
    assert vocab.coverage("reset pasword") == 1.0
    assert vocab.coverage("REI return policy") == pytest.approx(2 / 3)
    assert vocab.coverage("hi") == 1.0


def test_engine_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="at least two"):
        Engine(HashingEncoder(), ["a"], ["x"], Vocabulary(["a"]))


def test_checksum_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n", encoding="utf-8")
    with pytest.raises(ModelChecksumError, match="does not match the pinned"):
        Embedder(vocab_path=vocab)
