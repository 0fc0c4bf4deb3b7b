"""Conversation moves: hello, thanks, goodbye."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from dialogs.replies import CONVERSATIONAL


async def _say(dispatcher: CollectingDispatcher, intent: str) -> list[dict[str, Any]]:
    dispatcher.utter_message(text=CONVERSATIONAL[intent])
    return []


class ActionGreet(Action):
    """Say hello."""

    def name(self) -> str:
        """Action name."""
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the greeting."""
        return await _say(dispatcher, "greeting")


class ActionThanks(Action):
    """Answer thanks."""

    def name(self) -> str:
        """Action name."""
        return "action_thanks"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter you're welcome."""
        return await _say(dispatcher, "thanks")


class ActionGoodbye(Action):
    """Say goodbye."""

    def name(self) -> str:
        """Action name."""
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter goodbye."""
        return await _say(dispatcher, "goodbye")
