"""WhatsApp (Cloud API): a Rasa input channel (webhook) and its output channel, over plain httpx.

* :class:`WhatsAppSender` posts to the Graph API (``{api}/{phone_number_id}/messages``); it
  imports nothing from Rasa, so the staff console sends replies and notifications with it::

      sender = WhatsAppSender(token, phone_number_id)
      try:
          await sender.send_text(wa_id, "Votre dossier est prêt.")
      except OutsideServiceWindow:
          ...  # last message from the user older than 24 h: a template message is needed

* :class:`WhatsAppOutputChannel` is what Rasa answers through (it wraps a sender).
* :class:`WhatsAppInput` is the webhook ``/webhooks/whatsapp/webhook``: ``GET`` answers Meta's
  verification (``hub.verify_token``), ``POST`` takes messages, only with a valid
  ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret).

Incoming: text, reply-button and list choices (their ids are the payloads), template quick
replies; images, stickers, voice notes and other media go to Rasa as ``/unsupported_media``
(the dialogue answers); reactions, status callbacks and anything else are acknowledged and
ignored. A message delivered twice (Meta retries with the same id) is handled once, and the
time of each user's last message is kept for the 24-hour customer-service window; both in our
database (:mod:`bot.storage.channel_store`), so every process agrees.

Outgoing: text (split under 4096 characters); with up to 3 buttons, reply buttons (titles cut
to 20 characters); with more, an interactive list (rows of 24-character titles, the full title
as the row's description, at most 10 rows per list). Ids longer than WhatsApp allows (256 for
buttons, 200 for list rows) are replaced by a short key kept in the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Text, Tuple

import httpx
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.storage.channel_store import ChannelStore, is_payload_key
from connectors.base import SenderOutputChannel, receive_webhook
from connectors.common import (
    MAX_WEBHOOK_BODY_BYTES,
    UNSUPPORTED_MEDIA_PAYLOAD,
    FairUse,
    LanguageLookup,
    in_thread,
    pseudonym,
    split_tail,
    split_text,
    truncate,
)

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
DEFAULT_API_BASE_URL = "https://graph.facebook.com/v19.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
#: Longest text message.
MAX_TEXT = 4096
#: Longest body of an interactive (buttons or list) message.
MAX_INTERACTIVE_BODY = 1024
#: At most this many reply buttons; more options become a list.
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
#: Rows of one list message, and their limits.
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_LIST_BUTTON = 20
#: Message types we cannot read: the dialogue answers ``/unsupported_media``.
MEDIA_TYPES = frozenset(
    {
        "image",
        "sticker",
        "audio",
        "voice",
        "video",
        "document",
        "location",
        "contacts",
        "unsupported",
    }
)
#: Graph API error codes meaning "outside the customer-service window".
WINDOW_ERROR_CODES = frozenset({131047})

_ARABIC = re.compile("[\u0600-\u06ff]")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class OutsideServiceWindow(RuntimeError):
    """The user's last message is older than 24 hours: only a template message may be sent."""


class WhatsAppApiError(RuntimeError):
    """The Graph API refused a message.

    Attributes:
        status: HTTP status.
        code: Graph API error code, if any.
    """

    def __init__(self, status: int, code: Optional[int], kind: str = "") -> None:
        super().__init__(f"Graph API error {code} ({kind or 'unknown'}), HTTP {status}")
        self.status = status
        self.code = code


def text_message(to: str, body: str) -> Dict[str, Any]:
    """A Graph API text message."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


def _unique(titles: Sequence[str], limit: int) -> List[str]:
    """Cut titles to ``limit``; WhatsApp refuses duplicates, so number the clashes."""
    out: List[str] = []
    for title in titles:
        candidate = truncate(title, limit) or "…"
        number = 2
        while candidate in out:
            suffix = f" {number}"
            candidate = truncate(title, limit - len(suffix)).rstrip("…") + suffix
            number += 1
        out.append(candidate)
    return out


def buttons_message(to: str, body: str, options: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
    """An interactive reply-buttons message.

    Args:
        to: Recipient (``wa_id``).
        body: Text above the buttons (at most 1024 characters).
        options: ``(id, title)`` pairs, at most 3; titles are cut to 20 characters.
    """
    titles = _unique([title for _, title in options], MAX_BUTTON_TITLE)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button_id, "title": title}}
                    for (button_id, _), title in zip(options, titles)
                ]
            },
        },
    }


def list_label(body: str) -> str:
    """The label of the button that opens a list, in the body's script."""
    return "الاختيارات" if _ARABIC.search(body) else "Options"


def list_message(to: str, body: str, options: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
    """An interactive list message.

    Args:
        to: Recipient (``wa_id``).
        body: Text above the list button (at most 1024 characters).
        options: ``(id, title)`` pairs, at most 10; a title longer than 24 characters is cut
            and also given in full (up to 72 characters) as the row's description.
    """
    titles = _unique([title for _, title in options], MAX_ROW_TITLE)
    rows = []
    for (row_id, full), title in zip(options, titles):
        row: Dict[str, Any] = {"id": row_id, "title": title}
        if title != " ".join(full.split()):
            row["description"] = truncate(full, MAX_ROW_DESCRIPTION)
        rows.append(row)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": truncate(list_label(body), MAX_LIST_BUTTON),
                "sections": [{"rows": rows}],
            },
        },
    }


class WhatsAppSender:
    """Sends messages through the WhatsApp Cloud API; usable outside Rasa.

    Args:
        access_token: Graph API bearer token (``WHATSAPP_ACCESS_TOKEN``).
        phone_number_id: The sending number's id (``WHATSAPP_PHONE_NUMBER_ID``).
        api_base_url: Graph API address with its version (``WHATSAPP_API_BASE_URL``).
        store: Service-window times and long payloads; the default database when None.
        client: An ``httpx.AsyncClient`` to use (one is made on first use when None).
        enforce_window: Refuse (``OutsideServiceWindow``) to send to a user whose last
            message is older than 24 hours; the Cloud API would refuse it anyway.
    """

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        *,
        store: Optional[ChannelStore] = None,
        client: Optional[httpx.AsyncClient] = None,
        enforce_window: bool = True,
        timeout: float = 10.0,
    ) -> None:
        if not access_token or not phone_number_id:
            raise ValueError("WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID are required")
        self._token = access_token
        self.phone_number_id = phone_number_id
        self.api_base_url = (api_base_url or DEFAULT_API_BASE_URL).rstrip("/")
        self._store = store
        self._client = client
        self._own_client = client is None
        self.enforce_window = enforce_window
        self._timeout = timeout

    @classmethod
    def from_settings(cls) -> "WhatsAppSender":
        """A sender configured from the ``WHATSAPP_*`` settings."""
        from bot.settings import get_settings  # noqa: PLC0415

        settings = get_settings()
        return cls(
            settings.whatsapp_access_token,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_api_base_url,
        )

    @property
    def store(self) -> ChannelStore:
        """The channel store (default database when none was given)."""
        if self._store is None:
            self._store = ChannelStore()
        return self._store

    @property
    def messages_url(self) -> str:
        """``{api}/{phone_number_id}/messages``."""
        return f"{self.api_base_url}/{self.phone_number_id}/messages"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def _id(self, payload: str, limit: int) -> str:
        """A button/row id for a payload: itself, or a short stored key when too long."""
        if len(payload) <= limit and not is_payload_key(payload):
            return payload
        return await in_thread(self.store.payload_key, payload)

    async def build(
        self, to: str, text: str, buttons: Optional[Sequence[Mapping[str, Any]]] = None
    ) -> List[Dict[str, Any]]:
        """The Graph API messages that carry a text and its buttons, in order.

        Args:
            to: Recipient (``wa_id``).
            text: The text (split as needed).
            buttons: Rasa-style buttons (``title``, ``payload``; a ``url`` button becomes a
                line of the text).

        Returns:
            Message bodies for ``POST /{phone_number_id}/messages``.
        """
        options: List[Tuple[str, str]] = []
        links: List[str] = []
        for button in buttons or ():
            title = str(button.get("title") or button.get("payload") or "?")
            if button.get("url"):
                links.append(f"{title}: {button['url']}")
                continue
            options.append((str(button.get("payload") or title), title))
        if links:
            text = "\n".join([text, *links]) if text else "\n".join(links)
        if not options:
            return [text_message(to, piece) for piece in split_text(text, MAX_TEXT)]
        head, body = split_tail(text, MAX_INTERACTIVE_BODY)
        messages = [text_message(to, piece) for piece in split_text(head, MAX_TEXT)]
        body = body or "…"
        if len(options) <= MAX_BUTTONS:
            ids = [await self._id(payload, MAX_BUTTON_ID) for payload, _ in options]
            messages.append(buttons_message(to, body, list(zip(ids, [t for _, t in options]))))
            return messages
        for start in range(0, len(options), MAX_LIST_ROWS):
            chunk = options[start : start + MAX_LIST_ROWS]
            ids = [await self._id(payload, MAX_ROW_ID) for payload, _ in chunk]
            messages.append(
                list_message(to, body if start == 0 else "…", list(zip(ids, [t for _, t in chunk])))
            )
        return messages

    async def post(self, message: Mapping[str, Any]) -> str:
        """Post one message to the Graph API.

        Returns:
            The WhatsApp message id.

        Raises:
            OutsideServiceWindow: The API says the 24-hour window is closed.
            WhatsAppApiError: Any other refusal.
        """
        reply = await self._http().post(
            self.messages_url,
            json=message,
            headers={"Authorization": f"Bearer {self._token}"},
        )
        try:
            data = reply.json()
        except ValueError:
            data = {}
        if reply.status_code >= 400 or not isinstance(data, dict) or "error" in data:
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            code = error.get("code") if isinstance(error.get("code"), int) else None
            if code in WINDOW_ERROR_CODES:
                raise OutsideServiceWindow("WhatsApp refused: outside the 24-hour window")
            raise WhatsAppApiError(reply.status_code, code, str(error.get("type") or ""))
        messages = data.get("messages") or [{}]
        return str(messages[0].get("id", ""))

    async def send_text(
        self, to: str, text: str, buttons: Optional[Sequence[Mapping[str, Any]]] = None
    ) -> List[str]:
        """Send a text with optional buttons, inside the customer-service window.

        Args:
            to: Recipient (``wa_id``, the phone number in international format, digits only).
            text: Plain text.
            buttons: Rasa-style buttons.

        Returns:
            The WhatsApp ids of the messages sent.

        Raises:
            OutsideServiceWindow: The user's last message is older than 24 hours (or unknown):
                a template message is needed; nothing was sent.
            WhatsAppApiError: The Graph API refused a message.
        """
        if self.enforce_window and not await in_thread(self.store.in_service_window, CHANNEL, to):
            raise OutsideServiceWindow(
                "the user's last message is older than 24 hours: send a template message"
            )
        return [await self.post(message) for message in await self.build(to, text, buttons)]

    async def close(self) -> None:
        """Close the HTTP client if this sender made it."""
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None


class WhatsAppOutputChannel(SenderOutputChannel):
    """Rasa's answers to a WhatsApp user, through a :class:`WhatsAppSender`."""

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return CHANNEL

    async def _send(self, recipient_id: Text, text: str, buttons: Any = None) -> None:
        try:
            await self.sender.send_text(recipient_id, text, buttons)
        except (OutsideServiceWindow, WhatsAppApiError, httpx.HTTPError) as error:
            logger.warning("whatsapp: message to %s not sent (%s)", pseudonym(recipient_id), error)


def valid_signature(body: bytes, header: Optional[str], app_secret: str) -> bool:
    """Check ``X-Hub-Signature-256`` (``sha256=<hex HMAC of the raw body>``), constant-time.

    Args:
        body: The raw request body, exactly as received.
        header: The header's value (None when missing).
        app_secret: The Meta app secret; an empty secret accepts nothing.

    Returns:
        True only for a correct signature.
    """
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower().encode(), expected.encode())


class InboundMessage:
    """One WhatsApp message from a user, read from a webhook.

    Attributes:
        id: WhatsApp message id (``wamid...``).
        sender: The user's ``wa_id``.
        at: When the user sent it (UTC).
        text: What to give Rasa, or None to ignore it.
        button_title: Title of a pressed button/row (said to Rasa if a long payload's key
            can no longer be resolved).
    """

    def __init__(
        self,
        id: str,  # noqa: A002 - the Graph API's name
        sender: str,
        at: Optional[dt.datetime],
        text: Optional[str],
        button_title: Optional[str] = None,
    ) -> None:
        self.id = id
        self.sender = sender
        self.at = at
        self.text = text
        self.button_title = button_title

    def __repr__(self) -> str:
        return f"<InboundMessage from={pseudonym(self.sender)} text={self.text is not None}>"


def _read_message(message: Mapping[str, Any]) -> Optional[InboundMessage]:
    message_id, sender, kind = message.get("id"), message.get("from"), message.get("type")
    if not isinstance(message_id, str) or not isinstance(sender, str) or not sender:
        return None
    at: Optional[dt.datetime] = None
    stamp = message.get("timestamp")
    if isinstance(stamp, (str, int)) and str(stamp).isdigit():
        try:
            at = dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            at = None
    text: Optional[str] = None
    title: Optional[str] = None
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        text = body if isinstance(body, str) else None
    elif kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        text = reply.get("id") if isinstance(reply.get("id"), str) else None
        title = reply.get("title") if isinstance(reply.get("title"), str) else None
    elif kind == "button":  # quick reply of a template message
        button = message.get("button") or {}
        value = button.get("payload") or button.get("text")
        text = value if isinstance(value, str) else None
    elif kind in MEDIA_TYPES:
        text = UNSUPPORTED_MEDIA_PAYLOAD
    return InboundMessage(message_id, sender, at, text, title)


def read_webhook(data: Any, phone_number_id: Optional[str] = None) -> List[InboundMessage]:
    """The user messages of a webhook body (statuses and other fields are left out).

    Args:
        data: The parsed JSON body.
        phone_number_id: Only messages to this number are kept (a Meta app may serve several).

    Returns:
        The messages, in order; malformed entries are skipped.
    """
    found: List[InboundMessage] = []
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        return found
    for entry in data.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            number = (value.get("metadata") or {}).get("phone_number_id")
            if phone_number_id and number and str(number) != str(phone_number_id):
                continue
            for message in value.get("messages") or []:
                if isinstance(message, dict):
                    read = _read_message(message)
                    if read is not None:
                        found.append(read)
    return found


class WhatsAppInput(InputChannel):
    """The WhatsApp Cloud API webhook channel (``/webhooks/whatsapp/webhook``).

    Credentials (``credentials.channels.yml``)::

        connectors.whatsapp.WhatsAppInput:
          access_token: ${WHATSAPP_ACCESS_TOKEN}
          phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
          app_secret: ${WHATSAPP_APP_SECRET}
          verify_token: ${WHATSAPP_VERIFY_TOKEN}
          api_base_url: ${WHATSAPP_API_BASE_URL}   # empty: https://graph.facebook.com/v19.0
    """

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        app_secret: str,
        verify_token: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        *,
        store: Optional[ChannelStore] = None,
        fair_use: Optional[FairUse] = None,
    ) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.api_base_url = api_base_url or DEFAULT_API_BASE_URL
        self._store = store
        self._sender: Optional[WhatsAppSender] = None
        self.fair_use = fair_use or FairUse(CHANNEL)
        if not (access_token and phone_number_id and app_secret and verify_token):
            logger.error(
                "whatsapp channel: a WHATSAPP_* setting is empty; webhook calls will be refused"
            )

    @classmethod
    def name(cls) -> Text:
        """Channel name (URL prefix ``/webhooks/whatsapp``)."""
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WhatsAppInput":
        """Build the channel from its credentials block."""
        credentials = credentials or {}
        return cls(
            str(credentials.get("access_token") or ""),
            str(credentials.get("phone_number_id") or ""),
            str(credentials.get("app_secret") or ""),
            str(credentials.get("verify_token") or ""),
            str(credentials.get("api_base_url") or DEFAULT_API_BASE_URL),
        )

    @property
    def configured(self) -> bool:
        """Every setting is present."""
        return bool(
            self.access_token and self.phone_number_id and self.app_secret and self.verify_token
        )

    @property
    def store(self) -> ChannelStore:
        """The channel store (default database when none was given)."""
        if self._store is None:
            self._store = ChannelStore()
        return self._store

    @property
    def sender(self) -> WhatsAppSender:
        """The Graph API sender of this channel."""
        if self._sender is None:
            self._sender = WhatsAppSender(
                self.access_token, self.phone_number_id, self.api_base_url, store=self.store
            )
        return self._sender

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output channel for messages Rasa sends on its own (inside the 24-hour window)."""
        return WhatsAppOutputChannel(self.sender) if self.configured else None

    def verify(self, args: Mapping[str, Any]) -> Tuple[int, str]:
        """Answer Meta's webhook verification (``GET``).

        Args:
            args: Query parameters (``hub.mode``, ``hub.verify_token``, ``hub.challenge``).

        Returns:
            ``(200, challenge)`` when the token matches, else ``(403, "forbidden")``.
        """

        def first(name: str) -> str:
            value = args.get(name)
            if isinstance(value, list):
                value = value[0] if value else None
            return str(value) if value is not None else ""

        token, challenge = first("hub.verify_token"), first("hub.challenge")
        if (
            first("hub.mode") == "subscribe"
            and self.verify_token
            and hmac.compare_digest(token.encode("utf-8"), self.verify_token.encode("utf-8"))
            and challenge
            and len(challenge) <= 256
        ):
            return 200, challenge
        return 403, "forbidden"

    async def process(
        self,
        body: bytes,
        headers: Mapping[str, str],
        on_new_message: OnNewMessage,
        language_lookup: Optional[LanguageLookup] = None,
    ) -> Tuple[int, Dict[str, Any]]:
        """Handle one webhook ``POST``; never raises.

        Returns:
            ``(HTTP status, JSON body)``: 413 too large, 403 bad signature, 400 malformed, else
            200 (also for statuses, duplicates and throttled messages: Meta must not retry).
        """
        if len(body) > MAX_WEBHOOK_BODY_BYTES:
            return 413, {"error": "body too large"}
        signature = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
        if not self.configured or not valid_signature(body, signature, self.app_secret):
            return 403, {"error": "forbidden"}
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"error": "body must be UTF-8 JSON"}
        if not isinstance(data, dict):
            return 400, {"error": "body must be a JSON object"}
        handled = 0
        for message in read_webhook(data, self.phone_number_id):
            try:
                handled += await self._handle(message, on_new_message, language_lookup)
            except Exception:  # noqa: BLE001 - one failed message must not fail the batch
                logger.exception("whatsapp: message from %s failed", pseudonym(message.sender))
        return 200, {"status": "ok", "handled": handled}

    async def _handle(
        self,
        message: InboundMessage,
        on_new_message: OnNewMessage,
        language_lookup: Optional[LanguageLookup],
    ) -> int:
        try:
            if not await in_thread(self.store.first_delivery, CHANNEL, message.id):
                return 0
            await in_thread(self.store.record_inbound, CHANNEL, message.sender, message.at)
        except Exception as error:  # noqa: BLE001 - better answer twice than never
            logger.warning("whatsapp: channel store unavailable (%s)", type(error).__name__)
        text = message.text
        if text and is_payload_key(text):
            text = await in_thread(self.store.resolve_payload, text) or message.button_title
        if not text:
            return 0
        allowed, notice = await self.fair_use.admit(message.sender, None, language_lookup)
        if not allowed:
            if notice:
                await WhatsAppOutputChannel(self.sender).send_text_message(message.sender, notice)
            return 0
        await on_new_message(
            UserMessage(
                text,
                WhatsAppOutputChannel(self.sender),
                message.sender,
                input_channel=CHANNEL,
            )
        )
        return 1

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Routes: ``GET /`` (health), ``GET /webhook`` (verification), ``POST /webhook``."""
        webhook = Blueprint("mdm_whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verification(request: Request) -> HTTPResponse:
            status, text = self.verify(request.args)
            return response.text(text, status=status)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await receive_webhook(request, self.process, on_new_message)

        return webhook
