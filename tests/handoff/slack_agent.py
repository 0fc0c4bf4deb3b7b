"""An agent in Slack, for tests: signed events, button clicks and slash commands to the gateway.

Requests are signed with slack_sdk's own SignatureVerifier (tests/fakes/signing.py), in the exact
shapes Slack sends: Events API JSON envelopes, `payload=` form bodies for interactivity, and
form-encoded slash commands.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, Protocol
from urllib.parse import urlencode

from tests.fakes.signing import slack_headers

SIGNING_SECRET = "slack-signing-secret-for-tests"
QUEUE_CHANNEL = "C0SUPPORT01"
TEAM = "T0TESTTEAM"
_counter = itertools.count(1)


class Poster(Protocol):
    """What posts to the gateway: aiohttp's TestClient, or a ClientSession with a base_url."""

    def post(self, path: str, **kwargs: Any) -> Any: ...


class SlackAgent:
    """One Slack user acting on handoffs through the gateway's /slack/events endpoint."""

    def __init__(self, client: Poster, user_id: str = "U0AGENT001", name: str = "jane"):
        self.client = client
        self.user_id = user_id
        self.name = name

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None):
        """POST a raw body, signed unless headers are given."""
        signed = headers if headers is not None else slack_headers(SIGNING_SECRET, body)
        return await self.client.post(
            "/slack/events", data=body.encode(), headers={"Content-Type": content_type, **signed}
        )

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        """An Events API envelope around one event."""
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "api_app_id": "A0TESTAPP01",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(_counter):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True}],
            }
        )

    async def reply(
        self, thread_ts: str, text: str, channel: str = QUEUE_CHANNEL, event_id: str | None = None
    ):
        """Write `text` in a handoff's thread."""
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "channel": channel,
            "user": self.user_id,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "channel_type": "channel",
            "event_ts": ts,
        }
        return await self.post(self.event_body(event, event_id), "application/json")

    def action_body(
        self,
        action_id: str,
        root_ts: str,
        value: str | None = None,
        selected: str | None = None,
        channel: str = QUEUE_CHANNEL,
    ) -> str:
        """A block_actions interaction payload, form-encoded as Slack sends it."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "onethread.actions",
            "type": "static_select" if selected else "button",
            "action_ts": f"{time.time():.6f}{next(_counter)}",
        }
        if value is not None:
            action["value"] = value
        if selected is not None:
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": selected},
                "value": selected,
            }
        payload = {
            "type": "block_actions",
            "user": {"id": self.user_id, "username": self.name, "name": self.name, "team_id": TEAM},
            "api_app_id": "A0TESTAPP01",
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": root_ts, "channel_id": channel},
            "trigger_id": f"{next(_counter)}.1.abc",
            "team": {"id": TEAM, "domain": "onethread-test"},
            "channel": {"id": channel, "name": "support"},
            "message": {"type": "message", "ts": root_ts, "text": "card"},
            "response_url": "https://hooks.slack.com/actions/T/1/x",
            "actions": [action],
        }
        return urlencode({"payload": json.dumps(payload)})

    async def click(
        self, action_id: str, root_ts: str, value: str | None = None, selected: str | None = None
    ):
        """Press a button (or pick an option) on a handoff's card."""
        body = self.action_body(action_id, root_ts, value, selected)
        return await self.post(body, "application/x-www-form-urlencoded")

    async def command(self, text: str, channel: str = QUEUE_CHANNEL):
        """Run `/onethread TEXT` in a channel."""
        return await self.post(
            self.command_body(text, channel), "application/x-www-form-urlencoded"
        )

    def command_body(self, text: str, channel: str = QUEUE_CHANNEL) -> str:
        """A slash command invocation, form-encoded as Slack sends it."""
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "team_domain": "onethread-test",
                "channel_id": channel,
                "channel_name": "support",
                "user_id": self.user_id,
                "user_name": self.name,
                "command": "/onethread",
                "text": text,
                "api_app_id": "A0TESTAPP01",
                "response_url": "https://hooks.slack.com/commands/T/1/x",
                "trigger_id": f"{next(_counter)}.2.def",
            }
        )
