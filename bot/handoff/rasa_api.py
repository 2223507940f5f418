"""The few calls of Rasa's HTTP API the console makes (``--enable-api --auth-token``).

* pause / resume a conversation (``ConversationPaused`` / ``ConversationResumed`` events);
* record a staff message in the conversation (a ``bot`` event with ``metadata.staff``), so it
  is part of the transcript and of what the bot knows;
* run a response or action (``utter_handoff_ended``) and get its rendered messages back, in the
  conversation's language, to deliver them through the channel's sender.

We use the API rather than writing to the tracker store: Rasa takes its lock on the
conversation, keeps its in-memory state right, and the tracker store stays Rasa's alone.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx

from bot.settings import get_settings

logger = logging.getLogger(__name__)


class RasaAPIError(Exception):
    """Rasa's API refused a call or could not be reached (``status`` 0 when unreachable)."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"Rasa API {what}: {status}")
        self.status = status


class RasaAPI:
    """A client of Rasa's HTTP API.

    Args:
        base_url: Rasa's address (``RASA_URL``).
        token: The API token (``RASA_TOKEN``).
        timeout: Seconds per call.

    """

    def __init__(
        self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 15.0
    ) -> None:
        settings = get_settings()
        self.base_url = (base_url or settings.rasa_url).rstrip("/")
        self._token = token if token is not None else settings.rasa_token
        self._timeout = timeout

    def _url(self, sender_id: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(sender_id, safe='')}/{tail}"

    async def _call(self, method: str, url: str, what: str, body: Any = None) -> Dict[str, Any]:
        params = {"token": self._token, "include_events": "NONE"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.request(method, url, params=params, json=body)
        except httpx.HTTPError as exc:
            logger.warning("Rasa API %s unreachable: %s", what, type(exc).__name__)
            raise RasaAPIError(0, what) from None
        if response.status_code >= 400:
            logger.warning("Rasa API %s: HTTP %d", what, response.status_code)
            raise RasaAPIError(response.status_code, what)
        return response.json()

    async def tracker(self, sender_id: str) -> Dict[str, Any]:
        """The conversation's state without events (``paused``, ``slots``...)."""
        return await self._call("GET", self._url(sender_id, "tracker"), "tracker")

    async def append(self, sender_id: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        """Append events to the conversation."""
        return await self._call(
            "POST", self._url(sender_id, "tracker/events"), "append", body=events
        )

    async def pause(self, sender_id: str) -> None:
        """Make the bot silent in this conversation (no-op if it already is)."""
        state = await self.tracker(sender_id)
        if not state.get("paused"):
            await self.append(sender_id, [{"event": "pause"}])

    async def resume(self, sender_id: str) -> None:
        """Let the bot answer again."""
        await self.append(sender_id, [{"event": "resume"}])

    async def listen(self, sender_id: str) -> None:
        """Mark the bot as waiting for the user (``action_listen``).

        Needed after :meth:`resume` and :meth:`execute`: a paused conversation never ran
        ``action_listen``, and the dialogue rules only match a user message that follows it.
        """
        await self.append(sender_id, [{"event": "action", "name": "action_listen"}])

    async def record_staff_message(self, sender_id: str, text: str, staff_name: str) -> None:
        """Add a staff message to the transcript (as a bot utterance marked ``staff``)."""
        await self.append(
            sender_id, [{"event": "bot", "text": text, "metadata": {"staff": staff_name}}]
        )

    async def execute(self, sender_id: str, action: str) -> List[Dict[str, Any]]:
        """Run an action or response in the conversation; return the messages it produced."""
        body = await self._call(
            "POST", self._url(sender_id, "execute"), "execute", body={"name": action}
        )
        return list(body.get("messages") or [])
