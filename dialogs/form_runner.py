"""Runs the self-service flows as Rasa forms: extract, validate, ask, submit — one turn at a time.

The form's progress lives in the conversation state (`state["flow"]`), which the router saves
with the transcript, so a slot asked on web chat can be answered by SMS. Every decision about a
slot is made by the rasa-sdk actions (`validate_<form>`, `action_ask_<slot>`, the submit action),
reached through an ActionClient (in-process or a Rasa action server); this module only keeps the
loop: which slot is requested, how many tries it took, when to leave, and the one-time code that
proves an order is the customer's.

    message ─▶ leave? ─▶ code? ─▶ extract candidates ─▶ validate_<form> ─▶ slot filled?
                                                   │ no: a question? ─▶ KB answer, ask again
                                                   │ no: second miss ─▶ offer a person
                                                   ▼ yes
                              next empty slot ─▶ action_ask_<slot>  │  none left ─▶ submit
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialogs.action_client import ActionClient, ActionFailed, action_call
from dialogs.actions.common import EMAIL, HANDOFF, LEAVE, SLOT_VALUE, VERIFY, order_number_in
from dialogs.commerce import Commerce
from dialogs.flow_tracker import Customer, extract_candidates, rasa_tracker
from dialogs.flows import FLOWS, REQUESTED_SLOT, SLOTS, Flow, domain
from gateway.messages import Evidence
from gateway.one_time_code import check, issue

log = logging.getLogger(__name__)

LEAVE_WORDS = re.compile(
    r"^\s*(never ?mind|nevermind|forget (it|that)|stop|quit|cancel( that| it| this)?|"
    r"no thanks?)\s*[.!]*\s*$",
    re.IGNORECASE,
)
QUESTION = re.compile(
    r"\?\s*$|^\s*(how|what|when|where|why|which|who|do|does|can|could|is|are|will|would)\b",
    re.IGNORECASE,
)
CODE = re.compile(r"^\s*\d{3}\s?\d{3}\s*$")
MAX_TRIES = 2
HUMAN_INTENTS = frozenset({"human_agent", "complaint"})

LEFT = "OK, I've stopped there. Anything else I can help with?"
HANDING_OFF = "OK, I'm passing this to a person from our Customer Care team."
STILL_STUCK = "Sorry, I still couldn't get that. Would you like a person to help?"
BROKEN = "Sorry, something went wrong on my side. Would you like a person to help?"
RESUME = "Back to where we were:"


@dataclass(frozen=True)
class Said:
    """One reply: text and quick replies as (title, payload)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """What a flow decided for one message."""

    replies: tuple[Said, ...]
    state: dict[str, Any]
    intent: str | None
    handoff: str | None = None
    code_to: str | None = None
    code: str | None = None
    evidence: tuple[Evidence, ...] = ()
    article_id: str | None = None


# What the knowledge base makes of a message asked mid-form: ("answer", article id, reply text),
# ("intent", intent name, ""), or None when neither.
AskKnowledge = Callable[[str], Awaitable[tuple[str, str, str] | None]]


def is_code_entry(text: str, state: dict[str, Any]) -> bool:
    """True when the message is a one-time code the flow is waiting for (kept out of history)."""
    verify = (state.get("flow") or {}).get("verify") or {}
    return bool(verify.get("challenge")) and bool(CODE.match(text))


def without_flow(state: dict[str, Any]) -> dict[str, Any]:
    """The state with no flow in progress."""
    return {k: v for k, v in state.items() if k != "flow"}


@dataclass
class _Turn:
    """Working memory for one message of a flow."""

    flow: Flow
    progress: dict[str, Any]
    customer: Customer
    text: str
    said: list[Said] = field(default_factory=list)
    ended: bool = False


class FormRunner:
    """Keeps the form loop; every decision about slots is an action's."""

    def __init__(
        self, actions: ActionClient, commerce: Commerce | None = None, can_text: bool = True
    ) -> None:
        self.actions = actions
        # Whether a one-time code can be texted (SMS configured); the actions word their offer
        # accordingly.
        self.can_text = can_text
        # The backend the in-process actions use; kept to be closed at shutdown (and reached by
        # tests). Actions on an action server have their own.
        self.commerce = commerce
        self._domain = domain()

    async def close(self) -> None:
        """Release the action client's and the backend's connections."""
        await self.actions.close()
        close = getattr(self.commerce, "close", None)
        if close is not None:
            await close()

    def active(self, state: dict[str, Any], postback: str | None) -> bool:
        """True when this message belongs to a flow: one is in progress, or a flow button."""
        if postback is not None and postback.startswith(("flow:", SLOT_VALUE)):
            return True
        return bool(state.get("flow")) and postback is None

    async def start(
        self, intent: str, text: str, state: dict[str, Any], customer: Customer,
        carried: dict[str, Any] | None = None,
    ) -> Step:
        """Begin the flow for a recognised intent, taking any slot values the message holds."""
        flow = FLOWS[intent]
        progress = {"intent": intent, "slots": dict(carried or {}), "requested": None,
                    "attempts": {}, "proven": []}
        turn = _Turn(flow, progress, customer, text)
        candidates = extract_candidates(text, flow, requested=None)
        await self._advance(turn, candidates, state)
        return self._step(turn, state)

    async def resume(
        self, text: str, postback: str | None, state: dict[str, Any], customer: Customer,
        ask_kb: AskKnowledge,
    ) -> Step | None:
        """The flow's next step; None when the message leaves the flow for the bot to handle."""
        progress = dict(state.get("flow") or {})
        if postback is not None and postback.startswith("flow:"):
            return await self._button(postback, progress, state, customer)
        if not progress:
            return None  # a button of a flow that has ended: the bot reads it as words
        flow = FLOWS[progress["intent"]]
        turn = _Turn(flow, progress, customer, text)
        if postback is not None and postback.startswith(SLOT_VALUE):
            turn.text = text = postback.removeprefix(SLOT_VALUE)
        elif LEAVE_WORDS.match(text):
            return Step((Said(LEFT),), without_flow(state), flow.intent)
        if is_code_entry(text, state):
            return await self._code(turn, state)
        # Anything but the code means the customer moved on from proving the order is theirs.
        progress.pop("verify", None)
        requested = progress.get("requested")
        typed = postback is None
        if typed and QUESTION.search(text) and not (order_number_in(text) or EMAIL.search(text)):
            found = await ask_kb(text)
            if found is not None and found[0] == "intent" and found[1] in HUMAN_INTENTS:
                return None
            if found is not None and found[0] == "answer":
                return await self._answered(turn, found, state)
        await self._advance(turn, extract_candidates(text, flow, requested), state)
        missed = requested and not turn.ended and progress["slots"].get(requested) is None
        if missed and typed and not progress.get("verify"):
            # Not an answer to what we asked: maybe a request for a person or a change of mind.
            # (Questions were answered above; an article found for a failed answer is too often
            # a guess, so it is not offered here.)
            found = await ask_kb(text)
            if found is not None and found[0] == "intent" and found[1] in HUMAN_INTENTS:
                return None
            if found is not None and found[0] == "intent" and _switches(flow, found[1]):
                carried = {k: v for k, v in progress["slots"].items()
                           if k == "order_number" and v}
                return await self.start(found[1], text, state, customer, carried)
        return self._step(turn, state)

    # ---- one turn of the form ------------------------------------------------------------

    async def _advance(
        self, turn: _Turn, candidates: dict[str, Any], state: dict[str, Any]
    ) -> None:
        """Validate what the customer gave, then ask for the next slot or submit."""
        progress, flow = turn.progress, turn.flow
        requested = progress.get("requested")
        complained = False
        try:
            if candidates and flow.form:
                result = await self._run(f"validate_{flow.form}", turn, candidates)
                self._apply(turn, result["events"])
                complained = self._say(turn, result["responses"])
            if progress["slots"].get("backend_error"):
                turn.ended = True
                return
            waiting = requested and progress["slots"].get(requested) is None
            if waiting and turn.text.strip() and not progress.get("verify"):
                tries = progress["attempts"].get(requested, 0) + 1
                progress["attempts"] = {**progress["attempts"], requested: tries}
                if tries >= MAX_TRIES:
                    turn.said.append(Said(STILL_STUCK, _offer("flow_failed")))
                    return
            following = next((s for s in flow.slots if progress["slots"].get(s) is None), None)
            if "chosen" in progress:
                # The validator chose the next slot itself (a FormValidationAction overriding
                # required_slots sets requested_slot; None means the form is complete).
                following = progress.pop("chosen")
            progress["requested"] = following
            if following is None:
                result = await self._run(flow.submit, turn, {})
                self._apply(turn, result["events"])
                self._say(turn, result["responses"])
                turn.ended = True
            elif not (complained and following == requested) and not progress.get("verify"):
                result = await self._run(f"action_ask_{following}", turn, {})
                self._say(turn, result["responses"])
        except ActionFailed as exc:
            log.error("flow %s: %s", flow.intent, exc)
            turn.said.append(Said(BROKEN, _offer("flow_failed")))
            turn.ended = True

    async def _run(self, name: str, turn: _Turn, candidates: dict[str, Any]) -> dict[str, Any]:
        tracker = rasa_tracker(
            turn.flow.intent, turn.flow.form, turn.progress, turn.customer, turn.text,
            candidates, self.can_text,
        )
        return await self.actions.run(action_call(name, turn.customer.id, tracker, self._domain))

    def _apply(self, turn: _Turn, events: list[dict[str, Any]]) -> None:
        slots = dict(turn.progress["slots"])
        for event in events:
            if event.get("event") == "slot" and event.get("name") in SLOTS:
                slots[event["name"]] = event.get("value")
            elif event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
                turn.progress["chosen"] = event.get("value")
            elif event.get("event") == "active_loop" and event.get("name") is None:
                turn.ended = True
        turn.progress["slots"] = slots

    def _say(self, turn: _Turn, responses: list[dict[str, Any]]) -> bool:
        """Collect the actions' messages; True when any was said."""
        for response in responses:
            verify = (response.get("custom") or {}).get("verify")
            if verify:
                turn.progress["verify"] = {**verify, "challenge": None}
            if response.get("text"):
                buttons = tuple(
                    (b["title"], b["payload"]) for b in response.get("buttons") or ()
                    if b.get("title") and b.get("payload")
                )
                turn.said.append(Said(response["text"], buttons))
        return bool(responses)

    def _step(self, turn: _Turn, state: dict[str, Any], **extra: Any) -> Step:
        new_state = without_flow(state) if turn.ended else {**state, "flow": turn.progress}
        return Step(tuple(turn.said), new_state, turn.flow.intent, **extra)

    # ---- buttons, codes and questions ---------------------------------------------------

    async def _button(
        self, payload: str, progress: dict[str, Any], state: dict[str, Any], customer: Customer
    ) -> Step:
        intent = progress.get("intent")
        if payload.startswith(HANDOFF):
            reason = payload.removeprefix(HANDOFF) or "flow_failed"
            return Step((Said(HANDING_OFF),), without_flow(state), intent, handoff=reason)
        verify = progress.get("verify")
        if payload == VERIFY and verify and intent:
            code, challenge = issue("phone", verify["value"], datetime.now(UTC))
            progress = {**progress, "verify": {**verify, "challenge": challenge.to_dict()}}
            masked = verify["value"][:2] + "*" * (len(verify["value"]) - 6) + verify["value"][-4:]
            said = Said(f"I've texted a 6-digit code to {masked}. Type it here to confirm.")
            return Step((said,), {**state, "flow": progress}, intent,
                        code_to=verify["value"], code=code)
        if payload == LEAVE or not progress:
            return Step((Said(LEFT),), without_flow(state), intent)
        return Step((), state, intent)  # an old button: nothing to do

    async def _code(self, turn: _Turn, state: dict[str, Any]) -> Step:
        progress = turn.progress
        verify = progress["verify"]
        evidence, left = check(verify["challenge"], turn.text, datetime.now(UTC))
        if evidence is None:
            if left is None:
                progress.pop("verify")
                turn.said.append(Said("That code has expired or had too many tries, so I can't "
                                      "show that order here. A person can help.",
                                      _offer("verification_failed")))
            else:
                progress["verify"] = {**verify, "challenge": left.to_dict()}
                turn.said.append(Said(f"That code doesn't match. {left.attempts_left} tries left."))
            return self._step(turn, state)
        progress.pop("verify")
        progress["proven"] = [*progress.get("proven", []), verify["value"]]
        turn.said.append(Said("Thanks, that's confirmed."))
        await self._advance(turn, {"order_number": verify["order_number"]}, state)
        return self._step(turn, state, evidence=(evidence,))

    async def _answered(
        self, turn: _Turn, found: tuple[str, str, str], state: dict[str, Any]
    ) -> Step:
        """Answer a question asked mid-form, then ask again for the slot we were waiting for."""
        _, article_id, text = found
        turn.said[:] = [Said(text)]
        requested = turn.progress.get("requested")
        if requested:
            try:
                result = await self._run(f"action_ask_{requested}", turn, {})
            except ActionFailed:
                result = {"responses": []}
            for response in result["responses"]:
                if response.get("text"):
                    buttons = tuple(
                        (b["title"], b["payload"]) for b in response.get("buttons") or ()
                    )
                    turn.said.append(Said(f"{RESUME} {response['text']}", buttons))
        step = self._step(turn, state)
        return Step(step.replies, step.state, step.intent, article_id=article_id)


def _switches(current: Flow, intent: str) -> bool:
    """True when a recognised intent is another flow that collects slots (a change of mind)."""
    other = FLOWS.get(intent)
    return other is not None and other.intent != current.intent and bool(other.slots)


def _offer(reason: str) -> tuple[tuple[str, str], ...]:
    return (("Talk to a person", f"{HANDOFF}{reason}"), ("No thanks", LEAVE))
