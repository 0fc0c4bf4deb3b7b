"""TF-IDF features of short texts: the numbers scikit-learn's TfidfVectorizer gives the engine.

The engine used ``TfidfVectorizer(analyzer=..., ngram_range=..., sublinear_tf=True,
dtype=np.float32)`` with everything else at its default; importing scikit-learn for it cost the
gateway about a second of start-up. This module computes the same matrix for exactly those
settings (tests/knowledge/test_kb_tfidf.py compares the two):

- text lower-cased; no accent stripping, no stop words, every n-gram kept (min_df 1, max_df 1.0);
- ``word``: tokens of two or more word characters (``(?u)\\b\\w\\w+\\b``), then word n-grams;
- ``char_wb``: runs of whitespace become one space, each word is padded with a space on both
  sides, and n-grams are taken inside the padded word; a padded word no longer than n is one
  n-gram, and then no longer ones are taken for that word (scikit-learn's ``_char_wb_ngrams``);
- columns ordered by the n-gram's text (sorted), as scikit-learn orders its vocabulary;
- tf = 1 + ln(count); idf = ln((1 + documents) / (1 + document frequency)) + 1, in float32;
- each row scaled to unit L2 norm (sum of squares accumulated in float64); float32 CSR.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np
import scipy.sparse as sp

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE_SPACES = re.compile(r"\s\s+")

Analyzer = Literal["word", "char_wb"]


def word_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Lower-cased word n-grams, shortest first, each in text order."""
    tokens = _TOKEN.findall(text.lower())
    low, high = ngram_range
    grams: list[str] = []
    for n in range(low, min(high, len(tokens)) + 1):
        grams += tokens if n == 1 else [" ".join(tokens[i : i + n])
                                        for i in range(len(tokens) - n + 1)]
    return grams


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside space-padded words, as scikit-learn's ``char_wb`` analyzer."""
    low, high = ngram_range
    grams: list[str] = []
    append = grams.append  # a plain append loop: a third faster than a comprehension per n
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = " " + word + " "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:  # the whole padded word, once; longer n would repeat it
                append(padded)
                break
            for start in range(length - n + 1):
                append(padded[start : start + n])
    return grams


class TfidfVectorizer:
    """Sublinear TF-IDF over word or char_wb n-grams; fit once, then transform texts."""

    def __init__(self, analyzer: Analyzer, ngram_range: tuple[int, int]) -> None:
        if analyzer not in ("word", "char_wb"):
            raise ValueError(f"unknown analyzer {analyzer!r}")
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        #: n-gram -> column, columns in sorted n-gram order; filled by fit_transform.
        self.vocabulary: dict[str, int] = {}
        #: Inverse document frequency per column (float32, as scikit-learn keeps it).
        self.idf = np.zeros(0, dtype=np.float32)

    def analyze(self, text: str) -> list[str]:
        """The text's n-grams, repeats included."""
        if self.analyzer == "word":
            return word_ngrams(text, self.ngram_range)
        return char_wb_ngrams(text, self.ngram_range)

    def fit_transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Learn the vocabulary and idf from texts; their TF-IDF rows."""
        # A new n-gram gets the next free column, without a Python call per n-gram.
        provisional: defaultdict[str, int] = defaultdict()
        provisional.default_factory = provisional.__len__
        counts = _count_matrix(texts, self.analyze, provisional.__getitem__,
                               width=lambda: len(provisional))
        if not provisional:
            raise ValueError("empty vocabulary: no text has an n-gram")
        ordered = sorted(provisional)
        self.vocabulary = {gram: column for column, gram in enumerate(ordered)}
        new_column = np.empty(len(ordered), dtype=np.int32)
        new_column[[provisional[gram] for gram in ordered]] = np.arange(len(ordered))
        counts.indices = new_column[counts.indices]
        counts.has_sorted_indices = False
        counts.sort_indices()
        document_frequency = np.bincount(counts.indices, minlength=len(ordered))
        idf = np.full(len(ordered), counts.shape[0] + 1, dtype=np.float32)
        idf /= document_frequency.astype(np.float32) + np.float32(1.0)
        self.idf = np.log(idf) + np.float32(1.0)
        return self._weigh(counts)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """TF-IDF rows of texts over the fitted vocabulary (unknown n-grams are dropped)."""
        counts = _count_matrix(texts, self.analyze, self.vocabulary.get,
                               width=lambda: len(self.vocabulary))
        return self._weigh(counts)

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's row of ``transform`` as (columns, float64 values), without building a
        sparse matrix: per query, scipy's construction would cost more than the arithmetic."""
        counts = Counter(i for i in map(self.vocabulary.get, self.analyze(text)) if i is not None)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64,
                         count=len(counts))
        values = tf * self.idf[columns].astype(np.float64)
        return columns, values / np.linalg.norm(values)

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Counts -> (1 + ln tf) * idf, rows scaled to unit length."""
        data = np.log(counts.data) + np.float32(1.0)
        data *= self.idf[counts.indices]
        # scikit-learn squares in float32, sums the squares in float64 and divides in float64.
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights=(data * data).astype(np.float64),
                                    minlength=counts.shape[0]))
        norms[norms == 0.0] = 1.0
        counts.data = (data / norms[rows]).astype(np.float32)
        return counts


def _count_matrix(texts: Iterable[str], analyze: Callable[[str], list[str]],
                  column_of: Callable[[str], int | None], width: Callable[[], int]
                  ) -> sp.csr_matrix:
    """n-gram counts per text, float32 CSR with sorted columns; width() is read after counting.

    column_of maps an n-gram to its column, or None to drop it.
    """
    columns: list[int] = []
    values: list[int] = []
    indptr = [0]
    for text in texts:
        counter = Counter(map(column_of, analyze(text)))
        counter.pop(None, None)
        columns += counter.keys()
        values += counter.values()
        indptr.append(len(columns))
    matrix = sp.csr_matrix(
        (np.array(values, dtype=np.float32), np.array(columns, dtype=np.int32),
         np.array(indptr, dtype=np.int32)),
        shape=(len(indptr) - 1, width()))
    matrix.sort_indices()
    return matrix
