""" "Continue by SMS": a web chat customer proves a phone with a one-time code, then we text them.

Steps (state["continue_sms"]["step"]):

    (triggered) --number in message--> code ----right code----> done: phone linked, replies by SMS
         |                               |  ^
         +--ask for number--> number ----+  +--wrong code (tries left)
    "cancel" / "never mind" at any step leaves the flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.identity import normalize_phone
from gateway.messages import Address, Evidence
from gateway.one_time_code import check, issue

TRIGGER = re.compile(
    r"\b(continue|carry on|switch|move|go on|chat)\b.{0,40}\b(sms|text|texts|texting)\b"
    r"|\btext me\b",
    re.IGNORECASE,
)
LINK = re.compile(r"\b(link|share|add|verify)\b.{0,20}\b(phone|number)\b", re.IGNORECASE)
CANCEL = re.compile(r"^\s*(cancel|never ?mind|stop|forget it|no thanks?)\b", re.IGNORECASE)
PHONE = re.compile(r"\+?\d[\d\s().-]{8,18}\d")
MAX_NUMBER_TRIES = 2


@dataclass(frozen=True)
class Step:
    """What the flow decided: replies here, texts to send, proof gained, where to reply next."""

    replies: tuple[str, ...]
    state: dict[str, Any]
    code_to: str | None = None
    code: str | None = None
    evidence: tuple[Evidence, ...] = ()
    texts: tuple[tuple[Address, str], ...] = field(default=())
    share_contact: bool = False


def phone_in(text: str) -> str | None:
    """An E.164 number in the text; ten digits are read as a US/Canada number."""
    match = PHONE.search(text)
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group())
    if not match.group().lstrip().startswith("+"):
        digits = f"1{digits}" if len(digits) == 10 else digits
    return normalize_phone(f"+{digits}")


def masked(phone: str) -> str:
    """+1******0123: enough for the customer to recognise, too little to leak."""
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


def is_code_entry(text: str, state: dict[str, Any]) -> bool:
    """True when this message is the customer typing a code we are waiting for."""
    flow = state.get("continue_sms")
    return bool(flow and flow.get("step") == "code" and re.fullmatch(r"\s*\d{3}\s?\d{3}\s*", text))


def handle(text: str, state: dict[str, Any], channel: str, now: datetime) -> Step | None:
    """The flow's next step, or None when the message is not part of it."""
    flow = state.get("continue_sms")
    if flow is None and channel == "telegram" and (TRIGGER.search(text) or LINK.search(text)):
        # Telegram can prove the number itself: the customer shares their own contact card.
        share = "Tap the button below to share your phone number; then we can continue anywhere."
        return Step((share,), state, share_contact=True)
    if flow is None:
        if channel != "webchat" or not TRIGGER.search(text):
            return None
        number = phone_in(text)
        if number is not None:
            return _send_code(number, state, now)
        ask = "Sure! What's your mobile number? I'll text you a 6-digit code to confirm it."
        return Step((ask,), {**state, "continue_sms": {"step": "number", "tries": 0}})
    if CANCEL.match(text):
        return Step(("No problem, we'll carry on here.",), _without_flow(state))
    if flow["step"] == "number":
        return _number_step(text, state, flow, now)
    return _code_step(text, state, flow, now)


def _send_code(number: str, state: dict[str, Any], now: datetime) -> Step:
    code, challenge = issue("phone", number, now)
    reply = f"I've texted a 6-digit code to {masked(number)}. Type it here to confirm."
    flow = {"step": "code", "phone": number, "challenge": challenge.to_dict()}
    return Step((reply,), {**state, "continue_sms": flow}, code_to=number, code=code)


def _number_step(text: str, state: dict, flow: dict, now: datetime) -> Step:
    number = phone_in(text)
    if number is not None:
        return _send_code(number, state, now)
    tries = int(flow.get("tries", 0)) + 1
    if tries >= MAX_NUMBER_TRIES:
        return Step(
            ("I couldn't read a phone number, so let's carry on here.",), _without_flow(state)
        )
    again = "Please type your mobile number with its area code, for example +1 415 555 0123."
    return Step((again,), {**state, "continue_sms": {**flow, "tries": tries}})


def _code_step(text: str, state: dict, flow: dict, now: datetime) -> Step:
    if phone_in(text) is not None and not re.fullmatch(r"\s*\d{3}\s?\d{3}\s*", text):
        return _send_code(phone_in(text) or "", state, now)
    evidence, left = check(flow["challenge"], text, now)
    phone = flow["phone"]
    if evidence is not None:
        done = (
            f"Confirmed! I'll continue by text at {masked(phone)}; just reply to my message there."
        )
        hello = "Hi, it's Fernhill's assistant. Reply here to continue our chat."
        new_state = {**_without_flow(state), "reply_to": {"channel": "sms", "address": phone}}
        return Step(
            (done,), new_state, evidence=(evidence,), texts=((Address("sms", phone), hello),)
        )
    if left is None:
        return Step(
            ("That code has expired or had too many tries. Type your number to get a new one.",),
            {**state, "continue_sms": {"step": "number", "tries": 0}},
        )
    wrong = f"That code doesn't match. {left.attempts_left} tries left."
    return Step((wrong,), {**state, "continue_sms": {**flow, "challenge": left.to_dict()}})


def _without_flow(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "continue_sms"}
