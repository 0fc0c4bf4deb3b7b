"""Answerer: the knowledge engine's entry point for the gateway (message in, Decision out)."""

from __future__ import annotations

from knowledge.content import KnowledgeBase
from knowledge.embedder import Embedder, TextEncoder
from knowledge.engine import Candidate, Engine
from knowledge.policy import Choice, Decision, Thresholds, decide
from knowledge.render import render_article

CLARIFY_TEXT = "Did you mean one of these?"
FALLBACK_TEXT = (
    "Sorry, I'm not sure I understood. Could you say it another way? "
    "Or I can connect you with a person."
)
HANDOFF_TEXT = "I'm having trouble helping with this, so I'm connecting you with a person."
SOMETHING_ELSE = ("Something else", "clarify:none")
TALK_TO_PERSON = ("Talk to a person", "handoff:request")
ARTICLE_PAYLOAD = "article:"


class Answerer:
    """Decides what to do with a message and renders the reply for the channel.

    Holds only immutable state after construction, so query() can be called from several worker
    threads at once (the gateway uses asyncio.to_thread).
    """

    def __init__(self, kb: KnowledgeBase, engine: Engine, thresholds: Thresholds | None = None):
        self.kb = kb
        self.engine = engine
        self.thresholds = thresholds or Thresholds()
        self._articles = {a.id: a for a in kb.articles}

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        embedder: TextEncoder | None = None,
        thresholds: Thresholds | None = None,
    ) -> Answerer:
        """Train an engine for kb (loading the bundled embedder unless one is given)."""
        return cls(kb, Engine.build(kb, embedder or Embedder()), thresholds)

    def query(self, text: str, channel: str = "webchat", misses: int = 0) -> Decision:
        """Decide on one customer message; misses = consecutive fallbacks just before it."""
        ranking = self.engine.analyze(text)
        choice = decide(ranking.candidates, self.thresholds, misses,
                        similarity=ranking.similarity, coverage=ranking.coverage,
                        out_of_scope=ranking.out_of_scope,
                        foreign_names=ranking.foreign_names)
        return self._decision(choice, ranking.candidates[:5], channel)

    def for_postback(self, payload: str, channel: str = "webchat") -> Decision | None:
        """Decision for a quick-reply payload 'article:<id>'; None for other payloads."""
        if not payload.startswith(ARTICLE_PAYLOAD):
            return None
        article = self._articles.get(payload.removeprefix(ARTICLE_PAYLOAD))
        if article is None:
            return None
        return Decision("answer", article.id, None, 1.0, (), render_article(article, channel))

    def _decision(
        self, choice: Choice, candidates: tuple[Candidate, ...], channel: str
    ) -> Decision:
        """Attach the channel text and quick replies to a policy choice."""
        top = choice.top
        if choice.kind == "answer" and top is not None:
            text = render_article(self._articles[top.label], channel)
            return Decision("answer", top.label, None, choice.score, candidates, text)
        if choice.kind == "intent" and top is not None:
            # The dialog layer owns intents (slot filling, confirmation), so no text here.
            return Decision("intent", None, top.intent, choice.score, candidates, "")
        if choice.kind == "clarify":
            offered = [(self._articles[c.label].title, f"{ARTICLE_PAYLOAD}{c.label}")
                       for c in choice.options]
            replies = (*offered, SOMETHING_ELSE)
            return Decision("clarify", None, None, choice.score, candidates, CLARIFY_TEXT,
                            replies)
        if choice.kind == "handoff":
            return Decision("handoff", None, None, choice.score, candidates, HANDOFF_TEXT)
        return Decision("fallback", None, None, choice.score, candidates, FALLBACK_TEXT,
                        (TALK_TO_PERSON,))
