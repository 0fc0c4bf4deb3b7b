"""Retrieval engine: ranks articles and intents for a customer message.

One multinomial logistic regression over three views of the text: MiniLM sentence embeddings,
TF-IDF word 1-2 grams and TF-IDF char_wb 2-5 grams. Training texts are each article's title and
questions and each intent's examples; labels are article ids and ``intent:<name>``.

With ~500 training texts and ~11k sparse features, fitting the weights directly is slow
(L-BFGS over 65 x 11k parameters, >2 s). The L2-regularised solution lies in the span of the
training rows, so we fit the same model on the kernel's square-root features (n x n) instead:
identical optimum, a fraction of the time.

Besides the class probabilities the engine reports two out-of-scope signals: the cosine
similarity to the nearest training text, and the share of the message's content words that the
knowledge base knows at all (an unknown brand or topic such as "REI" or "landlord" is the
clearest sign a confident-looking match is about something else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from knowledge.content import KnowledgeBase
from knowledge.embedder import TextEncoder

INTENT_PREFIX = "intent:"
_WORD = re.compile(r"[a-z]+")
# Embedding view weight relative to the two TF-IDF views (each row of every view has norm 1);
# 2 was best in cross-validation on the demo KB's own questions (see knowledge/policy.py).
EMBEDDING_WEIGHT = 2.0
LR_C = 30.0


@dataclass(frozen=True)
class Candidate:
    """One ranked label: an article id or ``intent:<name>``, with its probability."""

    label: str
    kind: Literal["article", "intent"]
    score: float

    @property
    def intent(self) -> str | None:
        """The intent name for an intent candidate, else None."""
        return self.label.removeprefix(INTENT_PREFIX) if self.kind == "intent" else None

    @property
    def article_id(self) -> str | None:
        """The article id for an article candidate, else None."""
        return self.label if self.kind == "article" else None


@dataclass(frozen=True)
class Ranking:
    """Candidates plus the out-of-scope signals for one message."""

    candidates: tuple[Candidate, ...]
    similarity: float  # cosine to the nearest training text
    coverage: float  # share of content words known to the knowledge base, 1.0 if none


def content_words(text: str) -> list[str]:
    """Lowercase words of 3+ letters that are not stop words."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in ENGLISH_STOP_WORDS]


def _deletes(word: str) -> set[str]:
    """Every string one deletion away from word."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Vocabulary:
    """Words the knowledge base uses, matched with one-edit typo tolerance for longer words."""

    def __init__(self, texts: list[str]) -> None:
        self.words: frozenset[str] = frozenset(w for t in texts for w in _WORD.findall(t.lower()))
        # SymSpell-style index: words and their one-deletion variants, for edit distance <= 1
        # (typos such as "pasword", "cancell") without comparing against every word.
        variants: set[str] = set()
        for w in self.words:
            if len(w) >= 4:
                variants |= _deletes(w)
        self._variants = frozenset(variants)

    def knows(self, word: str) -> bool:
        """True if the word, its singular, or (for 5+ letters) a one-edit variant is known."""
        if word in self.words or word.rstrip("s") in self.words:
            return True
        if len(word) < 5:
            return False
        return word in self._variants or any(
            d in self.words or d in self._variants for d in _deletes(word)
        )

    def coverage(self, text: str) -> float:
        """Share of the text's content words that are known; 1.0 when it has none."""
        words = content_words(text)
        if not words:
            return 1.0
        return sum(self.knows(w) for w in words) / len(words)


def _kb_texts(kb: KnowledgeBase) -> list[str]:
    """All the words the KB uses, including answers: a word in a body is in scope."""
    texts: list[str] = []
    for a in kb.articles:
        texts += [a.title, a.body, a.sms or "", *a.questions, *a.tags]
    for i in kb.intents:
        texts += [i.description, *i.examples]
    return texts


def training_data(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """(texts, labels): titles and questions per article, examples per intent."""
    texts: list[str] = []
    labels: list[str] = []
    for a in kb.articles:
        for t in (a.title, *a.questions):
            texts.append(t)
            labels.append(a.id)
    for i in kb.intents:
        for t in i.examples:
            texts.append(t)
            labels.append(INTENT_PREFIX + i.name)
    return texts, labels


class Engine:
    """Ranks labels for a message; immutable after build, so safe to share across threads."""

    def __init__(
        self,
        encoder: TextEncoder,
        texts: list[str],
        labels: list[str],
        vocabulary: Vocabulary,
        *,
        c: float = LR_C,
        embedding_weight: float = EMBEDDING_WEIGHT,
    ) -> None:
        self._encoder = encoder
        self._vocabulary = vocabulary
        self._w2 = embedding_weight**2
        self.classes: tuple[str, ...] = tuple(sorted(set(labels)))
        if len(self.classes) < 2:
            raise ValueError("the knowledge base needs at least two articles or intents")
        self._embeddings = np.asarray(encoder.encode(texts), dtype=np.float32)
        self._word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        self._char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self._word_rows = self._word.fit_transform(texts)
        self._char_rows = self._char.fit_transform(texts)
        gram = (
            self._w2 * (self._embeddings @ self._embeddings.T).astype(np.float64)
            + (self._word_rows @ self._word_rows.T).toarray()
            + (self._char_rows @ self._char_rows.T).toarray()
        )
        eigval, eigvec = np.linalg.eigh(gram)
        keep = eigval > 1e-9 * eigval.max()
        root = np.sqrt(eigval[keep])
        # Query features are k(q, rows) @ _projection; training features are eigvec * root.
        self._projection = eigvec[:, keep] / root
        index = {label: i for i, label in enumerate(self.classes)}
        y = np.array([index[label] for label in labels])
        model = LogisticRegression(C=c, max_iter=3000).fit(eigvec[:, keep] * root, y)
        # Folded into one matrix so a query costs a single small matmul and a softmax, without
        # sklearn's per-call input validation (a sizeable share of a ~1 ms budget).
        self._weights = (self._projection @ model.coef_.T).astype(np.float64)
        self._bias = model.intercept_.astype(np.float64)
        # Pre-transposed once: transposing a CSR matrix per query costs more than the product.
        self._word_cols = self._word_rows.T.tocsr()
        self._char_cols = self._char_rows.T.tocsr()
        self._kinds = tuple(
            "intent" if label.startswith(INTENT_PREFIX) else "article" for label in self.classes
        )
        self._embed_one = lru_cache(maxsize=1024)(self._embed_uncached)

    @classmethod
    def build(cls, kb: KnowledgeBase, embedder: TextEncoder, **options: float) -> Engine:
        """Train an engine on the KB's article titles/questions and intent examples."""
        texts, labels = training_data(kb)
        return cls(embedder, texts, labels, Vocabulary(_kb_texts(kb)), **options)

    def _embed_uncached(self, text: str) -> np.ndarray:
        """Embedding of one message (cached: greetings and thanks repeat a lot)."""
        return np.asarray(self._encoder.encode([text]), dtype=np.float32)[0]

    def analyze(self, text: str) -> Ranking:
        """All candidates with probabilities, best first, plus out-of-scope signals."""
        vector = self._embed_one(text)
        cosines = self._embeddings @ vector
        kernel = (
            self._w2 * cosines.astype(np.float64)
            + (self._word.transform([text]) @ self._word_cols).toarray()[0]
            + (self._char.transform([text]) @ self._char_cols).toarray()[0]
        )
        logits = kernel @ self._weights + self._bias
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        order = np.argsort(-probs, kind="stable")
        candidates = tuple(
            Candidate(self.classes[i], self._kinds[i], float(probs[i]))  # type: ignore[arg-type]
            for i in order
        )
        return Ranking(candidates, float(cosines.max()), self._vocabulary.coverage(text))

    def rank(self, text: str, k: int = 5) -> list[Candidate]:
        """The k best candidates, scores being class probabilities (sum to 1 over all labels)."""
        return list(self.analyze(text).candidates[:k])
