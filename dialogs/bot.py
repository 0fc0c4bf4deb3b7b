"""The bot's turn: from a customer message and the conversation state to replies and new state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialogs import continue_by_sms
from dialogs.replies import CLARIFY_NONE, SHARED, intent_reply
from gateway.messages import SHARE_CONTACT, Address, Evidence, Outbound, QuickReply
from knowledge.answerer import Answerer


@dataclass(frozen=True)
class Reply:
    """One message the bot sends; `to` when it goes elsewhere than the customer's reply address."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    to: Address | None = None


@dataclass(frozen=True)
class Turn:
    """What the bot decided for one customer message."""

    replies: tuple[Reply, ...]
    state: dict[str, Any]
    decision: str
    article_id: str | None = None
    intent: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Sent but never written to the transcript (a one-time code must not sit in any history).
    private: tuple[Outbound, ...] = ()
    # Identity proven during the turn, for the router to link.
    evidence: tuple[Evidence, ...] = ()
    # Why the conversation should go to a person now (human_agent, complaint, repeated_misses,
    # flow_failed, rule:…); the router opens the handoff when it can.
    handoff: str | None = None


# Intents that mean "get me a person": the reason the handoff records is the intent's name.
HANDOFF_INTENTS = frozenset({"human_agent", "complaint"})


def _quick_replies(decision: Any) -> tuple[QuickReply, ...]:
    return tuple(QuickReply(title, payload) for title, payload in decision.quick_replies)


# Replies are Markdown, which each adapter converts to what its channel shows (Telegram HTML,
# plain text with links); only SMS and WhatsApp get a different text, the article's `sms` variant.
OWN_VARIANT = frozenset({"webchat", "sms", "whatsapp"})


def content_variant(channel: str) -> str:
    """Which rendering of an answer to ask the knowledge base for on this channel."""
    return channel if channel in OWN_VARIANT else "webchat"


def flow_turn(step: continue_by_sms.Step) -> Turn:
    """The turn for a step of the continue-by-SMS flow."""
    share = (QuickReply("Share my phone number", SHARE_CONTACT),) if step.share_contact else ()
    replies = tuple(Reply(text, share) for text in step.replies)
    replies += tuple(Reply(text, to=address) for address, text in step.texts)
    private: tuple[Outbound, ...] = ()
    if step.code_to and step.code:
        code_text = f"Your verification code is {step.code}. It expires in 10 minutes."
        private = (Outbound(Address("sms", step.code_to), code_text),)
    return Turn(replies, step.state, "flow", private=private, evidence=step.evidence)


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
        reply_channel: str | None = None,
    ) -> Turn:
        """Decide the reply to one message: text, a pressed quick reply, or something shared.

        `channel` is where the message came from; `reply_channel`, where the answer will go.
        """
        misses = int(state.get("misses", 0))
        if shared in SHARED and not text.strip() and postback is None:
            return Turn((Reply(SHARED[shared]),), state, "acknowledged")
        if postback is None:
            step = continue_by_sms.handle(text, state, channel, datetime.now(UTC))
            if step is not None:
                return flow_turn(step)
        channel = content_variant(reply_channel or channel)
        if postback == "clarify:none":
            return Turn((Reply(CLARIFY_NONE),), {**state, "offered": []}, "fallback")
        if postback == "handoff:request":
            # The router hands off and says so; the bot only names the reason.
            return Turn((), {**state, "offered": []}, "handoff", handoff="human_agent")
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
        if decision.decision == "intent" and decision.intent in HANDOFF_INTENTS:
            return Turn(
                (), new_state, "handoff", intent=decision.intent, meta=meta, handoff=decision.intent
            )
        if decision.decision == "intent":
            text = intent_reply(decision.intent)
            return Turn((Reply(text),), new_state, "intent", intent=decision.intent, meta=meta)
        if decision.decision == "handoff":
            new_state["misses"] = 0
            return Turn((), new_state, "handoff", meta=meta, handoff="repeated_misses")
        return Turn(
            (Reply(decision.text, quick),),
            new_state,
            decision.decision,
            article_id=decision.article_id,
            meta={**meta, "article_id": decision.article_id},
        )
