"""Fixtures for the flow tests: the gateway with its actions in-process or on rasa-sdk's own
action server, the demo commerce backend behind it, and a customer's thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dialogs.commerce.demo import DemoCommerce
from gateway.http_ops import SERVICES
from gateway.settings import Secret, TwilioSettings
from tests.dialogs.harness import (
    OUR_NUMBER,
    PUBLIC_URL,
    SID,
    SITE_SECRET,
    TOKEN,
    Thread,
    commerce_server,
    identity_token,
    rasa_action_server,
)
from tests.fakes.providers import FakeProviders
from tests.support import gateway_settings, running_gateway, visitor


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[DemoCommerce, str, str]]:
    """One backend served over HTTP and one rasa-sdk action server for the module's tests."""
    backend = DemoCommerce()
    with commerce_server(backend) as commerce_url, rasa_action_server(commerce_url) as endpoint:
        yield backend, commerce_url, endpoint


@pytest.fixture(params=["in_process", "action_server"])
def actions_at(request: pytest.FixtureRequest) -> str:
    """Where the actions run."""
    return request.param


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders(twilio_account_sid=SID, twilio_auth_token=TOKEN) as providers:
        yield providers


@pytest.fixture
async def gateway(request: pytest.FixtureRequest, tmp_path: Path, fake: FakeProviders, actions_at):
    extra = {}
    if actions_at == "action_server":
        backend, commerce_url, endpoint = request.getfixturevalue("remote")
        backend.reset()
        extra = {"commerce_url": commerce_url, "action_endpoint": endpoint}
    settings = gateway_settings(
        tmp_path,
        public_url=PUBLIC_URL,
        webchat_identity_secret=Secret(SITE_SECRET),
        twilio=TwilioSettings(SID, Secret(TOKEN), OUR_NUMBER, fake.twilio_base_url),
        **extra,
    )
    async with running_gateway(settings) as client:
        yield client


@pytest.fixture
def backend(request: pytest.FixtureRequest, gateway, actions_at: str) -> DemoCommerce:
    """The demo backend the flows act on, whichever process runs the actions."""
    if actions_at == "action_server":
        return request.getfixturevalue("remote")[0]
    return gateway.server.app[SERVICES].bot.flows.commerce


async def open_thread(gateway, phone: str | None, visitor_id: str) -> AsyncIterator[Thread]:
    token = identity_token(sub=f"user-{visitor_id}", phone=phone) if phone else None
    async with visitor(gateway) as web_chat:
        yield await Thread(gateway, web_chat, phone).open(visitor_id, token)


@pytest.fixture
async def ana(gateway) -> AsyncIterator[Thread]:
    """Ana, signed in on the website with her verified phone; she also texts from it."""
    from tests.dialogs.harness import ANA

    async for thread in open_thread(gateway, ANA, "ana"):
        yield thread


@pytest.fixture
async def anonymous(gateway) -> AsyncIterator[Thread]:
    """A web chat visitor we know nothing about."""
    async for thread in open_thread(gateway, None, "stranger"):
        yield thread
