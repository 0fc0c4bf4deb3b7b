"""Carries each queued Slack operation of a handoff to Slack's Web API (slack_sdk).

Operations arrive in order per handoff (the outbox keeps one in flight per recipient, and a
handoff is the recipient), so the root card is always posted before anything goes into its
thread. Each operation re-reads the handoff, so a retry after a crash finds what was done.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import DeliveryError
from adapters.pacing import Pacer
from gateway.business_events import recent_events
from gateway.messages import Outbound
from gateway.stores.protocol import Handoff, Store
from handoff.card import (
    CardView,
    card_blocks,
    card_text,
    entry_line,
    transcript_messages,
)
from handoff.config import HandoffConfig
from handoff.redact import redact

# Errors retrying cannot fix: the app is not set up right for that channel, or the request is bad.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "cant_update_message",
        "message_not_found",
        "user_not_in_channel",
    }
)
RECENT_LINES = 3
RECENT_EVENTS = 5


def delivery_error(exc: SlackApiError) -> DeliveryError:
    """Slack's answer as a DeliveryError: rate limits wait as told, set-up errors give up."""
    response = exc.response
    error = str(response.get("error", "unknown_error")) if response is not None else "unknown"
    retry_after = None
    if response is not None and response.status_code == 429:
        retry_after = float(
            response.headers.get("Retry-After", response.headers.get("retry-after", 1))
        )
    return DeliveryError(f"slack: {error}", retry_after=retry_after, permanent=error in PERMANENT)


class SlackSender:
    """The outbox sender for channel `slack`: one handoff operation per queued item."""

    channel = "slack"
    # Slack outages last longer than a customer's SMS retry budget: keep trying for hours.
    max_attempts = 60

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        config: HandoffConfig,
        default_channel: str,
        pacer: Pacer | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.default_channel = default_channel
        # chat.postMessage: about one message a second per channel; Slack allows short bursts,
        # so a card and its transcript go at once, and a 429 is waited out like any other.
        self.pacer = pacer or Pacer(1.0, 20.0, burst=3)

    async def close(self) -> None:
        """The client holds no session between calls."""

    async def send(self, message: Outbound) -> list[str]:
        """Run one operation; returns the Slack message ts it produced, if any."""
        handoff = await self.store.handoffs.get(message.to.address)
        if handoff is None:
            raise DeliveryError(f"no handoff {message.to.address}", permanent=True)
        op = message.meta.get("op", "")
        run = getattr(self, f"_op_{op}", None)
        if run is None:
            raise DeliveryError(f"unknown Slack operation {op!r}", permanent=True)
        try:
            return await run(handoff, message)
        except SlackApiError as exc:
            raise delivery_error(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"slack: {type(exc).__name__}: {exc}") from None

    def queue_channel(self, queue: str) -> str:
        """The Slack channel a queue's handoffs are posted in."""
        found = self.config.queues.get(queue)
        return (found.channel if found else None) or self.default_channel

    async def _post(self, channel: str, **kwargs: object) -> dict:
        wait = self.pacer.reserve(channel)
        if wait:
            await asyncio.sleep(wait)
        response = await self.client.chat_postMessage(
            channel=channel, unfurl_links=False, unfurl_media=False, **kwargs
        )
        return response.data if isinstance(response.data, dict) else {}

    async def card_view(self, handoff: Handoff) -> CardView:
        """Gather what the card shows from the store."""
        customer = await self.store.customers.get(handoff.customer_id)
        entries = await self.store.transcript.entries(handoff.conversation_id)
        channels = tuple(dict.fromkeys(e.channel for e in entries if e.author == "customer"))
        recent = tuple(self._redact(e.text) for e in entries if e.author == "customer")[
            -RECENT_LINES:
        ]
        opens_at = handoff.detail.get("opens_at")
        opens = None
        if opens_at and handoff.status == "queued":
            when = datetime.fromisoformat(opens_at)
            if when > datetime.now(UTC):
                opens = when.strftime("%a %H:%M %Z")
        events = await recent_events(self.store, handoff.customer_id, RECENT_EVENTS)
        return CardView(
            handoff=handoff,
            customer=customer,
            channels_used=channels,
            recent=recent,
            queues=tuple(self.config.queues),
            now=datetime.now(UTC),
            events=tuple(self._redact(line) for line in events),
            opens_at=opens,
        )

    def _redact(self, text: str) -> str:
        return redact(text, self.config.redact)

    async def _op_open(self, handoff: Handoff, message: Outbound) -> list[str]:
        if handoff.thread_ts is None:
            view = await self.card_view(handoff)
            posted = await self._post(
                self.queue_channel(handoff.queue), text=card_text(view), blocks=card_blocks(view)
            )
            handoff = await self.store.handoffs.update(
                handoff.id, slack_channel=posted["channel"], thread_ts=posted["ts"]
            )
        # Keyed by thread: a transfer starts a new thread, which gets the transcript again.
        if handoff.thread_ts not in handoff.detail.get("transcript_threads", []):
            until = await self._post_transcript(handoff)
            fresh = await self.store.handoffs.get(handoff.id) or handoff
            threads = [*fresh.detail.get("transcript_threads", []), handoff.thread_ts]
            handoff = await self.store.handoffs.update(
                handoff.id,
                detail={**fresh.detail, "transcript_until": until, "transcript_threads": threads},
            )
        return [handoff.thread_ts or ""]

    async def _post_transcript(self, handoff: Handoff) -> str:
        assert handoff.slack_channel and handoff.thread_ts
        entries = await self.store.transcript.entries(handoff.conversation_id)
        lines = [entry_line(e, self._redact) for e in entries]
        messages = transcript_messages(lines)
        if messages is None:
            await self.client.files_upload_v2(
                channel=handoff.slack_channel,
                thread_ts=handoff.thread_ts,
                content="\n".join(lines) + "\n",
                filename=f"transcript-{handoff.conversation_id}.txt",
                title="Conversation transcript",
                initial_comment=f"Full transcript: {len(entries)} messages, in order.",
                request_file_info=False,
            )
        else:
            for text in messages:
                await self._post(handoff.slack_channel, thread_ts=handoff.thread_ts, text=text)
        last = entries[-1].ts if entries else handoff.opened_at
        return last.isoformat()

    async def _op_mirror(self, handoff: Handoff, message: Outbound) -> list[str]:
        until = handoff.detail.get("transcript_until")
        stamp = message.meta.get("ts")
        if until and stamp and datetime.fromisoformat(stamp) <= datetime.fromisoformat(until):
            return []  # already in the transcript posted with the card
        return await self._op_note(handoff, message)

    async def _op_note(self, handoff: Handoff, message: Outbound) -> list[str]:
        if handoff.thread_ts is None or handoff.slack_channel is None:
            raise DeliveryError("the handoff's thread is not posted yet")
        posted = await self._post(
            handoff.slack_channel, thread_ts=handoff.thread_ts, text=message.text
        )
        return [str(posted.get("ts", ""))]

    async def _op_update(self, handoff: Handoff, message: Outbound) -> list[str]:
        if handoff.thread_ts is None or handoff.slack_channel is None:
            raise DeliveryError("the handoff's card is not posted yet")
        view = await self.card_view(handoff)
        await self.client.chat_update(
            channel=handoff.slack_channel,
            ts=handoff.thread_ts,
            text=card_text(view),
            blocks=card_blocks(view),
        )
        return []

    async def _op_ephemeral(self, handoff: Handoff, message: Outbound) -> list[str]:
        channel = message.meta.get("channel") or handoff.slack_channel
        user = message.meta.get("user")
        if not channel or not user:
            return []
        await self.client.chat_postEphemeral(
            channel=channel, user=user, text=message.text, thread_ts=handoff.thread_ts
        )
        return []

    async def _op_react(self, handoff: Handoff, message: Outbound) -> list[str]:
        try:
            await self.client.reactions_add(
                channel=message.meta["channel"],
                timestamp=message.meta["ts"],
                name=message.meta.get("name", "memo"),
            )
        except SlackApiError as exc:
            if exc.response is None or exc.response.get("error") != "already_reacted":
                raise
        return []

    async def _op_escalate(self, handoff: Handoff, message: Outbound) -> list[str]:
        if handoff.thread_ts is None or handoff.slack_channel is None:
            raise DeliveryError("the handoff's thread is not posted yet")
        view = await self.card_view(handoff)
        link = (
            f"https://slack.com/archives/{handoff.slack_channel}/p"
            f"{handoff.thread_ts.replace('.', '')}"
        )
        text = (
            f":rotating_light: Unclaimed in <#{handoff.slack_channel}>: {card_text(view)}. "
            f"<{link}|Open the thread>"
        )
        posted = await self._post(message.meta["channel"], text=text)
        return [str(posted.get("ts", ""))]

    async def _op_moved(self, handoff: Handoff, message: Outbound) -> list[str]:
        channel, ts = message.meta.get("channel"), message.meta.get("ts")
        if not channel or not ts:
            return []
        await self.client.chat_update(
            channel=channel,
            ts=ts,
            text=message.text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": message.text}}],
        )
        return []
