"""Choose the decision thresholds by cross-validation on a KB's own texts and the negative set.

``python -m knowledge.calibrate [KB_FOLDER]`` trains the engine on 4/5 of the KB's titles,
questions and intent examples plus 4/5 of the generic out-of-scope messages, scores the held-out
fifth, and repeats for every fold. Out-of-fold, it reports how often the top candidate is right
and the out-of-scope probability of in-scope texts and of held-out negatives, then the thresholds
that :class:`knowledge.policy.Thresholds` should use. No labelled query file is involved.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.content import KnowledgeBase, load_folder
from knowledge.embedder import Embedder, TextEncoder
from knowledge.engine import Engine, Vocabulary, _kb_texts, training_data
from knowledge.out_of_scope import OUT_OF_SCOPE

FOLDS = 5


@dataclass(frozen=True)
class Fold:
    """Out-of-fold scores: per in-scope text (top right?, top prob, oos prob), per negative."""

    right: np.ndarray
    top: np.ndarray
    margin: np.ndarray
    oos: np.ndarray
    negative_oos: np.ndarray
    negative_top: np.ndarray


class _Cache:
    """Encode each text once across folds."""

    def __init__(self, encoder: TextEncoder) -> None:
        self._encoder, self._seen = encoder, {}  # type: ignore[var-annotated]

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self._encoder.encode(new), strict=True))
        return np.stack([self._seen[t] for t in texts])


def out_of_fold(kb: KnowledgeBase, encoder: TextEncoder, seed: int = 0, **options: object) -> Fold:
    """Scores of every KB text and negative from an engine that did not see it."""
    texts, labels = training_data(kb)
    rng = np.random.default_rng(seed)
    fold_of = rng.integers(0, FOLDS, len(texts))
    negative_fold = rng.integers(0, FOLDS, len(OUT_OF_SCOPE))
    vocabulary = Vocabulary(_kb_texts(kb))
    cache = _Cache(encoder)
    right, top, margin, oos, n_oos, n_top = [], [], [], [], [], []
    for k in range(FOLDS):
        train = [i for i in range(len(texts)) if fold_of[i] != k]
        negatives = [t for t, f in zip(OUT_OF_SCOPE, negative_fold, strict=True) if f != k]
        engine = Engine(cache, [texts[i] for i in train], [labels[i] for i in train], vocabulary,
                        negatives=negatives, **options)  # type: ignore[arg-type]
        for i in np.flatnonzero(fold_of == k):
            r = engine.analyze(texts[i])
            rest = 1.0 - r.out_of_scope
            right.append(r.candidates[0].label == labels[i])
            top.append(r.candidates[0].score / rest)
            margin.append((r.candidates[0].score - r.candidates[1].score) / rest)
            oos.append(r.out_of_scope)
        for t, f in zip(OUT_OF_SCOPE, negative_fold, strict=True):
            if f == k:
                r = engine.analyze(t)
                n_oos.append(r.out_of_scope)
                n_top.append(r.candidates[0].score / (1.0 - r.out_of_scope))
    return Fold(*(np.array(v, dtype=float) for v in (right, top, margin, oos, n_oos, n_top)))


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else Path(__file__).parent / "demo"
    fold = out_of_fold(load_folder(folder), Embedder())
    print(f"out-of-fold top-1 right: {fold.right.mean():.1%} of {len(fold.right)} KB texts")
    for q in (50, 90, 95, 99):
        print(f"  oos probability p{q}: in-scope {np.percentile(fold.oos, q):.2f}  "
              f"negatives(p{100 - q}) {np.percentile(fold.negative_oos, 100 - q):.2f}")
    for tau in (0.4, 0.5, 0.6, 0.7, 0.8):
        kept = fold.oos < tau
        print(f"  out_of_scope < {tau}: keeps {kept.mean():.1%} of KB texts "
              f"(top-1 right {fold.right[kept].mean():.1%}), "
              f"lets through {(fold.negative_oos < tau).mean():.1%} of negatives")


if __name__ == "__main__":
    main(sys.argv[1:])
