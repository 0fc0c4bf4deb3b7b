"""Engine ranking with a stand-in encoder; embedder checksum checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.content import KnowledgeBase
from knowledge.embedder import Embedder, ModelChecksumError
from knowledge.engine import OUT_OF_SCOPE, Engine, Vocabulary
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
    assert set(engine.classes) == expected | {OUT_OF_SCOPE}
    ranking = engine.analyze("where is my order FH-482913")
    total = sum(c.score for c in ranking.candidates) + ranking.out_of_scope
    assert abs(total - 1.0) < 1e-6
    top = ranking.candidates[0]
    assert (top.kind, top.intent, top.article_id) == ("intent", "order_status", None)


def test_vocabulary_coverage_tolerates_one_typo() -> None:
    vocab = Vocabulary(["reset your password", "returns policy"])
    assert vocab.coverage("reset pasword") == 1.0
    assert vocab.coverage("REI return policy") == pytest.approx(2 / 3)
    assert vocab.coverage("hi") == 1.0


def test_foreign_names_ignore_known_words_and_places() -> None:
    vocab = Vocabulary(["our Denver store", "shipping"])
    assert vocab.foreign_names("What's Patagonia's warranty like?") == ("Patagonia",)
    assert vocab.foreign_names("is the Denver store open") == ()
    assert vocab.foreign_names("Hi, can you ship to Ohio? Thanks") == ()
    # The calendar names no business: a date in a question must not turn it away.
    assert vocab.foreign_names("I ordered in October, can I still return it Monday?") == ()
    # Where the customer lives, and the streets and towns of an address, name no business.
    assert vocab.foreign_names("Hello, I'm from Montreal. Do I pay duties?") == ()
    assert vocab.foreign_names("send FH-700128 to 418 Elm St, Madison WI 53703") == ()
    assert vocab.foreign_names("ship it to 12 Rue Saint Paul, Montreal QC H2Y 1Z5") == ()
    assert vocab.foreign_names("I bought it from Costco, can I return it") == ("Costco",)
    assert vocab.foreign_names("I have 2 Kestrel tents") == ("Kestrel",)


def test_training_data_teaches_the_sms_answer(demo_kb: KnowledgeBase) -> None:
    from knowledge.engine import training_data

    texts, labels = training_data(demo_kb)
    article = next(a for a in demo_kb.articles if a.sms)
    taught = {t for t, label in zip(texts, labels, strict=True) if label == article.id}
    assert taught == {article.title, *article.questions, article.sms}


def test_one_text_transform_matches_the_vectorizer(demo_kb: KnowledgeBase) -> None:
    from knowledge.engine import training_data
    from knowledge.tfidf import TfidfVectorizer

    texts, _ = training_data(demo_kb)
    vectorizer = TfidfVectorizer("char_wb", ngram_range=(2, 5))
    vectorizer.fit_transform(texts)
    idx, values = vectorizer.transform_one("how long does shippping take, eh??")
    row = vectorizer.transform(["how long does shippping take, eh??"]).toarray()[0]
    assert sorted(idx.tolist()) == sorted(row.nonzero()[0].tolist())
    assert np.allclose(row[idx], values)


def test_out_of_scope_mass_for_off_topic(engine: Engine) -> None:
    assert engine.analyze("tell me a joke about the weather").out_of_scope > 0.5
    assert engine.analyze("how long does shipping take").out_of_scope < 0.5


def test_neighbour_mode_ranks_like_the_examples(demo_kb: KnowledgeBase) -> None:
    nn = Engine.build(demo_kb, HashingEncoder(), max_linear_classes=10)
    assert nn.mode == "neighbours"
    ranking = nn.analyze("how long does shipping take")
    assert ranking.candidates[0].label == "shipping-times"
    assert 0.0 <= ranking.out_of_scope <= 1.0


def test_neighbour_mode_always_scores_the_background_class(
        demo_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.engine as engine_module

    monkeypatch.setattr(engine_module, "SHORTLIST", 2)
    nn = Engine.build(demo_kb, HashingEncoder(), max_linear_classes=10)
    shortlisted = [nn.analyze(m) for m in ("how long does shipping take", "reset my password")]
    assert all(0.0 < r.out_of_scope < 1.0 for r in shortlisted)
    assert all(len(r.candidates) == 2 for r in shortlisted)  # the shortlist, background aside
    total = sum(c.score for c in shortlisted[0].candidates) + shortlisted[0].out_of_scope
    assert abs(total - 1.0) < 1e-6


def test_neighbour_prefilter_keeps_the_exact_shortlist(
        demo_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.engine as engine_module

    messages = ("how long does shipping take", "reset my password", "do you price match",
                "where is the portland store", "can I return worn boots")
    monkeypatch.setattr(engine_module, "SHORTLIST", 5)
    exact = Engine.build(demo_kb, HashingEncoder(), max_linear_classes=10)
    monkeypatch.setattr(engine_module, "PREFILTER", 20)
    monkeypatch.setattr(engine_module, "REDUCED_DIM", 48)
    reduced = Engine.build(demo_kb, HashingEncoder(), max_linear_classes=10)
    assert hasattr(reduced, "_reduced_centroids") and not hasattr(exact, "_reduced_centroids")
    for message in messages:
        want, got = exact.analyze(message), reduced.analyze(message)
        assert [c.label for c in got.candidates] == [c.label for c in want.candidates]
        assert got.out_of_scope == pytest.approx(want.out_of_scope)


def test_neighbour_lexical_scores_equal_scipys(demo_kb: KnowledgeBase) -> None:
    from knowledge.engine import _concat_ranges, _sparse_rows_dot, training_data
    from knowledge.tfidf import TfidfVectorizer

    texts, _ = training_data(demo_kb)
    vectorizer = TfidfVectorizer("word", ngram_range=(1, 2))
    matrix = vectorizer.fit_transform(texts)
    starts, ends = np.array([40, 3, 200, 7]), np.array([52, 3, 230, 9])  # one range empty
    rows = _concat_ranges(starts, ends)
    assert rows.tolist() == [*range(40, 52), *range(200, 230), 7, 8]
    for message in ("how long does shipping take", "return my boots", "zzz unknown words"):
        wi, wv = vectorizer.transform_one(message)
        expected = matrix[rows][:, wi] @ wv if len(wi) else np.zeros(len(rows))
        assert np.array_equal(_sparse_rows_dot(matrix, rows, wi, wv), expected)


def test_engine_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="at least two"):
        Engine(HashingEncoder(), ["a"], ["x"], Vocabulary(["a"]))


def test_checksum_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n", encoding="utf-8")
    with pytest.raises(ModelChecksumError, match="does not match the pinned"):
        Embedder(vocab_path=vocab)


def test_kernel_fit_scores_like_the_primal_fit() -> None:
    """The kernel fit is the same model as the primal one: same probabilities for a query.

    Regression: the kernel path folded the embedding block back with w instead of w^2, so at
    query time the embedding view counted half of what it did in training.
    """
    texts = ["reset my password", "forgot password help", "where is my order",
             "track my parcel", "cancel my subscription", "stop billing me"]
    labels = ["pw", "pw", "order", "order", "cancel", "cancel"]
    options = {"embedding_weight": 2.0, "negatives": ("what is the weather", "tell me a joke")}
    kernel = Engine(HashingEncoder(), texts, labels, Vocabulary(texts), **options)
    primal = Engine(HashingEncoder(), texts, labels, Vocabulary(texts), kernel_limit=0,
                    **options)
    for query in ("password reset please", "parcel tracking", "weather tomorrow"):
        a = {c.label: c.score for c in kernel.analyze(query).candidates}
        b = {c.label: c.score for c in primal.analyze(query).candidates}
        assert a.keys() == b.keys()
        for label in a:
            assert a[label] == pytest.approx(b[label], abs=2e-3)


def test_background_lexical_scores_equal_scipys(demo_kb: KnowledgeBase) -> None:
    from knowledge.engine import _sparse_columns_dot, training_data
    from knowledge.tfidf import TfidfVectorizer

    texts, _ = training_data(demo_kb)
    vectorizer = TfidfVectorizer("word", ngram_range=(1, 2))
    matrix = vectorizer.fit_transform(texts)[100:180]
    by_feature = matrix.T.tocsr()
    for message in ("how long does shipping take", "return my boots", "zzz unknown words"):
        wi, wv = vectorizer.transform_one(message)
        expected = matrix[:, wi] @ wv if len(wi) else np.zeros(matrix.shape[0])
        got = _sparse_columns_dot(by_feature, wi, wv, matrix.shape[0])
        assert got.shape == (matrix.shape[0],)
        assert np.allclose(got, expected, rtol=0, atol=1e-12)


def test_neighbour_mode_keeps_the_examples_cosines(demo_kb: KnowledgeBase) -> None:
    from knowledge.engine import training_data

    encoder = HashingEncoder()
    nn = Engine.build(demo_kb, encoder, max_linear_classes=10)
    texts, _ = training_data(demo_kb)
    examples = encoder.encode(texts)
    # Not training texts themselves: their nearest example is not an exact copy of them.
    for message in ("do you price match", "can I return worn boots", "where is my parcel"):
        exact = float((examples @ encoder.encode([message])[0]).max())
        assert nn.analyze(message).similarity == pytest.approx(exact, abs=1e-4)
