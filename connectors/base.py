"""What the Rasa-side classes of the webhook channels (Telegram, WhatsApp) share.

* :class:`SenderOutputChannel`: each channel sends through its own sender
  (``TelegramSender``, ``WhatsAppSender``); what Rasa asks of an output channel (texts,
  buttons, images and attachments as links, no raw JSON) is the same for all of them.
* :func:`receive_webhook`: the ``POST /webhook`` route: refuse an oversized body from its
  declared length before reading it, hand the raw body and headers to the channel's
  ``process``, answer its JSON.

Unlike :mod:`connectors.common`, this module imports Rasa and Sanic: it is only used inside
the Rasa server.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common import MAX_WEBHOOK_BODY_BYTES, LanguageLookup, rasa_language_lookup

logger = logging.getLogger(__name__)


class SenderOutputChannel(OutputChannel):
    """Rasa's answers through a channel's sender; subclasses say how one text goes out."""

    def __init__(self, sender: Any) -> None:
        """Wrap ``sender`` (kept as ``self.sender``)."""
        self.sender = sender

    async def _send(
        self, recipient_id: Text, text: str, buttons: Optional[List[Dict[Text, Any]]] = None
    ) -> None:
        """Send one text, with buttons if any; log, never raise, what the platform refuses."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Send a text."""
        await self._send(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Send a text with the channel's kind of buttons."""
        await self._send(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """Send an image as its link (answers carry no images today)."""
        await self._send(recipient_id, str(image))

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        """Send an attachment as its link."""
        await self._send(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Custom payloads are for other channels: never show raw JSON to a user."""
        logger.debug("%s: custom payload not sent", self.name())


#: A channel's ``process(body, headers, on_new_message, language_lookup)``.
Process = Callable[
    [bytes, Mapping[str, str], Any, Optional[LanguageLookup]],
    Awaitable[Tuple[int, Dict[str, Any]]],
]


async def receive_webhook(request: Request, process: Process, on_new_message: Any) -> HTTPResponse:
    """Answer one webhook call: 413 for an oversized body, else what ``process`` says.

    Args:
        request: The Sanic request.
        process: The channel's handler of the raw body (it checks the signature first).
        on_new_message: Rasa's callback for user messages.

    Returns:
        The JSON response.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_WEBHOOK_BODY_BYTES:
        return response.json({"error": "body too large"}, status=413)
    status, body = await process(
        request.body or b"", request.headers, on_new_message, rasa_language_lookup(request)
    )
    return response.json(body, status=status)
