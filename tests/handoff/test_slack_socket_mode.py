"""Socket Mode: with SLACK_APP_TOKEN the gateway opens Slack's WebSocket (through slack_sdk's own
client) and takes agents' events, clicks and commands from it, with no public URL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from gateway.settings import Secret
from tests.fakes.providers import FakeProviders
from tests.handoff.slack_agent import SlackAgent
from tests.handoff.test_slack_handoff import root_post, slack_settings, until_posted
from tests.support import gateway_settings, running_gateway, visitor


@pytest.fixture
async def fake() -> AsyncIterator[FakeProviders]:
    async with FakeProviders() as providers:
        yield providers


async def test_agents_work_over_socket_mode(tmp_path: Path, fake: FakeProviders) -> None:
    slack = dataclasses.replace(slack_settings(fake), app_token=Secret(fake.slack_app_token))
    async with running_gateway(gateway_settings(tmp_path, slack=slack)) as client:
        agent = SlackAgent(client)  # builds Slack's payloads; they travel over the socket here
        async with visitor(client) as ann:
            await ann.hello("visitor-socket")
            await ann.say("I want to talk to a person")
            _, root_ts, handoff_id, _ = await root_post(fake)
            await until_posted(client, handoff_id)
            assert fake.count("slack", path="apps.connections.open") >= 1

            click = json.loads(
                parse_qs(agent.action_body("onethread.claim", root_ts, value=handoff_id))[
                    "payload"
                ][0]
            )
            await fake.slack_socket_send("interactive", click)
            await ann.until(lambda f: f["type"] == "message" and f["from"] == "system")

            event = json.loads(
                agent.event_body(
                    {
                        "type": "message",
                        "channel": "C0SUPPORT01",
                        "user": agent.user_id,
                        "text": "Hello over the socket",
                        "ts": "1700000900.000100",
                        "thread_ts": root_ts,
                    }
                )
            )
            ack = await fake.slack_socket_send("events_api", event)
            assert ack["envelope_id"]
            said = await ann.until(lambda f: f["type"] == "message" and f["from"] == "agent")
            assert said["text"] == "Hello over the socket"

            command = {k: v[0] for k, v in parse_qs(agent.command_body("queue")).items()}
            answered = await fake.slack_socket_send("slash_commands", command)
            assert handoff_id in json.dumps(answered.get("payload"))
