"""The bot's turn: from a customer message and the conversation state to replies and new state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialogs import continue_by_sms
from dialogs.flow_tracker import Customer as FlowCustomer
from dialogs.flows import FLOWS
from dialogs.form_runner import FormRunner, without_flow
from dialogs.form_runner import Step as FlowStep
from dialogs.replies import CLARIFY_NONE, SHARED, intent_reply
from gateway.messages import SHARE_CONTACT, Address, Evidence, Outbound, QuickReply
from gateway.stores.protocol import Customer
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


def flow_customer(customer: Customer | None) -> FlowCustomer:
    """Who is writing, with only the phones and emails someone has verified."""
    if customer is None:
        return FlowCustomer("anonymous")
    proven = [i for i in customer.identities if i.verified_by]
    return FlowCustomer(
        customer.id,
        phones=tuple(i.address for i in proven if i.channel == "phone"),
        emails=tuple(i.address for i in proven if i.channel == "email"),
    )


def self_service_turn(step: FlowStep, decision: str, meta: dict[str, Any]) -> Turn:
    """The turn for a step of a self-service flow; the last buttons are what SMS numbers."""
    replies = tuple(
        Reply(said.text, tuple(QuickReply(t, p) for t, p in said.buttons)) for said in step.replies
    )
    offered = next((r.quick_replies for r in reversed(replies) if r.quick_replies), ())
    state = {
        **step.state,
        "misses": 0,
        "offered": [{"title": q.title, "payload": q.payload} for q in offered],
    }
    private: tuple[Outbound, ...] = ()
    if step.code_to and step.code:
        code_text = f"Your Fernhill verification code is {step.code}. It expires in 10 minutes."
        private = (Outbound(Address("sms", step.code_to), code_text),)
    if step.handoff:
        decision = "handoff"
    elif step.article_id:
        decision = "answer"
    return Turn(
        replies, state, decision, article_id=step.article_id, intent=step.intent,
        meta={**meta, "decision": decision, "flow": step.intent,
              **({"article_id": step.article_id} if step.article_id else {})},
        private=private,
        evidence=step.evidence, handoff=step.handoff,
    )


class Bot:
    """Answers from the knowledge base and recognises intents; keeps the miss count in state.

    Recognised self-service intents run their flow (`flows`); without one the bot says honestly
    that it cannot do that here.
    """

    def __init__(self, answerer: Answerer, flows: FormRunner | None = None) -> None:
        self.answerer = answerer
        self.flows = flows

    async def respond(
        self,
        text: str,
        postback: str | None,
        channel: str,
        state: dict[str, Any],
        shared: str | None = None,
        reply_channel: str | None = None,
        customer: Customer | None = None,
    ) -> Turn:
        """Decide the reply to one message: text, a pressed quick reply, or something shared.

        `channel` is where the message came from; `reply_channel`, where the answer will go;
        `customer`, who wrote (their verified phones and emails open their orders to the flows).
        """
        misses = int(state.get("misses", 0))
        if shared in SHARED and not text.strip() and postback is None:
            return Turn((Reply(SHARED[shared]),), state, "acknowledged")
        if postback is None:
            step = continue_by_sms.handle(text, state, channel, datetime.now(UTC))
            if step is not None:
                return flow_turn(step)
        channel = content_variant(reply_channel or channel)
        who = flow_customer(customer)
        if self.flows is not None and self.flows.active(state, postback):
            turn = await self._continue_flow(text, postback, channel, state, who)
            if turn is not None:
                return turn
            state = without_flow(state)
            if postback is not None and postback.startswith("slot:"):
                # A button of a flow that has ended: read its value as if typed.
                text, postback = postback.removeprefix("slot:"), None
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
        if decision.decision == "intent" and self.flows is not None and decision.intent in FLOWS:
            step = await self.flows.start(decision.intent, text, state, who)
            meta = {"score": round(float(decision.score), 4)}
            return self_service_turn(step, "intent", meta)
        return self._turn(decision, state, misses)

    async def _continue_flow(
        self, text: str, postback: str | None, channel: str, state: dict[str, Any],
        who: FlowCustomer,
    ) -> Turn | None:
        """The flow's turn, or None when the message leaves the flow for the bot."""
        assert self.flows is not None

        async def ask_kb(question: str) -> tuple[str, str, str] | None:
            found = await asyncio.to_thread(self.answerer.query, question, channel, 0)
            if found.decision == "answer" and found.article_id:
                return ("answer", found.article_id, found.text)
            if found.decision == "intent" and found.intent:
                return ("intent", found.intent, "")
            return None

        step = await self.flows.resume(text, postback, state, who, ask_kb)
        return None if step is None else self_service_turn(step, "flow", {})

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
