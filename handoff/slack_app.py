"""Slack's side of the handoff: a slack-bolt AsyncApp that turns agents' clicks, thread replies
and `/onethread` commands into inbox items, and the Web API client, sender and directory.

Every agent action is stored durably in the inbox before Slack gets its acknowledgement
(`process_before_response`), keyed by Slack's own ids, so a retried event is handled once and a
crash loses nothing. Request signatures are checked by Bolt (slack_sdk's SignatureVerifier).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from gateway.messages import Address, Inbound
from gateway.settings import SlackSettings
from gateway.stores.protocol import Handoff, Store
from handoff.config import HandoffConfig
from handoff.directory import SlackDirectory
from handoff.slack_sender import SlackSender
from handoff.slack_text import is_note, slack_to_markdown

log = logging.getLogger(__name__)

PATH = "/slack/events"
Accept = Callable[[Inbound], Awaitable[bool]]

HELP = (
    "*onethread* — in a handoff's thread, just reply to answer the customer; start with "
    "`note:` or `//` to keep a reply internal.\n"
    "`/onethread queue` lists waiting and claimed conversations in this channel.\n"
    "`/onethread claim [HANDOFF]` takes one; `/onethread resolve [HANDOFF]` hands it back to the "
    "bot (without an id: the one you have in this channel)."
)

# Message subtypes that are a person writing; the rest are edits, joins, bot posts…
_PERSON_SUBTYPES = {None, "thread_broadcast", "file_share"}


def agent_inbound(
    key: str,
    handoff_id: str,
    kind: str,
    user_id: str,
    user_name: str | None,
    text: str = "",
    **meta: Any,
) -> Inbound:
    """An agent's action as an inbox item; the handoff is the sender, so its work stays in order."""
    return Inbound(
        key=key,
        sender=Address("slack", handoff_id),
        received_at=datetime.now(UTC),
        text=text,
        sender_name=user_name,
        meta={"kind": kind, "user_id": user_id, **meta},
    )


class SlackAgents:
    """The Slack connection: Web API client, Bolt app, outbox sender, agent directory."""

    def __init__(self, settings: SlackSettings, store: Store, config: HandoffConfig) -> None:
        self.settings = settings
        self.store = store
        self.client = AsyncWebClient(
            token=settings.bot_token.reveal(), base_url=settings.api_base_url, timeout=10
        )
        self.sender = SlackSender(self.client, store, config, settings.handoff_channel)
        self.directory = SlackDirectory(self.client)
        self.accept: Accept | None = None
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret.reveal(),
            process_before_response=True,
            logger=logging.getLogger("onethread.slack"),
        )
        self._socket_task: asyncio.Task[None] | None = None
        self._socket: Any = None
        self._listen()

    async def _accept(self, message: Inbound) -> None:
        assert self.accept is not None, "SlackAgents.accept is set at start-up"
        await self.accept(message)

    def _listen(self) -> None:
        bolt = self.bolt

        @bolt.event("message")
        async def thread_reply(event: dict, body: dict) -> None:
            await self._thread_reply(event, body)

        @bolt.action("onethread.claim")
        async def claim(ack: Any, body: dict, action: dict) -> None:
            await self._action(body, action, "claim", action.get("value", ""))
            await ack()

        @bolt.action("onethread.resolve")
        async def resolve(ack: Any, body: dict, action: dict) -> None:
            await self._action(body, action, "resolve", action.get("value", ""))
            await ack()

        @bolt.action("onethread.transfer")
        async def transfer(ack: Any, body: dict, action: dict) -> None:
            value = (action.get("selected_option") or {}).get("value", "")
            handoff_id, _, queue = value.partition("|")
            await self._action(body, action, "transfer", handoff_id, queue=queue)
            await ack()

        @bolt.command("/onethread")
        async def command(ack: Any, command: dict) -> None:
            await ack(text=await self._command(command))

    async def _thread_reply(self, event: dict, body: dict) -> None:
        thread, ts = event.get("thread_ts"), event.get("ts")
        if event.get("bot_id") or event.get("subtype") not in _PERSON_SUBTYPES:
            return
        if not thread or thread == ts or not event.get("user"):
            return
        handoff = await self.store.handoffs.by_thread(event.get("channel", ""), thread)
        if handoff is None:
            return  # a thread that is not a handoff's: agents talking among themselves
        raw = event.get("text", "")
        kind = "note" if is_note(raw) else "reply"
        await self._accept(
            agent_inbound(
                f"slack:event:{body.get('event_id') or ts}",
                handoff.id,
                kind,
                event["user"],
                None,
                slack_to_markdown(raw),
                channel=event.get("channel"),
                ts=ts,
            )
        )

    async def _action(
        self, body: dict, action: dict, kind: str, handoff_id: str, **meta: Any
    ) -> None:
        user = body.get("user") or {}
        if not handoff_id:
            return
        await self._accept(
            agent_inbound(
                f"slack:action:{action.get('action_ts')}:{user.get('id')}",
                handoff_id,
                kind,
                user.get("id", ""),
                user.get("name") or user.get("username"),
                channel=(body.get("channel") or {}).get("id"),
                ts=(body.get("message") or {}).get("ts"),
                **meta,
            )
        )

    async def _command(self, command: dict) -> str:
        words = command.get("text", "").split()
        verb = words[0].lower() if words else "help"
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        if verb == "queue":
            here = [h for h in await self.store.handoffs.active() if h.slack_channel == channel]
            if not here:
                return "Nobody is waiting in this channel."
            return "\n".join(_queue_line(h) for h in here)
        if verb not in {"claim", "resolve"}:
            return HELP
        handoff = await self._command_target(verb, words[1:], channel, user)
        if isinstance(handoff, str):
            return handoff
        await self._accept(
            agent_inbound(
                f"slack:command:{command.get('trigger_id')}",
                handoff.id,
                verb,
                user,
                command.get("user_name"),
                channel=channel,
            )
        )
        return f"{'Claiming' if verb == 'claim' else 'Resolving'} `{handoff.id}`…"

    async def _command_target(
        self, verb: str, args: list[str], channel: str, user: str
    ) -> Handoff | str:
        if args:
            handoff = await self.store.handoffs.get(args[0])
            if handoff is None or handoff.status == "resolved":
                return f"There is no open handoff `{args[0]}`."
            return handoff
        mine = [
            h
            for h in await self.store.handoffs.active()
            if h.slack_channel == channel
            and (h.agent_id == user if verb == "resolve" else h.status == "queued")
        ]
        if len(mine) == 1:
            return mine[0]
        if not mine:
            return f"Nothing to {verb} in this channel. `/onethread queue` lists what is open."
        listed = "\n".join(_queue_line(h) for h in mine)
        return f"Which one? Add its id: `/onethread {verb} HANDOFF`\n{listed}"

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /slack/events: events, interactivity and slash commands, all signed."""
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        """Connect Socket Mode when an app token is configured."""
        if self.settings.app_token is None:
            return
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.bolt, self.settings.app_token.reveal())
        self._socket_task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._socket.connect_async()
                log.info("slack: Socket Mode connected")
                return
            except Exception as exc:  # keep the gateway up; agents' actions wait for Slack
                log.warning(
                    "slack: Socket Mode connection failed (%s); retrying in %.0f s", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def close(self) -> None:
        """Disconnect Socket Mode and drop the HTTP session."""
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_task
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()


def _queue_line(handoff: Handoff) -> str:
    who = f"claimed by {handoff.agent_name}" if handoff.status == "claimed" else "waiting"
    return f"• `{handoff.id}` · {handoff.reason} · {who} · since {handoff.opened_at:%H:%M} UTC"
