"""Score an answerer on labelled queries (the queries-dev.jsonl format of the demo README)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.answerer import Answerer
from knowledge.content import ContentError, ContentErrors
from knowledge.engine import INTENT_PREFIX

NONE = "none"


@dataclass(frozen=True)
class QueryLine:
    """One labelled message: expect is an article id, 'intent:<name>' or 'none'."""

    text: str
    expect: str
    line: int = 0


@dataclass(frozen=True)
class Outcome:
    """What the answerer did with one line, and whether that counts as correct."""

    query: QueryLine
    decision: str
    label: str | None  # article id or intent:<name> the bot went with, if any
    correct: bool
    clarify_offered_right: bool


def load_queries(path: str | Path) -> list[QueryLine]:
    """Read a .jsonl file; raises ContentErrors naming path:line for every malformed line."""
    lines: list[QueryLine] = []
    errors: list[ContentError] = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(ContentError(str(path), n, f"not valid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            errors.append(ContentError(str(path), n, "each line must be a JSON object"))
            continue
        unknown = sorted(set(obj) - {"text", "expect"})
        if unknown:
            errors.append(ContentError(str(path), n, f"unknown key(s): {', '.join(unknown)}"))
        text, expect = obj.get("text"), obj.get("expect")
        if not isinstance(text, str) or not text.strip():
            errors.append(ContentError(str(path), n, "'text' must be a non-empty string"))
        elif not isinstance(expect, str) or not expect.strip():
            errors.append(ContentError(str(path), n, "'expect' must be a non-empty string"))
        elif not unknown:
            lines.append(QueryLine(text, expect.strip(), n))
    if errors:
        raise ContentErrors(errors)
    return lines


def score_line(query: QueryLine, answerer: Answerer) -> Outcome:
    """Run one line and score it as the demo README defines."""
    d = answerer.query(query.text)
    label = d.article_id if d.decision == "answer" else (
        INTENT_PREFIX + d.intent if d.decision == "intent" and d.intent else None)
    if query.expect == NONE:
        correct = d.decision not in ("answer", "intent")
    else:
        correct = label == query.expect
    offered = d.decision == "clarify" and any(
        p == f"article:{query.expect}" for _, p in d.quick_replies)
    return Outcome(query, d.decision, label, correct, offered)


@dataclass(frozen=True)
class Report:
    """Outcomes of an evaluation run, with the figures the README asks to watch."""

    outcomes: tuple[Outcome, ...]

    def _share(self, kind: str, pred: str) -> float:
        picked = [o for o in self.outcomes if _kind(o.query.expect) == kind]
        if not picked:
            return 0.0
        return sum(_check(o, pred) for o in picked) / len(picked)

    @property
    def accuracy(self) -> float:
        """Correct lines over all lines."""
        return sum(o.correct for o in self.outcomes) / max(len(self.outcomes), 1)

    @property
    def article_accuracy(self) -> float:
        """Article lines answered with the expected article."""
        return self._share("article", "correct")

    @property
    def intent_accuracy(self) -> float:
        """Intent lines recognized as the expected intent."""
        return self._share("intent", "correct")

    @property
    def none_answered(self) -> float:
        """Share of `none` lines answered from an article or taken as an intent anyway."""
        return self._share("none", "answered")

    @property
    def wrong_answer_rate(self) -> float:
        """Share of in-scope lines answered (article or intent) with the wrong label."""
        scoped = [o for o in self.outcomes if _kind(o.query.expect) != "none"]
        return sum(_check(o, "wrong") for o in scoped) / max(len(scoped), 1)

    @property
    def clarify_with_right_answer(self) -> int:
        """Lines where the bot asked 'Did you mean' and offered the right article."""
        return sum(o.clarify_offered_right for o in self.outcomes)

    def lines(self) -> list[str]:
        """Printable figures, one per line."""
        n = {k: sum(_kind(o.query.expect) == k for o in self.outcomes)
             for k in ("article", "intent", "none")}
        return [
            f"lines                         {len(self.outcomes)}",
            f"overall accuracy              {self.accuracy:.1%}",
            f"article accuracy              {self.article_accuracy:.1%} of {n['article']}",
            f"intent accuracy               {self.intent_accuracy:.1%} of {n['intent']}",
            f"none correctly not answered   {1 - self.none_answered:.1%} of {n['none']}",
            f"none answered anyway          {self.none_answered:.1%}",
            f"in-scope answered wrongly     {self.wrong_answer_rate:.1%}",
            f"clarify offering right answer {self.clarify_with_right_answer}",
        ]


def _kind(expect: str) -> str:
    """'article', 'intent' or 'none' for an expect value."""
    if expect == NONE:
        return "none"
    return "intent" if expect.startswith(INTENT_PREFIX) else "article"


def _check(o: Outcome, what: str) -> bool:
    """Predicates the report's shares count."""
    if what == "correct":
        return o.correct
    if what == "answered":
        return o.decision in ("answer", "intent")
    return o.decision in ("answer", "intent") and not o.correct  # wrong


def evaluate(answerer: Answerer, lines: Iterable[QueryLine]) -> Report:
    """Score every line."""
    return Report(tuple(score_line(q, answerer) for q in lines))
