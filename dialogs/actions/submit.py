"""The actions that do the work once a form has every slot: look up, cancel, change, return, reset.

Each one apologises and offers a person when the backend cannot answer, and hands off (offers a
person) when the shop's rules stop the bot from doing it itself.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from dialogs.actions.ask import STATUS_WORDS
from dialogs.actions.common import BACKEND_DOWN, CommerceAction, handoff_offer
from dialogs.commerce import CommerceRefused, CommerceUnavailable, Order

Events = list[dict[str, Any]]


def _down(dispatcher: CollectingDispatcher) -> Events:
    dispatcher.utter_message(text=BACKEND_DOWN, buttons=handoff_offer("backend_error"))
    return [SlotSet("backend_error", True)]


def status_text(order: Order) -> str:
    """Where the order is, in one or two sentences."""
    status = STATUS_WORDS.get(order.status, order.status)
    text = f"Order {order.number} ({', '.join(order.items)}) is {status}."
    if order.status in {"shipped", "out_for_delivery"} and order.eta:
        text += f" Expected by {order.eta}."
    if order.tracking_url:
        text += f" Track it with {order.carrier or 'the carrier'}: {order.tracking_url}"
    elif order.status == "processing":
        text += " It hasn't shipped yet; you'll get an email with tracking when it does."
    return text


class ActionOrderStatus(CommerceAction):
    """Reply with the order's status and tracking."""

    def name(self) -> str:
        """Action name."""
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Look it up and tell."""
        try:
            order = await self.commerce.order(tracker.get_slot("order_number"))
        except CommerceUnavailable:
            return _down(dispatcher)
        if order is None:
            dispatcher.utter_message(text="I can't find that order any more, sorry.")
            return []
        dispatcher.utter_message(text=status_text(order))
        return []


class ActionCancelOrder(CommerceAction):
    """Cancel inside the 60-minute window; otherwise offer a person."""

    def name(self) -> str:
        """Action name."""
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Cancel, or explain why not."""
        number = tracker.get_slot("order_number")
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(text=f"OK, I haven't cancelled {number}.")
            return []
        try:
            await self.commerce.cancel(number)
        except CommerceUnavailable:
            return _down(dispatcher)
        except CommerceRefused:
            dispatcher.utter_message(
                text=f"{number} is past the 60-minute window for cancelling online (or it has "
                "already shipped), so I can't cancel it myself. A person from Customer Care "
                "can still try. Shall I pass it to them?",
                buttons=handoff_offer("cancel_too_late"),
            )
            return []
        dispatcher.utter_message(
            text=f"Done: order {number} is cancelled. Your card won't be charged."
        )
        return []


class ActionChangeAddress(CommerceAction):
    """Change the delivery address inside the window; otherwise offer a person."""

    def name(self) -> str:
        """Action name."""
        return "action_change_address"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Change it, or explain why not."""
        number = tracker.get_slot("order_number")
        address = tracker.get_slot("new_address")
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(text=f"OK, the address of {number} stays as it was.")
            return []
        try:
            await self.commerce.change_address(number, address)
        except CommerceUnavailable:
            return _down(dispatcher)
        except CommerceRefused:
            dispatcher.utter_message(
                text=f"{number} can no longer be changed online (the 60-minute window has passed "
                "or it has shipped). A person from Customer Care may still be able to redirect "
                "it. Shall I pass it to them?",
                buttons=handoff_offer("change_address_too_late"),
            )
            return []
        dispatcher.utter_message(text=f"Done: {number} will be delivered to {address}.")
        return []


class ActionStartReturn(CommerceAction):
    """Open the return and send the label."""

    def name(self) -> str:
        """Action name."""
        return "action_start_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Open it, or explain why not."""
        number, item = tracker.get_slot("order_number"), tracker.get_slot("item")
        try:
            opened = await self.commerce.start_return(number, item)
        except CommerceUnavailable:
            return _down(dispatcher)
        except CommerceRefused as refused:
            why = {
                "not_shipped": "it hasn't shipped yet (you can cancel it instead)",
                "too_late": "it's past the 60-day return window",
            }.get(refused.reason, "that item can't be returned online")
            dispatcher.utter_message(
                text=f"I can't start a return for {number}: {why}. Would you like a person to "
                "help?",
                buttons=handoff_offer("return_refused"),
            )
            return []
        dispatcher.utter_message(
            text=f"Your return {opened.return_id} for the {opened.item} is open. Print the "
            f"prepaid label: {opened.label_url} and drop the parcel at any UPS point within "
            "14 days."
        )
        return []


class ActionResetPassword(CommerceAction):
    """Send a reset link; never say whether the email has an account."""

    def name(self) -> str:
        """Action name."""
        return "action_reset_password"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Ask the backend to send it."""
        email = tracker.get_slot("email")
        try:
            await self.commerce.reset_password(email)
        except CommerceUnavailable:
            return _down(dispatcher)
        dispatcher.utter_message(
            text=f"If {email} has a Fernhill account, a reset link is on its way there. It works "
            "for 1 hour; check your spam folder if you don't see it in a few minutes."
        )
        return []
