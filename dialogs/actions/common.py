"""What the actions share: the commerce backend, the customer's verified contacts, buttons.

Actions are built with no arguments by a Rasa action server, so the commerce backend defaults to
the one configured for this process (ONETHREAD_COMMERCE_URL, else the in-process demo); the gateway
builds them with its own backend instead.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker

from dialogs.commerce import Commerce, Order

ORDER_NUMBER = re.compile(r"(?i)\b(?:FH[- ]?)?(\d{6})\b")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

# Payloads the gateway's form runner understands (quick replies the actions offer).
HANDOFF = "flow:handoff:"
LEAVE = "flow:leave"
VERIFY = "flow:verify"
SLOT_VALUE = "slot:"

CARE = "Customer Care (1-800-555-0142, help@fernhill.example)"


@cache
def configured_commerce() -> Commerce:
    """This process's backend: ONETHREAD_COMMERCE_URL over HTTP, else the seeded demo."""
    from dialogs.commerce.demo import DemoCommerce
    from dialogs.commerce.http_client import HttpCommerce
    from gateway.settings import load_settings

    url = load_settings().commerce_url
    return HttpCommerce(url) if url else DemoCommerce()


class CommerceAction(Action, ABC):
    """An action that talks to the commerce backend."""

    def __init__(self, commerce: Commerce | None = None) -> None:
        self._commerce = commerce

    @property
    def commerce(self) -> Commerce:
        """The backend this action acts on."""
        if self._commerce is None:
            self._commerce = configured_commerce()
        return self._commerce

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""


def verified_contacts(tracker: Tracker) -> tuple[list[str], list[str]]:
    """(phones, emails) the customer has proven, as the gateway put them in the message metadata."""
    verified = (tracker.latest_message or {}).get("metadata", {}).get("verified", {})
    return list(verified.get("phone", [])), [e.lower() for e in verified.get("email", [])]


def owns(tracker: Tracker, order: Order) -> bool:
    """True when the order's phone or email is one the customer has verified."""
    phones, emails = verified_contacts(tracker)
    return order.phone in phones or order.email.lower() in emails


def order_number_in(text: str) -> str | None:
    """FH- plus the six digits of an order number, however the customer typed it."""
    match = ORDER_NUMBER.search(text or "")
    return f"FH-{match.group(1)}" if match else None


def button(title: str, payload: str) -> dict[str, Any]:
    """One quick reply."""
    return {"title": title, "payload": payload}


def value_button(title: str, value: str | None = None) -> dict[str, Any]:
    """A quick reply that fills the requested slot with `value` (the title by default)."""
    return button(title, f"{SLOT_VALUE}{value or title}")


def masked(phone: str) -> str:
    """+1******0123: enough to recognise, too little to leak."""
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


def handoff_offer(reason: str) -> list[dict[str, Any]]:
    """Yes/no buttons offering a person."""
    return [button("Talk to a person", f"{HANDOFF}{reason}"), button("No thanks", LEAVE)]


BACKEND_DOWN = (
    "Sorry, I can't reach our order system right now, so I can't do that at the moment. "
    "Would you like a person from our team to help?"
)
