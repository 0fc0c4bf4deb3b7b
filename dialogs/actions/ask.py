"""How each slot is asked: with the customer's own orders or items as quick replies when we know
them, and yes/no buttons for a confirmation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from dialogs.actions.common import CommerceAction, value_button, verified_contacts
from dialogs.actions.forms import yes_no
from dialogs.commerce import CommerceUnavailable

STATUS_WORDS = {
    "processing": "processing",
    "shipped": "shipped",
    "out_for_delivery": "out for delivery",
    "delivered": "delivered",
    "cancelled": "cancelled",
}
PICK_LIST_SIZE = 4


class ActionAskOrderNumber(CommerceAction):
    """Ask for the order; list the customer's recent orders when their contacts are verified."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_order_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question."""
        phones, emails = verified_contacts(tracker)
        orders = []
        if phones or emails:
            try:
                orders = await self.commerce.orders_for(phones, emails)
            except CommerceUnavailable:
                orders = []  # The number typed in will be checked (and the outage met) next.
        if orders:
            dispatcher.utter_message(
                text="Which order is it? Pick one or type the order number (like FH-482913).",
                buttons=[
                    value_button(f"{o.number} · {STATUS_WORDS.get(o.status, o.status)}", o.number)
                    for o in orders[:PICK_LIST_SIZE]
                ],
            )
        else:
            dispatcher.utter_message(
                text="What's the order number? It starts with FH and has six digits, like "
                "FH-482913; it's in your order confirmation email."
            )
        return []


class ActionAskNewAddress(CommerceAction):
    """Ask for the new delivery address."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_new_address"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question."""
        dispatcher.utter_message(
            text="What's the new delivery address? Street and number, city, state and ZIP code "
            "on one line, please."
        )
        return []


class ActionAskEmail(CommerceAction):
    """Ask for the account's email."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question."""
        dispatcher.utter_message(text="What's the email address of your Fernhill account?")
        return []


class ActionAskItem(CommerceAction):
    """Ask which item to return, listing the order's items."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question."""
        number = tracker.get_slot("order_number")
        try:
            order = await self.commerce.order(number) if number else None
        except CommerceUnavailable:
            order = None
        if order is not None and order.items:
            dispatcher.utter_message(
                text=f"Which item from {number} would you like to return?",
                buttons=[value_button(item) for item in order.items],
            )
        else:
            dispatcher.utter_message(text="Which item would you like to return?")
        return []


class ActionAskConfirmed(CommerceAction):
    """Ask to confirm the change the active form is about to make."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question."""
        number = tracker.get_slot("order_number")
        form = (tracker.active_loop or {}).get("name")
        if form == "change_shipping_address_form":
            address = tracker.get_slot("new_address")
            question = f"Change the delivery address of {number} to {address}?"
        else:
            question = f"Cancel order {number}? This can't be undone."
        dispatcher.utter_message(text=question, buttons=yes_no())
        return []
