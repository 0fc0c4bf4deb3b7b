"""One web chat socket: hello, messages and presses in; the customer's live transcript out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from adapters.webchat.frames import (
    FrameError,
    Hello,
    Pressed,
    Said,
    entry_frame,
    error_frame,
    parse_frame,
    welcome_frame,
)
from adapters.webchat.identity_token import IdentityTokenError, verify_identity_token
from gateway import intake, metrics
from gateway.feed import FeedEvent, ThreadMoved
from gateway.messages import Address, Entry, Evidence, Inbound
from gateway.services import Services

log = logging.getLogger(__name__)

SendFrame = Callable[[dict[str, Any]], Awaitable[None]]


class WebchatSession:
    """The state of one socket after its hello: who, which conversation, what it has seen."""

    def __init__(self, services: Services, send: SendFrame) -> None:
        self._services = services
        self._send = send
        self._sender: Address | None = None
        self._evidence: tuple[Evidence, ...] = ()
        self._name: str | None = None
        self._attributes: dict[str, str | int | float | bool] = {}
        self._customer_id: str | None = None
        self._conversation_id: str | None = None
        self._sent_seq = 0
        self._queue: asyncio.Queue[FeedEvent] | None = None
        self._pump: asyncio.Task | None = None
        self._reattach: asyncio.Task | None = None
        # Replay and live forwarding share one lock so no entry slips between them.
        self._sending = asyncio.Lock()

    async def on_text(self, raw: str) -> None:
        """Handle one client frame; a bad one gets an error frame and changes nothing."""
        try:
            frame = parse_frame(raw)
            if isinstance(frame, Hello):
                await self._hello(frame)
            elif self._sender is None:
                raise FrameError("hello_required", "send a hello frame first")
            elif isinstance(frame, Said):
                await self._accept(frame.client_msg_id, text=frame.text)
            elif isinstance(frame, Pressed):
                await self._accept(frame.client_msg_id or uuid.uuid4().hex, postback=frame.payload)
        except FrameError as exc:
            metrics.WEBCHAT_BAD_FRAMES.labels(code=exc.code).inc()
            await self._send(error_frame(exc.code, str(exc)))

    async def _hello(self, hello: Hello) -> None:
        secret = self._services.settings.webchat_identity_secret
        self._sender = Address("webchat", f"v:{hello.visitor_id}")
        self._evidence, self._name, self._attributes = (), None, {}
        if hello.identity_token and secret is None:
            await self._send(
                error_frame(
                    "identity_unavailable",
                    "this gateway verifies no identity tokens; chatting anonymously",
                )
            )
        elif hello.identity_token and secret is not None:
            try:
                claims = verify_identity_token(hello.identity_token, secret.reveal())
            except IdentityTokenError as exc:
                # Anonymous is safe; a token we cannot verify must never reach anyone's history.
                await self._send(error_frame("bad_identity_token", f"{exc}; chatting anonymously"))
            else:
                self._sender = Address("webchat", f"u:{claims.sub}")
                self._evidence, self._name = claims.evidence(), claims.name
                self._attributes = claims.attributes
        await self._attach(hello.last_seq, hello.conversation_id)

    async def _attach(self, last_seq: int, conversation_id: str | None) -> None:
        services = self._services
        assert self._sender is not None
        now = datetime.now(UTC)
        resolution = await services.identity.resolve(
            self._sender,
            self._evidence,
            now,
            name=self._name,
            sender_verified_by="webchat_jwt" if self._evidence or self._name else None,
        )
        services.feed.merged(resolution.customer_id, resolution.absorbed)
        if self._attributes:
            await services.store.customers.update_attributes(
                resolution.customer_id, self._attributes
            )
        self._subscribe(resolution.customer_id)
        conversation = await services.store.conversations.current(
            resolution.customer_id, now, services.settings.conversation_idle_seconds
        )
        after = last_seq if conversation_id in (None, conversation.id) else 0
        async with self._sending:
            await self._switch(conversation.id, after)
            for entry in await services.store.transcript.entries(conversation.id, after):
                await self._forward(entry)

    def _subscribe(self, customer_id: str) -> None:
        feed = self._services.feed
        if self._customer_id == customer_id and self._queue is not None:
            return
        self._unsubscribe()
        self._customer_id = customer_id
        self._queue = feed.subscribe(customer_id)
        self._pump = asyncio.create_task(self._pump_feed(self._queue))

    async def _switch(self, conversation_id: str, after: int) -> None:
        assert self._customer_id is not None
        self._conversation_id = conversation_id
        self._sent_seq = after
        await self._send(welcome_frame(self._customer_id, conversation_id))

    async def _forward(self, entry: Entry) -> None:
        if self._conversation_id is None:
            return  # the hello's replay, still to come, includes this entry
        if entry.conversation_id != self._conversation_id:
            # The conversation went idle and a new one began: introduce it, then show it.
            await self._switch(entry.conversation_id, 0)
        if entry.seq <= self._sent_seq:
            return
        self._sent_seq = entry.seq
        await self._send(entry_frame(entry))

    async def _pump_feed(self, queue: asyncio.Queue[FeedEvent]) -> None:
        while True:
            event = await queue.get()
            try:
                if isinstance(event, ThreadMoved):
                    # Re-attaching replaces this very pump, so it runs as its own task.
                    self._reattach = asyncio.create_task(self._attach(0, None))
                    return
                async with self._sending:
                    await self._forward(event)
            except ConnectionError:
                return
            except Exception:
                log.exception("web chat feed forwarding failed")

    async def _accept(
        self, client_msg_id: str, text: str = "", postback: str | None = None
    ) -> None:
        assert self._sender is not None
        message = Inbound(
            key=f"webchat:{self._sender.address}:{client_msg_id}",
            sender=self._sender,
            received_at=datetime.now(UTC),
            text=text,
            postback=postback,
            evidence=self._evidence,
            sender_name=self._name,
        )
        await intake.accept(self._services, message)

    def close(self) -> None:
        """Stop following the feed; the socket is gone."""
        if self._reattach is not None:
            self._reattach.cancel()
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        if self._queue is not None and self._customer_id is not None:
            self._services.feed.unsubscribe(self._customer_id, self._queue)
            self._queue = None
