"""What the actions are given: slot candidates read from a message, and the Rasa tracker.

The tracker follows the Rasa action server protocol: slots so far, the latest message (its
metadata carries the customer's verified phones and emails for the ownership checks), and the
candidates as the last `slot` events, which is where FormValidationAction looks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.actions.common import EMAIL, order_number_in
from dialogs.flows import REQUESTED_SLOT, SLOTS, Flow

# Slots whose value is whatever the customer typed when asked (no pattern to find them by).
FREE_TEXT = frozenset({"new_address", "item", "confirmed"})


@dataclass(frozen=True)
class Customer:
    """Who is writing, and the phones and emails they have proven."""

    id: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


def extract_candidates(text: str, flow: Flow, requested: str | None) -> dict[str, Any]:
    """Slot values in the message: patterned ones anywhere, free text for the requested slot."""
    found: dict[str, Any] = {}
    if "order_number" in flow.slots:
        number = order_number_in(text)
        if number or requested == "order_number":
            found["order_number"] = number or text.strip()
    if "email" in flow.slots:
        match = EMAIL.search(text)
        if match or requested == "email":
            found["email"] = match.group() if match else text.strip()
    if requested in FREE_TEXT and text.strip():
        found[requested] = text.strip()
    return {k: v for k, v in found.items() if v}


def rasa_tracker(
    intent: str, form: str | None, progress: dict[str, Any], customer: Customer, text: str,
    candidates: dict[str, Any], can_text: bool,
) -> dict[str, Any]:
    """A Rasa tracker for the action: slots so far, then the candidates as the last events."""
    proven = progress.get("proven", [])
    metadata = {
        "customer_id": customer.id,
        "can_text": can_text,
        "verified": {
            "phone": [*customer.phones, *proven],
            "email": list(customer.emails),
        },
    }
    parsed_intent = {"name": intent, "confidence": 1.0}
    slots = {name: None for name in (*SLOTS, REQUESTED_SLOT)}
    slots.update(progress["slots"])
    slots.update(candidates)
    slots[REQUESTED_SLOT] = progress.get("requested")
    entities = [{"entity": k, "value": v} for k, v in candidates.items()]
    latest = {"text": text, "intent": parsed_intent, "entities": entities, "metadata": metadata}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest, "metadata": metadata},
        *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
    ]
    return {
        "sender_id": customer.id,
        "slots": slots,
        "latest_message": latest,
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": form} if form else {},
        "latest_action_name": "action_listen",
    }
