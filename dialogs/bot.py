"""The bot's turn: from a customer message and the conversation state to replies and new state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from dialogs.replies import CLARIFY_NONE, HANDOFF_UNAVAILABLE, SHARED, intent_reply
from gateway.messages import QuickReply
from knowledge.answerer import Answerer


@dataclass(frozen=True)
class Reply:
    """One message the bot sends."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()


@dataclass(frozen=True)
class Turn:
    """What the bot decided for one customer message."""

    replies: tuple[Reply, ...]
    state: dict[str, Any]
    decision: str
    article_id: str | None = None
    intent: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _quick_replies(decision: Any) -> tuple[QuickReply, ...]:
    return tuple(QuickReply(title, payload) for title, payload in decision.quick_replies)


# Replies are Markdown, which each adapter converts to what its channel shows (Telegram HTML,
# plain text with links); only SMS and WhatsApp get a different text, the article's `sms` variant.
OWN_VARIANT = frozenset({"webchat", "sms", "whatsapp"})


def content_variant(channel: str) -> str:
    """Which rendering of an answer to ask the knowledge base for on this channel."""
    return channel if channel in OWN_VARIANT else "webchat"


class Bot:
    """Answers from the knowledge base and recognises intents; keeps the miss count in state."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer

    async def respond(
        self,
        text: str,
        postback: str | None,
        channel: str,
        state: dict[str, Any],
        shared: str | None = None,
    ) -> Turn:
        """Decide the reply to one message: text, a pressed quick reply, or something shared."""
        misses = int(state.get("misses", 0))
        if shared in SHARED and not text.strip() and postback is None:
            return Turn((Reply(SHARED[shared]),), state, "acknowledged")
        channel = content_variant(channel)
        if postback == "clarify:none":
            return Turn((Reply(CLARIFY_NONE),), {**state, "offered": []}, "fallback")
        if postback == "handoff:request":
            return Turn((Reply(HANDOFF_UNAVAILABLE),), {**state, "offered": []}, "handoff")
        decision = None
        if postback is not None:
            decision = await asyncio.to_thread(self.answerer.for_postback, postback, channel)
        if decision is None:
            # Text, or a button whose payload the knowledge base does not know: read its words.
            decision = await asyncio.to_thread(self.answerer.query, text, channel, misses)
        return self._turn(decision, state, misses)

    def _turn(self, decision: Any, state: dict[str, Any], misses: int) -> Turn:
        quick = _quick_replies(decision)
        missed = decision.decision in {"fallback", "clarify"}
        new_state = {
            **state,
            "misses": misses + 1 if missed else 0,
            "offered": [{"title": q.title, "payload": q.payload} for q in quick],
        }
        meta = {"decision": decision.decision, "score": round(float(decision.score), 4)}
        if decision.decision == "intent":
            text = intent_reply(decision.intent)
            return Turn((Reply(text),), new_state, "intent", intent=decision.intent, meta=meta)
        if decision.decision == "handoff":
            new_state["misses"] = 0
            # Until agents are connected, promising a person would be a lie.
            return Turn((Reply(HANDOFF_UNAVAILABLE),), new_state, "handoff", meta=meta)
        return Turn(
            (Reply(decision.text, quick),),
            new_state,
            decision.decision,
            article_id=decision.article_id,
            meta={**meta, "article_id": decision.article_id},
        )
