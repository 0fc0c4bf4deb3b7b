"""The self-service flows at a glance: which intent runs which form, asking which slots in order,
and which action does the work once every slot is filled.

Each flow has a diagram in docs/flows/<intent>.md. A flow with slots is a Rasa form named
`<intent>_form`, validated by the `validate_<intent>_form` FormValidationAction; a slot is asked by
the `action_ask_<slot>` action; the submit action acts on the commerce backend. The actions live in
`dialogs/actions/` and run in-process or on any Rasa action server (ONETHREAD_ACTION_ENDPOINT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Flow:
    """One self-service flow."""

    intent: str
    submit: str  # the action run once every slot is filled
    slots: tuple[str, ...]  # asked in this order, each only while it is empty

    @property
    def form(self) -> str | None:
        """The Rasa form collecting the slots, if there are any."""
        return f"{self.intent}_form" if self.slots else None


FLOWS: dict[str, Flow] = {f.intent: f for f in (
    #    intent                     submit action             slots, asked in order
    Flow("order_status",            "action_order_status",    ("order_number",)),
    Flow("cancel_order",            "action_cancel_order",    ("order_number", "confirmed")),
    Flow("change_shipping_address", "action_change_address",  ("order_number", "new_address",
                                                               "confirmed")),
    Flow("reset_password",          "action_reset_password",  ("email",)),
    Flow("start_return",            "action_start_return",    ("order_number", "item")),
    Flow("greeting",                "action_greet",           ()),
    Flow("thanks",                  "action_thanks",          ()),
    Flow("goodbye",                 "action_goodbye",         ()),
)}

# Slots every form may read or set; `backend_error` is set by an action that could not reach the
# commerce backend, so the runner offers a person instead of asking again.
SLOTS = ("order_number", "new_address", "email", "item", "confirmed", "backend_error")
REQUESTED_SLOT = "requested_slot"


def domain() -> dict[str, Any]:
    """The Rasa domain the actions are called with: slots, forms and their required slots."""
    return {
        "version": "3.1",
        "intents": sorted(FLOWS),
        "entities": [s for s in SLOTS if s != "backend_error"],
        "slots": {
            name: {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]}
            for name in (*SLOTS, REQUESTED_SLOT)
        },
        "forms": {f.form: {"required_slots": list(f.slots)} for f in FLOWS.values() if f.form},
        "responses": {},
        "actions": sorted(
            {f.submit for f in FLOWS.values()}
            | {f"validate_{f.form}" for f in FLOWS.values() if f.form}
            | {f"action_ask_{s}" for f in FLOWS.values() for s in f.slots}
        ),
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
