"""The flows' settings: where the commerce backend and the action server are."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.action_client import HttpActions, InProcessActions
from dialogs.commerce.demo import DemoCommerce
from dialogs.commerce.http_client import HttpCommerce
from dialogs.flow_setup import build_flows
from gateway.settings import SettingsError, load_settings

NO_FILE = Path("/nonexistent.toml")


def test_unset_means_the_demo_backend_and_in_process_actions() -> None:
    flows = build_flows(load_settings({}, NO_FILE))
    assert isinstance(flows.commerce, DemoCommerce)
    assert isinstance(flows.actions, InProcessActions)


def test_urls_point_the_flows_elsewhere() -> None:
    settings = load_settings(
        {
            "ONETHREAD_COMMERCE_URL": "http://shop.internal:8090/",
            "ONETHREAD_ACTION_ENDPOINT": "http://127.0.0.1:5055/webhook",
        },
        NO_FILE,
    )
    flows = build_flows(settings)
    assert isinstance(flows.commerce, HttpCommerce)
    assert flows.commerce.base_url == "http://shop.internal:8090"
    assert isinstance(flows.actions, HttpActions)
    assert flows.actions.endpoint == "http://127.0.0.1:5055/webhook"


@pytest.mark.parametrize("name", ["ONETHREAD_COMMERCE_URL", "ONETHREAD_ACTION_ENDPOINT"])
def test_a_bad_url_stops_start_up_naming_the_variable(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: expected an http"):
        load_settings({name: "localhost:5055"}, NO_FILE)
