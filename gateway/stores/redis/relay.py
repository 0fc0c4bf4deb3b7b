"""Events between processes over Redis pub/sub: transcript entries for web chat sockets, and new
knowledge versions.

Each process publishes what its feed publishes and delivers what others publish to its own
subscribers (its own messages it already delivered). Pub/sub is fire-and-forget: a socket that
misses an event while Redis is unreachable catches up from the transcript when it reconnects, and
knowledge is also polled, so a missed announcement only delays a refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from gateway.feed import Feed, FeedEvent, ThreadMoved
from gateway.messages import Attachment, Entry, QuickReply
from gateway.stores.redis import keys

log = logging.getLogger(__name__)


def event_to_wire(event: FeedEvent) -> dict[str, Any]:
    """A feed event as JSON-ready data."""
    if isinstance(event, ThreadMoved):
        return {"moved": event.customer_id}
    return {
        "entry": {
            "conversation_id": event.conversation_id,
            "seq": event.seq,
            "author": event.author,
            "channel": event.channel,
            "text": event.text,
            "ts": event.ts.isoformat(),
            "quick_replies": [dataclasses.asdict(q) for q in event.quick_replies],
            "attachments": [dataclasses.asdict(a) for a in event.attachments],
            "author_name": event.author_name,
            "meta": event.meta,
        }
    }


def event_from_wire(data: dict[str, Any]) -> FeedEvent:
    """The feed event a wire record describes."""
    if "moved" in data:
        return ThreadMoved(data["moved"])
    e = data["entry"]
    return Entry(
        conversation_id=e["conversation_id"],
        seq=e["seq"],
        author=e["author"],
        channel=e["channel"],
        text=e["text"],
        ts=datetime.fromisoformat(e["ts"]),
        quick_replies=tuple(QuickReply(**q) for q in e["quick_replies"]),
        attachments=tuple(Attachment(**a) for a in e["attachments"]),
        author_name=e["author_name"],
        meta=e["meta"],
    )


class RedisRelay:
    """Links a process's feed and knowledge to every other process on the same Redis."""

    def __init__(
        self, redis: Redis, feed: Feed, on_knowledge: Callable[[], Awaitable[object]]
    ) -> None:
        self._r = redis
        self._feed = feed
        self._on_knowledge = on_knowledge
        self._origin = uuid.uuid4().hex
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Listen and publish in the background; the feed forwards from now on."""
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send())]
        self._feed.forward = self._queue

    def _queue(self, customer_id: str, events: list[FeedEvent]) -> None:
        wire = {"o": self._origin, "c": customer_id, "e": [event_to_wire(e) for e in events]}
        self._outgoing.put_nowait(json.dumps(wire))

    async def _send(self) -> None:
        # One sender task keeps this process's events in the order they were published.
        while True:
            message = await self._outgoing.get()
            delay = 0.1
            while True:
                try:
                    await self._r.publish(keys.FEED_CHANNEL, message)
                    break
                except Exception as exc:
                    log.warning("could not publish a feed event (%s); retrying", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._r.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.FEED_CHANNEL, keys.KNOWLEDGE_CHANNEL)
                self.connected.set()
                delay = 0.1
                # Whatever was announced while we were away: catch up once.
                await self._on_knowledge()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("feed subscription lost (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _dispatch(self, channel: str, data: str) -> None:
        if channel == keys.KNOWLEDGE_CHANNEL:
            try:
                await self._on_knowledge()
            except Exception:
                log.exception("could not load the announced knowledge version")
            return
        wire = json.loads(data)
        if wire["o"] == self._origin:
            return
        self._feed.deliver(wire["c"], [event_from_wire(e) for e in wire["e"]])

    async def close(self) -> None:
        """Stop listening; events still queued for publishing are dropped."""
        self._feed.forward = None
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
