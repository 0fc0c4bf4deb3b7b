"""Running an action: in-process with rasa-sdk's own executor, or on a Rasa action server.

Both speak the action server's webhook protocol: the request is
`{"next_action", "sender_id", "tracker", "domain", "version"}` and the answer
`{"events": [...], "responses": [...]}`, so a team's existing custom actions run unchanged when
ONETHREAD_ACTION_ENDPOINT points at their action server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import aiohttp
import rasa_sdk
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

# Action servers compare this with their own version and only warn on a mismatch.
RASA_VERSION = rasa_sdk.__version__
DEFAULT_TIMEOUT = 10.0


class ActionFailed(Exception):
    """The action could not be run: unknown, crashed, or its server did not answer."""


class ActionClient(Protocol):
    """Runs one action call and returns its result."""

    async def run(self, call: dict[str, Any]) -> dict[str, Any]:
        """The action's events and responses."""

    async def close(self) -> None:
        """Release connections."""


def action_call(
    name: str, sender_id: str, tracker: dict[str, Any], domain: dict[str, Any]
) -> dict[str, Any]:
    """The webhook request body for one action."""
    return {
        "next_action": name,
        "sender_id": sender_id,
        "tracker": tracker,
        "domain": domain,
        "version": RASA_VERSION,
    }


class InProcessActions:
    """rasa-sdk's ActionExecutor in this process, with the actions given."""

    def __init__(self, actions: Iterable[Action]) -> None:
        self._executor = ActionExecutor()
        for action in actions:
            self._executor.register_action(action)

    async def run(self, call: dict[str, Any]) -> dict[str, Any]:
        """Run through the executor exactly as its HTTP server would."""
        try:
            result = await self._executor.run(call)
        except Exception as exc:  # an action's own bug must not end the conversation
            raise ActionFailed(f"{call['next_action']}: {type(exc).__name__}: {exc}") from exc
        if result is None:
            raise ActionFailed("no action named in the call")
        return {"events": list(result.events), "responses": list(result.responses)}

    async def close(self) -> None:
        """Nothing to release."""


class HttpActions:
    """A Rasa action server at `endpoint` (its /webhook URL)."""

    def __init__(self, endpoint: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.endpoint = endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def run(self, call: dict[str, Any]) -> dict[str, Any]:
        """POST the call; a 4xx/5xx, a timeout or a malformed answer is ActionFailed."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        name = call["next_action"]
        try:
            async with self._session.post(self.endpoint, json=call) as resp:
                body = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ActionFailed(f"{name}: action server: {type(exc).__name__}") from None
        if status != 200 or not isinstance(body, dict):
            detail = body.get("error") if isinstance(body, dict) else body
            raise ActionFailed(f"{name}: action server answered {status}: {detail}")
        return {"events": body.get("events") or [], "responses": body.get("responses") or []}

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
