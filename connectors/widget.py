"""The web widget's channel: REST-like messages plus an outbox the widget polls.

Routes (under ``/webhooks/widget/``):

* ``GET /`` health;
* ``POST /webhook``: one user message, the bot's replies as JSON, exactly like the REST
  channel (same body checks, :func:`connectors.rest.parse_body`, same fair-use limit);
* ``GET /outbox?sender=<id>&after=<id>[&limit=<n>]``: messages queued for this sender by
  :class:`bot.storage.widget_models.WidgetSender` (staff answers, notifications, bot messages
  Rasa sends outside a request), oldest first: ``{"messages": [{"id", "author", "created_at",
  "text", "buttons"...}], "last_id": <id>}``. The widget passes the last id it saw.

Only the holder of a sender id can read its outbox, so widget sender ids must be hard to guess:
the widget draws 128 random bits, and this channel refuses ids that are not 22 to 128
characters of ``[A-Za-z0-9_-]`` (a 128-bit id is 22 characters in base64url, 32 in hex). An
unknown sender gets an empty outbox, like a known sender with nothing queued, so polling tells
nothing about who exists.

:meth:`WidgetInput.get_output_channel` makes Rasa's ``output_channel=latest`` (for example
``POST /conversations/<id>/trigger_intent?output_channel=latest``) deliver to the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.storage.widget_models import FETCH_MAX, WidgetSender
from connectors.common import FairUse, fair_use_reply
from connectors.rest import BadRequest, parse_body

logger = logging.getLogger(__name__)

#: A widget sender id: 22 to 128 URL-safe characters (128 random bits at least, by contract).
SENDER_ID = re.compile(r"[A-Za-z0-9_-]{22,128}")
#: Largest outbox cursor accepted (a signed 64-bit integer).
MAX_CURSOR = 2**63 - 1
#: Messages per poll when the widget does not say.
DEFAULT_FETCH = 50

_NO_STORE = {"Cache-Control": "no-store"}


def check_sender(sender: Any) -> str:
    """Return ``sender`` if it is an acceptable widget sender id.

    Args:
        sender: The value received.

    Returns:
        The sender id.

    Raises:
        BadRequest: If it is not 22 to 128 characters of ``[A-Za-z0-9_-]``.

    """
    if not isinstance(sender, str) or SENDER_ID.fullmatch(sender) is None:
        raise BadRequest("'sender' must be 22 to 128 characters of A-Z, a-z, 0-9, '_' or '-'")
    return sender


def parse_outbox_query(args: Dict[str, Any]) -> Dict[str, Any]:
    """Check the query of an outbox poll.

    Args:
        args: The query parameters, each a list of strings (Sanic's ``request.args``).

    Returns:
        ``{"sender": str, "after": int, "limit": int}``.

    Raises:
        BadRequest: With a message for the client when the query is not acceptable.

    """

    def one(name: str) -> Optional[str]:
        values = args.get(name)
        if values is None:
            return None
        if isinstance(values, str):
            return values
        if len(values) != 1:
            raise BadRequest(f"'{name}' given more than once")
        return str(values[0])

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = one(name)
        if raw is None or raw == "":
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
            raise BadRequest(f"'{name}' must be an integer from {low} to {high}")
        return int(raw)

    return {
        "sender": check_sender(one("sender")),
        "after": integer("after", 0, 0, MAX_CURSOR),
        "limit": integer("limit", DEFAULT_FETCH, 1, FETCH_MAX),
    }


class WidgetOutputChannel(CollectingOutputChannel):
    """Bot messages sent outside a user's request go to the widget outbox.

    The message format is the REST channel's (``CollectingOutputChannel``), without the
    ``recipient_id``.
    """

    def __init__(self, sender: WidgetSender) -> None:
        super().__init__()
        self._sender = sender

    @classmethod
    def name(cls) -> Text:
        """Channel name (the input channel's)."""
        return "widget"

    async def _persist_message(self, message: Dict[Text, Any]) -> None:
        self.messages.append(message)
        recipient = message.get("recipient_id")
        body = {k: v for k, v in message.items() if k != "recipient_id"}
        if not recipient or not body:
            return
        await asyncio.to_thread(self._sender.send, str(recipient), body, author="bot")


class WidgetInput(InputChannel):
    """The web widget's channel (``/webhooks/widget/``), see the module documentation."""

    def __init__(
        self, sender: Optional[WidgetSender] = None, fair_use: Optional[FairUse] = None
    ) -> None:
        self._sender = sender
        self._fair_use = fair_use

    @classmethod
    def name(cls) -> Text:
        """Channel name: the URL prefix ``/webhooks/widget/``."""
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetInput":
        """Build the channel; it needs no credentials (the database is ``DATABASE_URL``)."""
        return cls()

    @property
    def sender(self) -> WidgetSender:
        """The outbox, on the default database unless one was given (built on first use)."""
        if self._sender is None:
            self._sender = WidgetSender()
        return self._sender

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Where Rasa sends bot messages for widget users outside a request: the outbox."""
        return WidgetOutputChannel(self.sender)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: ``GET /``, ``POST /webhook`` and ``GET /outbox``."""
        webhook = Blueprint("widget_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                parsed = parse_body(request.body or b"")
                check_sender(parsed["sender"])
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            if self._fair_use is None:
                self._fair_use = FairUse(self.name())
            instead = await fair_use_reply(self._fair_use, parsed, request)
            if instead is not None:
                return response.json(instead, headers=_NO_STORE)
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    parsed["message"],
                    collector,
                    parsed["sender"],
                    input_channel=self.name(),
                    metadata=parsed["metadata"],
                )
            )
            return response.json(collector.messages, headers=_NO_STORE)

        @webhook.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            try:
                query = parse_outbox_query(dict(request.args))
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            try:
                messages = await asyncio.to_thread(
                    self.sender.fetch, query["sender"], query["after"], query["limit"]
                )
            except Exception:  # the database is down or not migrated: say so, log no ids
                logger.exception("widget outbox: could not read the outbox")
                return response.json({"error": "outbox unavailable"}, status=503)
            last_id = messages[-1]["id"] if messages else query["after"]
            return response.json({"messages": messages, "last_id": last_id}, headers=_NO_STORE)

        return webhook


__all__ = [
    "SENDER_ID",
    "WidgetInput",
    "WidgetOutputChannel",
    "WidgetSender",
    "check_sender",
    "parse_outbox_query",
]
