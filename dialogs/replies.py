"""Short replies for conversation moves and for intents no self-service flow acts on."""

from __future__ import annotations

CONVERSATIONAL = {
    "greeting": "Hi! Ask me anything about orders, shipping, returns or your account.",
    "thanks": "You're welcome! Anything else I can help with?",
    "goodbye": "Thanks for chatting. Have a great day!",
}

# Said when an intent is recognised but no self-service flow can act on it here: honest about
# what the bot cannot do, and pointing to people who can.
NO_FLOW = (
    "I understood that you want help with {what}, but I can't do that from this chat yet. "
    "Our Customer Care team can: just ask for a person."
)

HANDOFF_UNAVAILABLE = (
    "I'd like to get a person to help you, but nobody from the team is connected to this chat "
    "right now. Please try again later."
)

SHARED = {
    "contact": "Thanks! Your number is saved, so we can continue wherever you write to us.",
    "location": "Thanks, I've got your location.",
    "attachment": "Thanks, I've received your file. Tell me what you need help with.",
}

CLARIFY_NONE = "No problem. Could you tell me a bit more about what you need?"

INTENT_TOPICS = {
    "order_status": "checking an order",
    "cancel_order": "cancelling an order",
    "change_shipping_address": "changing a delivery address",
    "reset_password": "resetting a password",
    "start_return": "starting a return",
}


def intent_reply(intent: str) -> str:
    """What the bot says when it recognised an intent it has no flow for."""
    if intent in CONVERSATIONAL:
        return CONVERSATIONAL[intent]
    if intent in {"human_agent", "complaint"}:
        return HANDOFF_UNAVAILABLE
    return NO_FLOW.format(what=INTENT_TOPICS.get(intent, intent.replace("_", " ")))
