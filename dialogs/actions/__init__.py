"""The self-service flows' rasa-sdk actions. This package is also a Rasa action server's
`--actions` module: `python -m rasa_sdk --actions dialogs.actions` serves every action here."""

from __future__ import annotations

from rasa_sdk import Action

from dialogs.actions.ask import (
    ActionAskConfirmed,
    ActionAskEmail,
    ActionAskItem,
    ActionAskNewAddress,
    ActionAskOrderNumber,
)
from dialogs.actions.common import CommerceAction
from dialogs.actions.forms import (
    ValidateCancelOrderForm,
    ValidateChangeShippingAddressForm,
    ValidateOrderStatusForm,
    ValidateResetPasswordForm,
    ValidateStartReturnForm,
)
from dialogs.actions.submit import (
    ActionCancelOrder,
    ActionChangeAddress,
    ActionOrderStatus,
    ActionResetPassword,
    ActionStartReturn,
)
from dialogs.actions.talk import ActionGoodbye, ActionGreet, ActionThanks
from dialogs.commerce import Commerce

ACTIONS: tuple[type[Action], ...] = (
    ActionAskConfirmed, ActionAskEmail, ActionAskItem, ActionAskNewAddress, ActionAskOrderNumber,
    ValidateCancelOrderForm, ValidateChangeShippingAddressForm, ValidateOrderStatusForm,
    ValidateResetPasswordForm, ValidateStartReturnForm,
    ActionCancelOrder, ActionChangeAddress, ActionOrderStatus, ActionResetPassword,
    ActionStartReturn, ActionGoodbye, ActionGreet, ActionThanks,
)


def build_actions(commerce: Commerce) -> list[Action]:
    """Every action, the commerce ones acting on `commerce`."""
    return [cls(commerce) if issubclass(cls, CommerceAction) else cls() for cls in ACTIONS]
