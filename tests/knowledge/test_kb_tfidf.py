"""TF-IDF features: the same matrix as scikit-learn's TfidfVectorizer for the engine's settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from knowledge.content import KnowledgeBase
from knowledge.engine import _kb_texts, training_data
from knowledge.out_of_scope import OUT_OF_SCOPE
from knowledge.tfidf import TfidfVectorizer, char_wb_ngrams, word_ngrams

# Unicode, case, accents, punctuation, one-letter words, odd whitespace, empty strings.
TRICKY = [
    "", "   ", "a", "I a b c", "x  y", "Café  crème\tbrûlée\n\nñandú", "ÄÖÜ Straße STRASSE",
    "_under_score_ and snake_case", "it's don't   can't", "日本語のテキスト", "emoji 😀 ok 👍🏽",
    "42 is 4 2", "\u00a0nbsp\u2003em\u3000space", "\x1c file sep", "hello, world!!! ... ?",
    "FH-482913 / order #77", "e-mail e.mail email", "ﬁ ligature Ⅻ",
]
ENGINE_SETTINGS = [("word", (1, 2)), ("char_wb", (2, 5))]


def test_word_ngrams_drop_one_letter_words_and_pair_neighbours() -> None:
    assert word_ngrams("I want a New tent, now", (1, 2)) == [
        "want", "new", "tent", "now", "want new", "new tent", "tent now"]
    assert word_ngrams("a b", (1, 2)) == []


def test_char_wb_ngrams_pad_words_and_count_a_short_word_once() -> None:
    assert char_wb_ngrams("Hi", (2, 5)) == [" h", "hi", "i ", " hi", "hi ", " hi "]
    assert char_wb_ngrams("a  b", (2, 5)) == [" a", "a ", " a ", " b", "b ", " b "]
    assert char_wb_ngrams(" \t", (2, 5)) == []


def test_idf_tf_and_norm_follow_the_formulas() -> None:
    vectorizer = TfidfVectorizer("word", (1, 1))
    rows = vectorizer.fit_transform(["tent tent stove", "tent", "lamp"]).toarray()
    assert list(vectorizer.vocabulary) == ["lamp", "stove", "tent"]  # columns in sorted order
    idf = [math.log(4 / 2) + 1, math.log(4 / 2) + 1, math.log(4 / 3) + 1]
    assert vectorizer.idf == pytest.approx(idf, rel=1e-6)
    first = np.array([0.0, idf[1], (1 + math.log(2)) * idf[2]])
    assert rows[0] == pytest.approx(first / np.linalg.norm(first), rel=1e-6)
    assert rows[1].tolist() == [0.0, 0.0, 1.0]
    assert rows.dtype == np.float32


def test_transform_drops_unknown_ngrams_and_keeps_empty_rows() -> None:
    vectorizer = TfidfVectorizer("word", (1, 2))
    vectorizer.fit_transform(["return my boots", "track my order"])
    rows = vectorizer.transform(["zzz", "", "boots boots zzz"])
    assert rows.shape == (3, len(vectorizer.vocabulary))
    assert rows.getnnz(axis=1).tolist() == [0, 0, 1]
    assert rows[2, vectorizer.vocabulary["boots"]] == pytest.approx(1.0)


def test_fit_needs_an_ngram() -> None:
    with pytest.raises(ValueError, match="empty vocabulary"):
        TfidfVectorizer("word", (1, 2)).fit_transform(["a", "", "?"])


@pytest.mark.parametrize(("analyzer", "ngram_range"), ENGINE_SETTINGS)
def test_same_matrix_as_sklearn(analyzer: str, ngram_range: tuple[int, int],
                                demo_kb: KnowledgeBase) -> None:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    texts, _ = training_data(demo_kb)
    corpora = [
        [*texts, *OUT_OF_SCOPE],  # what the engine fits on the demo KB
        [*TRICKY, *texts[:40]],
    ]
    queries = [*TRICKY, *_kb_texts(demo_kb)[:200]]
    for corpus in corpora:
        theirs = text.TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range,
                                      sublinear_tf=True, dtype=np.float32)
        ours = TfidfVectorizer(analyzer, ngram_range)  # type: ignore[arg-type]
        expected, actual = theirs.fit_transform(corpus), ours.fit_transform(corpus)
        assert ours.vocabulary == theirs.vocabulary_
        assert np.array_equal(ours.idf, theirs.idf_)
        assert actual.dtype == np.float32
        np.testing.assert_allclose(actual.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ours.transform(queries).toarray(),
                                   theirs.transform(queries).toarray(), rtol=1e-6, atol=1e-7)
        for query in queries[:40]:
            assert ours.analyze(query) == theirs.build_analyzer()(query)
