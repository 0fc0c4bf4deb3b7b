"""Sweep the knowledge engine's weights and the decision thresholds on development data only.

    python bench/kb_sweep.py --cache /tmp/kbcache.npz [--what fernhill,banking77,clinc150]
        [--embedding-weight 1.41,2] [--negative-weight 0.5,1.5] [--c 30]

For every engine setting (embedding weight x negative weight x C):

- *fernhill*: the demo engine ranks every line of ``knowledge/demo/queries-dev.jsonl`` once, then
  a grid of thresholds (answer, clarify margin, max out-of-scope, min similarity) is scored with
  ``knowledge.policy.decide`` as ``onethread kb eval`` would. Printed: the figures under the
  gateway's current default thresholds, and the best grid point by article accuracy among those
  that answer at most ``--max-none`` of the `none` lines, answer no more in-scope lines wrongly
  than ``--max-wrong`` and keep intents at ``--min-intent`` or more (ties: fewer `none`
  answered, fewer wrong, then larger margins).
- *banking77*: 10-shot top-1 accuracy (seeds 0-2, as ``kb_accuracy.py``) measured on a held-out
  slice of BANKING77's *train* split (texts not among any seed's shots), never on test.
- *clinc150*: the engine trained on ``train`` (+ ``oos_train``), scored on ``val`` + ``oos_val``:
  top-1 in-scope accuracy, OOS AUROC, and in-scope accuracy + OOS recall at the best of
  ``kb_accuracy.py``'s threshold grid. Slow (a primal fit on 15k texts): a minute or more per
  setting.

The test splits are never read, so settings can be chosen from this output and then reported once
with ``kb_accuracy.py``. Uses the embedding cache of ``kb_accuracy.py`` (``--cache``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kb_accuracy import DEMO, CachedEncoder, article_id, intent_kb  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from knowledge.content import load_folder  # noqa: E402
from knowledge.engine import (  # noqa: E402
    EMBEDDING_WEIGHT,
    INTENT_PREFIX,
    LR_C,
    NEGATIVE_WEIGHT,
    Engine,
    Ranking,
)
from knowledge.evaluate import load_queries  # noqa: E402
from knowledge.out_of_scope import OUT_OF_SCOPE  # noqa: E402
from knowledge.policy import Thresholds, decide  # noqa: E402

ANSWERS = (0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1)
MAX_OOS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01)
MIN_SIM = (0.3, 0.35, 0.4, 0.45)


@dataclass(frozen=True)
class Figures:
    """queries-dev figures for one engine + thresholds (counts, to avoid rounding ties)."""

    article: int
    intent: int
    none_answered: int
    wrong: int

    def text(self, n: dict[str, int]) -> str:
        scoped = n["article"] + n["intent"]
        return (f"articles {self.article / n['article']:6.1%} ({self.article}/{n['article']})  "
                f"intents {self.intent / n['intent']:6.1%}  "
                f"none answered {self.none_answered / n['none']:5.1%} "
                f"({self.none_answered}/{n['none']})  "
                f"wrong {self.wrong / scoped:5.1%} ({self.wrong})")


def fernhill_figures(rankings: list[Ranking], expects: list[str], t: Thresholds) -> Figures:
    """The figures of knowledge.evaluate for precomputed rankings (first message: misses 0)."""
    article = intent = none_answered = wrong = 0
    for r, expect in zip(rankings, expects, strict=True):
        c = decide(r.candidates, t, similarity=r.similarity, coverage=r.coverage,
                   out_of_scope=r.out_of_scope, foreign_names=r.foreign_names)
        answered = c.kind in ("answer", "intent") and c.top is not None
        label = c.top.label if answered else None  # type: ignore[union-attr]
        if expect == "none":
            none_answered += answered
        else:
            right = label == expect
            wrong += answered and not right
            if expect.startswith(INTENT_PREFIX):
                intent += right
            else:
                article += right
    return Figures(article, intent, none_answered, wrong)


def fernhill(encoder: CachedEncoder, settings: list[dict], args: argparse.Namespace) -> None:
    kb = load_folder(DEMO)
    lines = load_queries(DEMO / "queries-dev.jsonl")
    expects = [q.expect for q in lines]
    n = {"none": sum(e == "none" for e in expects),
         "intent": sum(e.startswith(INTENT_PREFIX) for e in expects)}
    n["article"] = len(expects) - n["none"] - n["intent"]
    grid = [Thresholds(answer=a, clarify_margin=m, max_out_of_scope=o, min_similarity=s)
            for a, m, o, s in itertools.product(ANSWERS, MARGINS, MAX_OOS, MIN_SIM)]
    print(f"Fernhill dev ({len(lines)} lines; {len(grid)} threshold points per setting)")
    for options in settings:
        engine = Engine.build(kb, encoder, **options)
        rankings = [engine.analyze(q.text) for q in lines]
        current = fernhill_figures(rankings, expects, Thresholds())
        scoped = n["article"] + n["intent"]
        ok = []
        for t in grid:
            f = fernhill_figures(rankings, expects, t)
            if (f.none_answered <= args.max_none * n["none"]
                    and f.wrong <= args.max_wrong * scoped
                    and f.intent >= args.min_intent * n["intent"]):
                ok.append((f, t))
        print(f"  {_name(options)}")
        print(f"    default thresholds: {current.text(n)}")
        if not ok:
            print("    no grid point meets the limits")
            continue
        ok.sort(key=lambda p: (-p[0].article, p[0].none_answered, p[0].wrong, -p[0].intent,
                               -p[1].clarify_margin, -p[1].min_similarity))
        best_article = ok[0][0].article
        tops = [p for p in ok if p[0].article == best_article]
        print(f"    best ({len(tops)} grid points reach it): {ok[0][0].text(n)}")
        for f, t in tops[: args.show]:
            print(f"      answer {t.answer}, margin {t.clarify_margin}, max_oos "
                  f"{t.max_out_of_scope}, min_sim {t.min_similarity}: {f.text(n)}")


def banking77(data: Path, encoder: CachedEncoder, settings: list[dict]) -> None:
    with (data / "banking77" / "train.csv").open(encoding="utf-8") as fh:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    by_label: dict[str, list[str]] = defaultdict(list)
    for x, y in rows:
        by_label[y].append(x)
    shots = []
    used: set[str] = set()
    for seed in (0, 1, 2):
        rng = random.Random(seed)
        few = {y: rng.sample(xs, 10) for y, xs in by_label.items()}
        shots.append(few)
        used |= {x for xs in few.values() for x in xs}
    rest = [(x, y) for x, y in rows if x not in used]
    held = random.Random(99).sample(rest, min(3000, len(rest)))
    encoder.encode([x for x, _ in rows])
    print(f"BANKING77 10-shot, scored on {len(held)} held-out train texts (not test)")
    for options in settings:
        accs = []
        start = time.perf_counter()
        for few in shots:
            engine = Engine.build(intent_kb(few), encoder, **options)
            accs.append(np.mean([engine.analyze(x).candidates[0].label == article_id(y)
                                 for x, y in held]))
        print(f"  {_name(options)}: {np.mean(accs):.2%}  (seeds "
              f"{', '.join(f'{a:.1%}' for a in accs)}; {time.perf_counter() - start:.0f} s)")


def clinc_score(rankings: list[Ranking], labels: list[str], t: Thresholds) -> tuple[float, float]:
    """(in-scope lines answered right, OOS lines not answered) as shares; "" labels are OOS."""
    right = kept = 0
    for r, y in zip(rankings, labels, strict=True):
        c = decide(r.candidates, t, similarity=r.similarity, coverage=r.coverage,
                   out_of_scope=r.out_of_scope, foreign_names=r.foreign_names)
        answered = c.kind in ("answer", "intent")
        if y:
            right += answered and c.top is not None and c.top.label == y
        else:
            kept += not answered
    n_oos = sum(not y for y in labels)
    return right / (len(labels) - n_oos), kept / n_oos


def clinc150(data: Path, encoder: CachedEncoder, settings: list[dict]) -> None:
    sets = json.loads((data / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    by_label: dict[str, list[str]] = defaultdict(list)
    for x, y in sets["train"]:
        by_label[y].append(x)
    kb = intent_kb(by_label)
    negatives = [*OUT_OF_SCOPE, *(x for x, _ in sets["oos_train"])]
    items = [(x, article_id(y)) for x, y in sets["val"]] + [(x, "") for x, _ in sets["oos_val"]]
    encoder.encode([x for k in ("train", "oos_train", "val", "oos_val") for x, _ in sets[k]])
    grid = [Thresholds(answer=a, clarify_margin=m, min_similarity=s, max_out_of_scope=o)
            for a in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6) for m in (0.0, 0.05)
            for s in (0.0, 0.4) for o in (0.3, 0.5, 0.7, 0.9, 1.01)]
    print("CLINC150 val + oos_val (not test)")
    for options in settings:
        start = time.perf_counter()
        engine = Engine.build(kb, encoder, negatives=negatives, **options)
        rankings = [engine.analyze(x) for x, _ in items]
        labels = [y for _, y in items]
        top1 = np.mean([r.candidates[0].label == y for r, y in zip(rankings, labels, strict=True)
                        if y])
        auroc = roc_auc_score([0 if y else 1 for y in labels],
                              [-r.candidates[0].score for r in rankings])

        best = max(grid, key=lambda t: sum(clinc_score(rankings, labels, t)))
        acc, recall = clinc_score(rankings, labels, best)
        print(f"  {_name(options)}: top-1 {top1:.2%}, AUROC {auroc:.3f}, at best val threshold "
              f"in-scope {acc:.2%} + OOS recall {recall:.2%} = {acc + recall:.4f} (answer "
              f"{best.answer}, margin {best.clarify_margin}, max_oos {best.max_out_of_scope}, "
              f"min_sim {best.min_similarity}; {time.perf_counter() - start:.0f} s)")


def _name(options: dict) -> str:
    return (f"embedding_weight {options['embedding_weight']}, negative_weight "
            f"{options['negative_weight']}, C {options['c']}")


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=None, help="as in kb_accuracy.py")
    parser.add_argument("--what", default="fernhill", help="fernhill,banking77,clinc150")
    parser.add_argument("--embedding-weight", default=str(EMBEDDING_WEIGHT))
    parser.add_argument("--negative-weight", default=str(NEGATIVE_WEIGHT))
    parser.add_argument("--c", default=str(LR_C))
    parser.add_argument("--max-none", type=float, default=0.05,
                        help="largest share of `none` lines answered (default 0.05)")
    parser.add_argument("--max-wrong", type=float, default=0.046,
                        help="largest share of in-scope lines answered wrongly (default 0.046)")
    parser.add_argument("--min-intent", type=float, default=0.90)
    parser.add_argument("--show", type=int, default=5, help="grid points printed per setting")
    args = parser.parse_args()
    settings = [{"embedding_weight": w, "negative_weight": nw, "c": c}
                for w in _floats(args.embedding_weight)
                for nw in _floats(args.negative_weight) for c in _floats(args.c)]
    encoder = CachedEncoder(args.cache)
    what = set(args.what.split(","))
    if "fernhill" in what:
        fernhill(encoder, settings, args)
    if "banking77" in what:
        banking77(args.data, encoder, settings)
    if "clinc150" in what:
        clinc150(args.data, encoder, settings)
    encoder.save()


if __name__ == "__main__":
    main()
