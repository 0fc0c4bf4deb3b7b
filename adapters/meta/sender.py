"""Sends replies through the Graph API: the Send API for Messenger and Instagram, the Cloud API
for WhatsApp. Plain aiohttp, one session per sender.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from adapters.base import DeliveryError
from adapters.meta.outbound import delivery_error, messenger_messages, whatsapp_bodies
from gateway.messages import Outbound
from gateway.settings import MetaSettings

TIMEOUT = aiohttp.ClientTimeout(total=15)


class MetaSender:
    """Sender for the `messenger`, `instagram` (Page token) or `whatsapp` (Cloud API) channel."""

    def __init__(self, settings: MetaSettings, channel: str) -> None:
        self.channel = channel
        if channel == "whatsapp":
            token = settings.whatsapp_access_token
            self._url = f"{settings.graph_base_url}/{settings.whatsapp_phone_number_id}/messages"
        elif channel in ("messenger", "instagram"):
            token = settings.page_access_token
            self._url = f"{settings.graph_base_url}/me/messages"
        else:
            raise ValueError(f"Meta sends on messenger, instagram or whatsapp, not {channel!r}")
        if token is None:
            raise ValueError(f"no access token is configured for {channel}")
        self._token = token.reveal()
        # The token goes in a header, never in the URL: URLs end up in logs and exceptions.
        self._session = aiohttp.ClientSession(
            timeout=TIMEOUT, headers={"Authorization": f"Bearer {self._token}"}
        )

    def _bodies(self, message: Outbound) -> list[dict[str, Any]]:
        if self.channel == "whatsapp":
            return whatsapp_bodies(message)
        return [
            {
                "recipient": {"id": message.to.address},
                "messaging_type": "RESPONSE",
                "message": part,
            }
            for part in messenger_messages(message, self.channel)
        ]

    async def send(self, message: Outbound) -> list[str]:
        """Send each part of the reply, in order; the Graph message ids (`m_…` or `wamid.…`)."""
        ids: list[str] = []
        for body in self._bodies(message):
            message_id = await self._post(body)
            if message_id:
                ids.append(message_id)
        return ids

    async def _post(self, body: dict[str, Any]) -> str | None:
        try:
            async with self._session.post(self._url, json=body) as resp:
                try:
                    payload = await resp.json(content_type=None)
                except ValueError:
                    payload = None
                if resp.status < 300:
                    return _message_id(payload)
                retry_after = resp.headers.get("Retry-After")
                error = delivery_error(resp.status, payload, retry_after)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"Graph API unreachable: {type(exc).__name__}") from None
        raise DeliveryError(
            str(error).replace(self._token, "**********"),
            retry_after=error.retry_after,
            permanent=error.permanent,
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._session.close()


def _message_id(answer: Any) -> str | None:
    """`message_id` (Send API) or `messages[0].id` (WhatsApp Cloud API)."""
    if not isinstance(answer, dict):
        return None
    if isinstance(answer.get("message_id"), str):
        return answer["message_id"]
    messages = answer.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        found = messages[0].get("id")
        return found if isinstance(found, str) else None
    return None
