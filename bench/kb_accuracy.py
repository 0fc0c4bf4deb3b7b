"""Knowledge engine accuracy on public intent datasets and on the Fernhill demo dev set.

    python bench/kb_accuracy.py [--data ../shared/data] [--skip banking77,clinc150,fernhill]

Uses the gateway's code path: each dataset becomes a KnowledgeBase (one article per intent,
its training examples as the article's questions), the engine is built with
``Answerer.build`` and messages are ranked with ``Engine.analyze`` and decided by
``knowledge.policy.decide`` exactly as ``Answerer.query`` does. Data is read from
``../shared/data`` relative to the repository root (see its README); nothing is copied.

- BANKING77 10-shot (10 training examples per intent, 3 seeds, mean) and full data: top-1
  accuracy on the test split (the classification task: the best article, no refusal).
- CLINC150: thresholds (out-of-scope probability, answer, clarify margin, similarity) chosen on
  val + oos_val to maximise in-scope accuracy + out-of-scope recall, then reported on test +
  oos_test: in-scope accuracy (answered with the right article) and OOS recall (not answered);
  plus OOS AUROC of the top in-scope probability. The dataset's oos_train messages join the
  engine's generic out-of-scope examples.
- Fernhill dev (knowledge/demo/queries-dev.jsonl): the figures of ``onethread kb eval``.
Bounded: about 5-10 minutes on 2 cores, almost all of it embedding ~37k texts once.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score  # noqa: E402

from knowledge.answerer import Answerer  # noqa: E402
from knowledge.content import Article, KnowledgeBase, load_folder  # noqa: E402
from knowledge.embedder import Embedder  # noqa: E402
from knowledge.engine import Engine  # noqa: E402
from knowledge.evaluate import evaluate, load_queries  # noqa: E402
from knowledge.out_of_scope import OUT_OF_SCOPE  # noqa: E402
from knowledge.policy import Thresholds, decide  # noqa: E402

DEMO = ROOT / "knowledge" / "demo"


class CachedEncoder:
    """The real embedder with an in-memory cache: each text is embedded once per run."""

    dim = 384

    def __init__(self, cache: Path | None = None) -> None:
        self._embedder = Embedder()
        self.variant = self._embedder.variant
        self._seen: dict[str, np.ndarray] = {}
        self._cache = cache
        if cache is not None and cache.is_file():
            with np.load(cache, allow_pickle=False) as saved:
                self._seen = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self._embedder.encode(new), strict=True))
            if self._cache is not None and len(new) > 100:
                self.save()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._seen[t] for t in texts])

    def save(self) -> None:
        """Write every embedding seen so far to the cache file (texts + vectors, .npz)."""
        if self._cache is None:
            return
        texts = list(self._seen)
        tmp = self._cache.with_name(self._cache.name + ".tmp.npz")
        np.savez(
            tmp, texts=np.array(texts, dtype=str), vectors=np.stack([self._seen[t] for t in texts])
        )
        tmp.replace(self._cache)


def article_id(label: str) -> str:
    """A dataset label as a valid article id ("card_arrival" -> "card-arrival")."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def intent_kb(examples: dict[str, list[str]]) -> KnowledgeBase:
    """One article per label; the first example doubles as the title (no label names used)."""
    return KnowledgeBase(tuple(
        Article(article_id(label), texts[0], tuple(texts[1:]) or (texts[0],), (), None,
                "answer")
        for label, texts in sorted(examples.items())))


def top1(answerer: Answerer, texts: list[str], labels: list[str]) -> float:
    """Share of texts whose best-ranked article is their label's."""
    right = sum(answerer.engine.analyze(t).candidates[0].label == article_id(y)
                for t, y in zip(texts, labels, strict=True))
    return right / len(texts)


def line(name: str, value: float, target: str, anchors: str) -> None:
    print(f"  {name:34s} {value:6.1%}   target {target:7s} {anchors}")


def banking77(data: Path, encoder: CachedEncoder) -> None:
    def read(name: str) -> tuple[list[str], list[str]]:
        with (data / "banking77" / name).open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return [r["text"] for r in rows], [r["category"] for r in rows]

    train_x, train_y = read("train.csv")
    test_x, test_y = read("test.csv")
    by_label: dict[str, list[str]] = defaultdict(list)
    for x, y in zip(train_x, train_y, strict=True):
        by_label[y].append(x)
    start = time.perf_counter()
    encoder.encode(train_x + test_x)
    print(f"BANKING77 ({len(by_label)} intents; embedded {len(train_x) + len(test_x)} texts "
          f"in {time.perf_counter() - start:.0f} s)")
    shots = []
    for seed in (0, 1, 2):
        rng = random.Random(seed)
        few = {y: rng.sample(xs, 10) for y, xs in by_label.items()}
        shots.append(top1(Answerer.build(intent_kb(few), encoder), test_x, test_y))
    line("10-shot accuracy (mean of 3 seeds)", float(np.mean(shots)), ">=87.5%",
         "anchors: USE+ConveRT 85.19, DNNC 86.71, CPFT 87.20, ICDA 89.79  "
         f"(seeds {', '.join(f'{s:.1%}' for s in shots)})")
    start = time.perf_counter()
    full = Answerer.build(intent_kb(by_label), encoder)
    fit = time.perf_counter() - start
    line("full-data accuracy", top1(full, test_x, test_y), ">=94.5%",
         f"anchors: BERT-base 93.66, USE+ConveRT 93.36  (build {fit:.0f} s)")


def clinc150(data: Path, encoder: CachedEncoder) -> None:
    sets = json.loads((data / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    by_label: dict[str, list[str]] = defaultdict(list)
    for x, y in sets["train"]:
        by_label[y].append(x)
    start = time.perf_counter()
    encoder.encode([x for k in sets for x, _ in sets[k]])
    print(f"CLINC150 ({len(by_label)} intents; embedded in {time.perf_counter() - start:.0f} s)")
    start = time.perf_counter()
    kb = intent_kb(by_label)
    negatives = [*OUT_OF_SCOPE, *(x for x, _ in sets["oos_train"])]
    engine = Engine.build(kb, encoder, negatives=negatives)
    answerer = Answerer(kb, engine)
    fit = time.perf_counter() - start

    def run(split: str, oos_split: str) -> tuple[list, list[str], int]:
        items = [(x, article_id(y)) for x, y in sets[split]]
        items += [(x, "") for x, _ in sets[oos_split]]
        return [answerer.engine.analyze(x) for x, _ in items], [y for _, y in items], len(
            sets[oos_split])

    def score(rankings: list, labels: list[str], t: Thresholds) -> tuple[float, float]:
        right = oos_kept = n_in = n_oos = 0
        for r, y in zip(rankings, labels, strict=True):
            c = decide(r.candidates, t, similarity=r.similarity, coverage=r.coverage,
                       out_of_scope=r.out_of_scope, foreign_names=r.foreign_names)
            answered = c.kind in ("answer", "intent")
            if y:
                n_in += 1
                right += answered and c.top is not None and c.top.label == y
            else:
                n_oos += 1
                oos_kept += not answered
        return right / n_in, oos_kept / n_oos

    val, val_y, _ = run("val", "oos_val")
    grid = [Thresholds(answer=a, clarify_margin=m, min_similarity=s, max_out_of_scope=o)
            for a in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6) for m in (0.0, 0.05)
            for s in (0.0, 0.4) for o in (0.3, 0.5, 0.7, 0.9, 1.01)]
    best = max(grid, key=lambda t: sum(score(val, val_y, t)))
    test, test_y, _ = run("test", "oos_test")
    acc, recall = score(test, test_y, best)
    default_acc, default_recall = score(test, test_y, Thresholds())
    line("in-scope accuracy (test)", acc, ">=95%", "anchors: BERT 96.2, Rasa 91.5")
    line("OOS recall (oos_test)", recall, ">=75%", "anchors: BERT 52.3, Rasa 45.3")
    conf = [r.candidates[0].score for r in test]
    auroc = roc_auc_score([0 if y else 1 for y in test_y], [-c for c in conf])
    print(f"  {'OOS AUROC (top in-scope probability)':34s} {auroc:6.3f}")
    print(f"  threshold chosen on val+oos_val: answer {best.answer}, clarify_margin "
          f"{best.clarify_margin}, min_similarity {best.min_similarity}, max_out_of_scope "
          f"{best.max_out_of_scope}  (build {fit:.0f} s, mode {engine.mode})")
    print(f"  with the gateway's default thresholds: in-scope {default_acc:.1%}, "
          f"OOS recall {default_recall:.1%}")


def fernhill(encoder: CachedEncoder) -> None:
    report = evaluate(Answerer.build(load_folder(DEMO), encoder),
                      load_queries(DEMO / "queries-dev.jsonl"))
    print(f"Fernhill dev ({len(report.outcomes)} lines, default thresholds)")
    line("article accuracy", report.article_accuracy, ">=92%", "")
    line("intent accuracy", report.intent_accuracy, ">=90%", "")
    line("none answered anyway", report.none_answered, "<=5%", "")
    line("in-scope answered wrongly", report.wrong_answer_rate, "low", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--skip", default="", help="comma-separated: banking77,clinc150,fernhill")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="an .npz file of embeddings, read if present and updated (reruns "
        "then skip the ~5 minutes of embedding); keyed by text, so safe to share "
        "only while the model is the same",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    encoder = CachedEncoder(args.cache)
    print(f"embedding model: {encoder.variant} (knowledge/quantize.py)")
    start = time.perf_counter()
    if "fernhill" not in skip:
        fernhill(encoder)
    if "banking77" not in skip:
        banking77(args.data, encoder)
    if "clinc150" not in skip:
        clinc150(args.data, encoder)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
