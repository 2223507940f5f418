"""The REST channel, hardened: the same API as Rasa's ``rest`` channel, with input checks.

Rasa's own ``RestInput`` answers 500 to a JSON array and passes non-text messages on. This
subclass keeps the URL (``/webhooks/rest/webhook``) and the response format, and refuses
malformed bodies with a 400 and a message saying what is wrong.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common import FairUse, fair_use_reply
from connectors.speedups import install as install_speedups

# Every Rasa server loads this channel: the place to speed Rasa up (see connectors/speedups.py).
install_speedups()

#: Longer messages are refused: nobody types more, and it bounds the cost of one request.
MAX_MESSAGE_CHARS = 20_000
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 256 * 1024


class BadRequest(ValueError):
    """The request body is not a valid message."""


def parse_body(raw: bytes) -> Dict[str, Any]:
    """Check a REST request body and return ``sender``, ``message`` and ``metadata``.

    Args:
        raw: The raw request body.

    Returns:
        ``{"sender": str, "message": str, "metadata": dict | None}``.

    Raises:
        BadRequest: With a message for the client when the body is not acceptable.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("body must be UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    sender = body.get("sender", "default")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(
            f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
        )
    message = body.get("message")
    if not isinstance(message, str):
        raise BadRequest("'message' must be a string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadRequest(f"'message' longer than {MAX_MESSAGE_CHARS} characters")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object")
    return {"sender": sender, "message": message, "metadata": metadata}


class HardenedRestInput(RestInput):
    """Rasa's REST channel with request validation (same URL and answers).

    Fair use (:mod:`bot.ratelimit`): a sender over the limit gets one notice as the answer,
    then ``[]`` (acknowledged, not processed) until the window slides.
    """

    _fair_use: Optional[FairUse] = None

    @classmethod
    def name(cls) -> Text:
        """Channel name: keeps the ``/webhooks/rest/webhook`` URL."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: ``GET /`` (health) and ``POST /webhook`` (one message, replies as JSON)."""
        webhook = Blueprint("hardened_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                parsed = parse_body(request.body or b"")
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            if self._fair_use is None:
                self._fair_use = FairUse(self.name())
            instead = await fair_use_reply(self._fair_use, parsed, request)
            if instead is not None:
                return response.json(instead)
            collector = CollectingOutputChannel()
            metadata: Optional[Dict[str, Any]] = parsed["metadata"]
            await on_new_message(
                UserMessage(
                    parsed["message"],
                    collector,
                    parsed["sender"],
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )
            return response.json(collector.messages)

        return webhook
