"""Building the flows for the gateway: which commerce backend, and where the actions run."""

from __future__ import annotations

from dialogs.action_client import ActionClient, HttpActions, InProcessActions
from dialogs.actions import build_actions
from dialogs.commerce import Commerce
from dialogs.commerce.demo import DemoCommerce
from dialogs.commerce.http_client import HttpCommerce
from dialogs.form_runner import FormRunner
from gateway.settings import Settings


def commerce_for(settings: Settings) -> Commerce:
    """ONETHREAD_COMMERCE_URL over HTTP, else the seeded demo backend in this process."""
    return HttpCommerce(settings.commerce_url) if settings.commerce_url else DemoCommerce()


def build_flows(settings: Settings) -> FormRunner:
    """The form runner, with actions on ONETHREAD_ACTION_ENDPOINT or in-process."""
    commerce = commerce_for(settings)
    actions: ActionClient
    if settings.action_endpoint:
        actions = HttpActions(settings.action_endpoint)
    else:
        actions = InProcessActions(build_actions(commerce))
    return FormRunner(actions, commerce, can_text=settings.twilio is not None)
