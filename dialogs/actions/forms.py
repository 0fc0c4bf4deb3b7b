"""The forms' validators: one FormValidationAction per form, sharing one validator per slot.

A validator returns the cleaned value, or None with a helpful message that tells the customer
what a good answer looks like. Order numbers are checked against the backend and against the
customer's verified phone and email before any detail of the order is used.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from dialogs.actions.common import (
    BACKEND_DOWN,
    EMAIL,
    LEAVE,
    VERIFY,
    CommerceAction,
    button,
    handoff_offer,
    masked,
    order_number_in,
    owns,
    value_button,
)
from dialogs.commerce import CommerceUnavailable, matching_item

Slots = dict[str, Any]

# A street address: a house number and a street, then a US ZIP or a Canadian postal code.
ADDRESS = re.compile(
    r"^\s*\d+[A-Za-z]?\s+\S.*?,.*\b(\d{5}(?:-\d{4})?|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)\s*$"
)
YES = re.compile(r"^\s*(y|yes|yeah|yep|sure|ok|okay|please do|do it|confirm|correct)\b", re.I)
NO = re.compile(r"^\s*(n|no|nope|don'?t|do not|keep it|leave it)\b", re.I)

ORDER_FORMAT_HELP = (
    "Order numbers look like FH-482913: FH and six digits. You'll find yours in the order "
    "confirmation email. What's the order number?"
)
ADDRESS_HELP = (
    "Please send the full new address on one line: street and number, city, state and ZIP "
    "code, for example: 418 Elm St, Madison, WI 53703"
)


class OrderSlotValidation(FormValidationAction, CommerceAction):
    """Validators shared by every form that asks for an order."""

    @abstractmethod
    def name(self) -> str:
        """The form's validation action name (abstract, so action servers skip this base)."""

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A real order of this customer's, or None with the reason."""
        number = order_number_in(str(value or ""))
        if number is None:
            dispatcher.utter_message(text=ORDER_FORMAT_HELP)
            return {"order_number": None}
        try:
            order = await self.commerce.order(number)
        except CommerceUnavailable:
            dispatcher.utter_message(text=BACKEND_DOWN, buttons=handoff_offer("backend_error"))
            return {"order_number": None, "backend_error": True}
        if order is None:
            dispatcher.utter_message(
                text=f"I can't find an order {number}. Please check the number in your "
                "confirmation email (FH and six digits)."
            )
            return {"order_number": None}
        if not owns(tracker, order):
            metadata = (tracker.latest_message or {}).get("metadata", {})
            if not metadata.get("can_text", True):
                dispatcher.utter_message(
                    text=f"Order {number} isn't linked to a phone number or email you've "
                    "confirmed with us, so I can't show or change it here. Please write to us from "
                    "the phone number on the order, or a person can help.",
                    buttons=handoff_offer("ownership_unproven"),
                )
                return {"order_number": None}
            # Whose order it is stays unsaid; the code goes to the phone on the order, so only
            # its owner can prove it.
            dispatcher.utter_message(
                text=f"Order {number} isn't linked to a phone number or email you've confirmed "
                "with us, so I can't show or change it here. If it's yours, I can text a 6-digit "
                f"code to the phone number on the order ({masked(order.phone)}).",
                buttons=[button("Text me a code", VERIFY), button("No thanks", LEAVE)],
                json_message={"verify": {"kind": "phone", "value": order.phone,
                                         "order_number": number}},
            )
            return {"order_number": None}
        return {"order_number": number}

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Yes or no to the change we described."""
        if isinstance(value, bool):
            return {"confirmed": value}
        text = str(value or "")
        if YES.match(text):
            return {"confirmed": True}
        if NO.match(text):
            return {"confirmed": False}
        dispatcher.utter_message(text="Please answer yes or no.", buttons=yes_no())
        return {"confirmed": None}


def yes_no() -> list[dict[str, Any]]:
    """Yes/no quick replies for a confirmation."""
    return [value_button("Yes", "yes"), value_button("No", "no")]


class ValidateOrderStatusForm(OrderSlotValidation):
    """order_status_form: the order number."""

    def name(self) -> str:
        """Action name."""
        return "validate_order_status_form"


class ValidateCancelOrderForm(OrderSlotValidation):
    """cancel_order_form: the order number, then yes/no."""

    def name(self) -> str:
        """Action name."""
        return "validate_cancel_order_form"


class ValidateChangeShippingAddressForm(OrderSlotValidation):
    """change_shipping_address_form: order number, new address, yes/no."""

    def name(self) -> str:
        """Action name."""
        return "validate_change_shipping_address_form"

    async def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A full street address with a ZIP or postal code."""
        text = " ".join(str(value or "").split())
        if not ADDRESS.match(text) or len(text) > 200:
            dispatcher.utter_message(text=ADDRESS_HELP)
            return {"new_address": None}
        return {"new_address": text}


class ValidateStartReturnForm(OrderSlotValidation):
    """start_return_form: order number, then which of its items."""

    def name(self) -> str:
        """Action name."""
        return "validate_start_return_form"

    async def validate_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """One item of the order, matched on the customer's words."""
        number = tracker.get_slot("order_number")
        if not number:
            # Remember the words; they are checked once the order is known.
            return {"item": value}
        try:
            order = await self.commerce.order(number)
        except CommerceUnavailable:
            dispatcher.utter_message(text=BACKEND_DOWN, buttons=handoff_offer("backend_error"))
            return {"item": None, "backend_error": True}
        match = matching_item(order.items if order else (), str(value or ""))
        if match is None:
            listed = ", ".join(order.items) if order else "none"
            dispatcher.utter_message(
                text=f"I couldn't match that to an item of {number}. It has: {listed}. "
                "Which one would you like to return?",
                buttons=[value_button(i) for i in (order.items if order else ())],
            )
            return {"item": None}
        return {"item": match}


class ValidateResetPasswordForm(FormValidationAction):
    """reset_password_form: the account's email."""

    def name(self) -> str:
        """Action name."""
        return "validate_reset_password_form"

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """An email address."""
        match = EMAIL.search(str(value or ""))
        if match is None:
            dispatcher.utter_message(
                text="That doesn't look like an email address. Please type the email of your "
                "Fernhill account, like jordan.lee@example.com."
            )
            return {"email": None}
        return {"email": match.group().lower()}
