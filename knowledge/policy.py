"""Decision policy: turn ranked candidates into answer / intent / clarify / fallback / handoff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from knowledge.engine import Candidate

DecisionKind = Literal["answer", "intent", "clarify", "handoff", "fallback"]

#: Confidence = probability x coverage**COVERAGE_POWER, where coverage is the share of the
#: message's content words the knowledge base knows. A message about an unknown brand or topic
#: ("REI's return policy", "my landlord kept my deposit") can match an article very well on the
#: words it shares with it; the unknown words are what give it away. Chosen on queries-dev
#: (the validation set): 2 rejected most such lines while costing few in-scope answers.
COVERAGE_POWER = 2.0


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on calibrated confidences.

    Defaults chosen by 5-fold cross-validation on the demo KB's own titles, questions and intent
    examples (out-of-fold scores; no dev query involved), then checked on queries-dev:
    - answer 0.40: out-of-fold, 71% of texts reach it and 85% of those are right. The KB's own
      questions are deliberately the hard, overlapping cases (top-1 is 73% out-of-fold against
      92% on dev), so this is a pessimistic estimate; 0.45 (86% out-of-fold) answered fewer dev
      lines without lowering the share of `none` lines answered (3%), so we kept 0.40;
    - clarify_margin 0.10: out-of-fold, when the top two are closer than this the top-1 is right
      only 38% of the time but the right label is among the two 77% of the time: ask;
    - min_similarity 0.40: about the 2nd percentile of an in-scope text's cosine to its nearest
      other training text, so it only rejects messages unlike anything the KB was taught.
    """

    answer: float = 0.40
    clarify_margin: float = 0.10
    min_similarity: float = 0.40
    handoff_after_misses: int = 2


@dataclass(frozen=True)
class Choice:
    """What decide() picked; the answerer turns it into a Decision with text."""

    kind: DecisionKind
    score: float
    top: Candidate | None
    options: tuple[Candidate, ...]  # the articles offered by a clarify


def confidence(candidate: Candidate, coverage: float) -> float:
    """Probability discounted by how much of the message the KB knows about."""
    return candidate.score * coverage**COVERAGE_POWER


def decide(
    candidates: list[Candidate] | tuple[Candidate, ...],
    thresholds: Thresholds,
    misses: int = 0,
    *,
    similarity: float = 1.0,
    coverage: float = 1.0,
) -> Choice:
    """Apply the thresholds; misses counts the consecutive fallbacks before this message."""
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    in_scope = bool(ranked) and similarity >= thresholds.min_similarity
    if in_scope:
        top = ranked[0]
        first = confidence(top, coverage)
        second = confidence(ranked[1], coverage) if len(ranked) > 1 else 0.0
        if top.kind == "intent" and first >= thresholds.answer:
            # Intents are acted on by the dialog layer, which confirms before doing anything,
            # so no margin is required against a runner-up.
            return Choice("intent", first, top, ())
        clear = first - second >= thresholds.clarify_margin
        if top.kind == "article" and first >= thresholds.answer and clear:
            return Choice("answer", first, top, ())
        pair = ranked[:2]
        if (
            len(pair) == 2
            and all(c.kind == "article" for c in pair)
            and not clear
            and first + second >= thresholds.answer
        ):
            # Together the two are likely; we just can't tell which: let the customer pick.
            return Choice("clarify", first, top, tuple(pair))
    score = confidence(ranked[0], coverage) if ranked else 0.0
    if misses + 1 >= thresholds.handoff_after_misses:
        return Choice("handoff", score, None, ())
    return Choice("fallback", score, None, ())


@dataclass(frozen=True)
class Decision:
    """What the bot does with one message, and what it says on the channel."""

    decision: DecisionKind
    article_id: str | None
    intent: str | None
    score: float
    candidates: tuple[Candidate, ...]
    text: str
    quick_replies: tuple[tuple[str, str], ...] = ()  # (title, payload)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the API and transcripts."""
        return {
            "decision": self.decision,
            "article_id": self.article_id,
            "intent": self.intent,
            "score": self.score,
            "candidates": [
                {"article_id": c.article_id, "intent": c.intent, "score": c.score}
                for c in self.candidates
            ],
            "text": self.text,
            "quick_replies": [{"title": t, "payload": p} for t, p in self.quick_replies],
        }
