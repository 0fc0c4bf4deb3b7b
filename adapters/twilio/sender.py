"""Sends replies through Twilio's REST API with the SDK's async client."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from adapters.base import DeliveryError
from adapters.text import split_text
from adapters.twilio.inbound import WHATSAPP_PREFIX
from adapters.twilio.outbound import MAX_BODY, render_text
from gateway.messages import Outbound
from gateway.settings import TwilioSettings

# Twilio answers these when the request itself is wrong (bad number, unsubscribed recipient):
# sending it again cannot succeed.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404})


# The SDK's exceptions drop the response headers, and with them Twilio's Retry-After. Each send
# runs in its own task, so a context variable hands the headers back to the caller safely.
_LAST_HEADERS: ContextVar[Mapping[str, str] | None] = ContextVar("twilio_headers", default=None)


class _HeaderKeepingClient(AsyncTwilioHttpClient):
    async def request(self, *args: Any, **kwargs: Any) -> Response:
        response = await super().request(*args, **kwargs)
        _LAST_HEADERS.set(response.headers or {})
        return response


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Twilio's Retry-After, in seconds, when it sent one."""
    if not headers:
        return None
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


class TwilioSender:
    """Sender for the `sms` and `whatsapp` channels."""

    def __init__(self, settings: TwilioSettings, channel: str, status_url: str) -> None:
        self.channel = channel
        # Twilio reports sent / delivered / failed for each message to this URL.
        self._status_url = status_url
        self._settings = settings
        self._http = _HeaderKeepingClient(timeout=10)
        self._client = Client(
            settings.account_sid, settings.auth_token.reveal(), http_client=self._http
        )
        # Tests and staging point the SDK at a local server answering in Twilio's shapes.
        self._client.api.base_url = settings.api_base_url

    def _addresses(self, to: str) -> dict[str, str]:
        prefix = WHATSAPP_PREFIX if self.channel == "whatsapp" else ""
        if self._settings.messaging_service:
            return {"to": prefix + to, "messaging_service_sid": self._settings.from_number}
        return {"to": prefix + to, "from_": prefix + self._settings.from_number}

    async def send(self, message: Outbound) -> list[str]:
        """Send each part of the reply, in order; returns the Message SIDs."""
        addresses = self._addresses(message.to.address)
        media = [a.url for a in message.attachments] or None
        sids: list[str] = []
        for index, body in enumerate(split_text(render_text(message), MAX_BODY)):
            extra = {"media_url": media} if media and index == 0 else {}
            try:
                created = await self._client.messages.create_async(
                    body=body, status_callback=self._status_url, **addresses, **extra
                )
            except TwilioRestException as exc:
                raise DeliveryError(
                    f"Twilio {exc.status} (code {exc.code}): {exc.msg}",
                    retry_after=retry_after_seconds(_LAST_HEADERS.get()),
                    permanent=exc.status in PERMANENT_STATUSES,
                ) from None
            except (OSError, TimeoutError) as exc:
                raise DeliveryError(f"Twilio unreachable: {type(exc).__name__}: {exc}") from None
            sids.append(created.sid)
        return sids

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._http.close()
