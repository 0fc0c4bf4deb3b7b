"""Agents' display names from Slack's users.info, remembered for the life of the process."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackDirectory:
    """Looks up the name a customer should see for an agent: display name, else real name."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._names: dict[str, str] = {}

    async def name_of(self, user_id: str, fallback: str | None = None) -> str:
        """The agent's display name; `fallback` (or "Our team") when Slack cannot say."""
        if user_id in self._names:
            return self._names[user_id]
        try:
            response = await self.client.users_info(user=user_id)
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning("users.info for %s failed: %s", user_id, exc)
            return fallback or "Our team"
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or fallback
            or "Our team"
        )
        self._names[user_id] = name
        return name
