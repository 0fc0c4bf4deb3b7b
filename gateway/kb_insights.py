"""What editors learn from the question log: unanswered questions grouped, and how articles do."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from gateway.stores.protocol import AskedQuestion
from knowledge.embedder import TextEncoder

MISSED = frozenset({"fallback", "clarify", "handoff"})
HANDOFF_INTENTS = frozenset({"human_agent", "complaint"})
# Near-paraphrases of one need score above this with MiniLM; different needs rarely do.
GROUP_SIMILARITY = 0.7
RE_ASK_WINDOW = timedelta(minutes=10)


@dataclass
class QuestionGroup:
    """Unanswered questions that ask for the same thing."""

    texts: list[str] = field(default_factory=list)
    decisions: Counter = field(default_factory=Counter)
    last_at: str = ""
    centroid: np.ndarray | None = None

    def to_dict(self) -> dict:
        """JSON form: the most frequent wording first."""
        wording = Counter(t.strip().lower() for t in self.texts)
        representative = max(self.texts, key=lambda t: (wording[t.strip().lower()], -len(t)))
        return {
            "representative": representative,
            "count": len(self.texts),
            "examples": list(dict.fromkeys(self.texts))[:10],
            "decisions": dict(self.decisions),
            "last_at": self.last_at,
        }


def unanswered(questions: list[AskedQuestion]) -> list[AskedQuestion]:
    """The questions the bot could not answer: fallbacks, clarifications and handoffs."""
    return [q for q in questions if q.decision in MISSED and q.text.strip()]


def group_questions(questions: list[AskedQuestion], encoder: TextEncoder) -> list[QuestionGroup]:
    """Greedy grouping by embedding similarity, biggest group first."""
    if not questions:
        return []
    vectors = encoder.encode([q.text for q in questions])
    groups: list[QuestionGroup] = []
    sums: list[np.ndarray] = []
    for question, vector in zip(questions, vectors, strict=True):
        best, best_score = None, GROUP_SIMILARITY
        for index, group in enumerate(groups):
            score = float(vector @ group.centroid)
            if score >= best_score:
                best, best_score = index, score
        if best is None:
            groups.append(QuestionGroup())
            sums.append(np.zeros_like(vector))
            best = len(groups) - 1
        group = groups[best]
        group.texts.append(question.text)
        group.decisions[question.decision] += 1
        group.last_at = max(group.last_at, question.at.isoformat())
        sums[best] = sums[best] + vector
        group.centroid = sums[best] / np.linalg.norm(sums[best])
    return sorted(groups, key=lambda g: (-len(g.texts), g.last_at))


def effectiveness(questions: list[AskedQuestion]) -> list[dict]:
    """Per article: how often it answered, was asked again soon after, or ended in a handoff."""
    stats: dict[str, Counter] = defaultdict(Counter)
    by_conversation: dict[str, list[AskedQuestion]] = defaultdict(list)
    for question in questions:
        by_conversation[question.conversation_id].append(question)
    for thread in by_conversation.values():
        thread.sort(key=lambda q: q.at)
        for index, question in enumerate(thread):
            if question.decision != "answer" or question.article_id is None:
                continue
            counts = stats[question.article_id]
            counts["answered"] += 1
            later = thread[index + 1 :]
            if later and _asked_again(question, later[0]):
                counts["re_asked"] += 1
            if any(_is_handoff(q) for q in later):
                counts["handed_off"] += 1
    return [
        {
            "article_id": article_id,
            "answered": c["answered"],
            "re_asked": c["re_asked"],
            "handed_off": c["handed_off"],
        }
        for article_id, c in sorted(stats.items(), key=lambda kv: -kv[1]["answered"])
    ]


def _asked_again(answered: AskedQuestion, following: AskedQuestion) -> bool:
    if following.at - answered.at > RE_ASK_WINDOW:
        return False
    return following.decision in MISSED - {"handoff"} or (
        following.decision == "answer" and following.article_id == answered.article_id
    )


def _is_handoff(question: AskedQuestion) -> bool:
    return question.decision == "handoff" or question.intent in HANDOFF_INTENTS
