"""Telegram: a Rasa input channel (webhook) and its output channel, over the Bot API.

* :class:`TelegramSender` talks to the Bot API (python-telegram-bot's ``Bot``); it imports
  nothing from Rasa, so the staff console sends replies and notifications with it::

      sender = TelegramSender(token, "https://api.telegram.org")
      await sender.send_text(chat_id, "Votre dossier est prêt.", buttons=[...])

* :class:`TelegramOutputChannel` is what Rasa answers through (it wraps a sender).
* :class:`TelegramInput` is the webhook, ``POST /webhooks/telegram/webhook``. Telegram signs
  nothing, but sends back the ``secret_token`` given to ``setWebhook`` in the
  ``X-Telegram-Bot-Api-Secret-Token`` header: anything without the right one is refused (403).

What it does with updates (private chats only; groups and channels are ignored):

* text goes to Rasa as is; ``/start`` becomes ``/greet``, ``/help`` ``/help`` and ``/lang``
  ``/change_language``; the user's ``language_code`` goes into the metadata, where the language
  chooser takes it as a hint for the first message;
* a button press (callback query) is answered (the spinner stops) and its payload goes to Rasa;
* photos, stickers, voice notes, other media and edited messages go to Rasa as
  ``/unsupported_media``: the dialogue answers, in the conversation's language;
* an update delivered twice (same ``update_id``) is handled once (:mod:`bot.storage.channel_store`);
* a sender over the fair-use limit gets one notice, then is ignored for the window.

Answers are sent as plain text (no ``parse_mode``: nothing to escape), split under Telegram's
4096-character limit at paragraph, line or word boundaries; buttons become an inline keyboard
under the last piece. ``callback_data`` holds at most 64 bytes: longer payloads are sent as a
short key derived from the payload and kept in the database (``channel_payloads``), so any
process can resolve them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Text,
    Tuple,
    Union,
)

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
    install_log_redaction,
    pseudonym,
    split_text,
    utf16_len,
)

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org"
#: Longest text message (Telegram counts UTF-16 code units).
MAX_TEXT = 4096
#: Longest ``callback_data``, in bytes.
MAX_CALLBACK_DATA_BYTES = 64
#: Header carrying the webhook's secret token.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: Updates the webhook asks for (``setWebhook`` / ``getUpdates`` ``allowed_updates``).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: Bot commands and the payload each one sends Rasa.
COMMANDS: Dict[str, str] = {"start": "/greet", "help": "/help", "lang": "/change_language"}
#: Descriptions shown in Telegram's command menu (``setMyCommands``).
COMMAND_DESCRIPTIONS: Dict[str, str] = {
    "start": "Bonjour / السلام عليكم / Hello",
    "help": "Aide / مساعدة / Help",
    "lang": "Langue / اللغة / Language",
}
#: Message attributes that make a message something we cannot read.
MEDIA_ATTRIBUTES = (
    "photo",
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class TelegramSender:
    """Sends messages through the Bot API; usable outside Rasa.

    Args:
        token: The bot token (``TELEGRAM_TOKEN``).
        api_base_url: Bot API address (``TELEGRAM_API_BASE_URL``); the token is appended as
            ``{api_base_url}/bot{token}/{method}``.
        store: Where long button payloads are kept; the default database when None.
        connection_pool_size: Concurrent requests to the Bot API.
    """

    def __init__(
        self,
        token: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        *,
        store: Optional[ChannelStore] = None,
        connection_pool_size: int = 8,
    ) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required (TELEGRAM_TOKEN)")
        self._token = token
        self.api_base_url = (api_base_url or DEFAULT_API_BASE_URL).rstrip("/")
        self._store = store
        self._pool = connection_pool_size
        self._bot: Any = None

    @classmethod
    def from_settings(cls) -> "TelegramSender":
        """A sender configured from ``TELEGRAM_TOKEN`` and ``TELEGRAM_API_BASE_URL``."""
        from bot.settings import get_settings  # noqa: PLC0415

        settings = get_settings()
        return cls(settings.telegram_token, settings.telegram_api_base_url)

    @property
    def store(self) -> ChannelStore:
        """The payload store (default database when none was given)."""
        if self._store is None:
            self._store = ChannelStore()
        return self._store

    @property
    def bot(self) -> Any:
        """The python-telegram-bot ``Bot`` (built on first use, no network access)."""
        if self._bot is None:
            from telegram import Bot  # noqa: PLC0415 - keep imports light
            from telegram.request import HTTPXRequest  # noqa: PLC0415

            install_log_redaction()  # the token is in every Bot API URL
            self._bot = Bot(
                self._token,
                base_url=f"{self.api_base_url}/bot",
                request=HTTPXRequest(connection_pool_size=self._pool),
                get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=40.0),
            )
        return self._bot

    async def _call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        """Call a Bot API method, waiting once when Telegram asks to slow down."""
        from telegram.error import RetryAfter  # noqa: PLC0415

        try:
            return await method(**kwargs)
        except RetryAfter as error:
            wait: Any = error.retry_after  # int in PTB 21, timedelta later
            delay = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            if delay > 5:
                raise
            await asyncio.sleep(delay)
            return await method(**kwargs)

    async def callback_data(self, payload: str) -> str:
        """What to put in ``callback_data`` for a payload (itself, or a short stored key)."""
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES and not is_payload_key(payload):
            return payload
        return await in_thread(self.store.payload_key, payload)

    async def keyboard(self, buttons: Sequence[Mapping[str, Any]]) -> Any:
        """An inline keyboard, one button per row (titles stay readable on a phone)."""
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup  # noqa: PLC0415

        rows = []
        for button in buttons:
            title = str(button.get("title") or button.get("payload") or "?")
            url = button.get("url")
            if url:
                rows.append([InlineKeyboardButton(title, url=str(url))])
                continue
            payload = str(button.get("payload") or title)
            rows.append(
                [InlineKeyboardButton(title, callback_data=await self.callback_data(payload))]
            )
        return InlineKeyboardMarkup(rows)

    async def send_text(
        self,
        chat_id: Union[int, str],
        text: str,
        buttons: Optional[Sequence[Mapping[str, Any]]] = None,
    ) -> List[int]:
        """Send a text (split if long), with buttons under its last piece.

        Args:
            chat_id: The chat (a user's id in a private chat).
            text: Plain text; sent without ``parse_mode``, nothing needs escaping.
            buttons: Rasa-style buttons (``title``, ``payload``, optional ``url``).

        Returns:
            The ids of the messages sent.

        Raises:
            telegram.error.TelegramError: When the Bot API refuses (e.g. the user blocked
                the bot: ``Forbidden``).
        """
        from telegram import LinkPreviewOptions  # noqa: PLC0415

        pieces = split_text(text, MAX_TEXT, utf16_len) or ([" "] if buttons else [])
        markup = await self.keyboard(buttons) if buttons else None
        sent: List[int] = []
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            message = await self._call(
                self.bot.send_message,
                chat_id=chat_id,
                text=piece,
                reply_markup=markup if last else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            sent.append(int(message.message_id))
        return sent

    async def answer_callback(self, callback_query_id: str, text: Optional[str] = None) -> None:
        """Acknowledge a button press (stops the spinner on the user's button)."""
        await self._call(
            self.bot.answer_callback_query, callback_query_id=callback_query_id, text=text
        )

    async def set_webhook(self, url: str, secret_token: str) -> bool:
        """Register the webhook and the command menu.

        Args:
            url: Public HTTPS address of ``/webhooks/telegram/webhook``.
            secret_token: What Telegram sends back in ``X-Telegram-Bot-Api-Secret-Token``.

        Returns:
            True when Telegram accepted it.
        """
        from telegram import BotCommand  # noqa: PLC0415

        done = await self._call(
            self.bot.set_webhook,
            url=url,
            secret_token=secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        await self._call(
            self.bot.set_my_commands,
            commands=[BotCommand(name, text) for name, text in COMMAND_DESCRIPTIONS.items()],
        )
        return bool(done)

    async def delete_webhook(self) -> bool:
        """Remove the webhook (needed before long polling)."""
        return bool(await self._call(self.bot.delete_webhook))

    async def get_updates(
        self, offset: Optional[int] = None, timeout: int = 30
    ) -> List[Dict[str, Any]]:
        """Long-poll the Bot API for updates (when no webhook is set).

        Args:
            offset: First update id wanted (last seen + 1).
            timeout: Seconds Telegram may hold the request open.

        Returns:
            The updates as Bot API JSON dicts.
        """
        updates = await self.bot.get_updates(
            offset=offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)
        )
        return [update.to_dict() for update in updates]

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self._bot is not None:
            for request in getattr(self._bot, "_request", ()):
                await request.shutdown()
            self._bot = None


class TelegramOutputChannel(SenderOutputChannel):
    """Rasa's answers to a Telegram chat, through a :class:`TelegramSender`."""

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return CHANNEL

    async def _send(self, recipient_id: Text, text: str, buttons: Any = None) -> None:
        from telegram.error import TelegramError  # noqa: PLC0415

        try:
            await self.sender.send_text(recipient_id, text, buttons)
        except TelegramError as error:  # blocked bot, deleted chat...: nothing to retry
            logger.warning(
                "telegram: message to %s not sent (%s)",
                pseudonym(recipient_id),
                type(error).__name__,
            )


def _command(text: str) -> Optional[str]:
    """The bot command at the start of a text (``/start@MyBot x`` gives ``start``)."""
    if not text.startswith("/") or len(text) < 2:
        return None
    word = text.split(maxsplit=1)[0][1:]
    name = word.split("@", 1)[0].lower()
    return name if name.isidentifier() else None


class Incoming:
    """What one Telegram update asks of the assistant.

    Attributes:
        chat_id: Where to answer.
        text: What to give Rasa (text or payload).
        metadata: Channel hints (``language_code``).
        callback_query_id: The button press to acknowledge, if any.
        button_title: Title of the pressed button, said to Rasa when a long payload's key
            can no longer be resolved (the classifier usually understands it).
    """

    def __init__(
        self,
        chat_id: int,
        text: Optional[str],
        metadata: Optional[Dict[str, Any]] = None,
        callback_query_id: Optional[str] = None,
        button_title: Optional[str] = None,
    ) -> None:
        self.chat_id = chat_id
        self.text = text
        self.metadata = metadata
        self.callback_query_id = callback_query_id
        self.button_title = button_title

    def __repr__(self) -> str:
        # Never the text nor the chat id.
        return f"<Incoming chat={pseudonym(self.chat_id)} callback={bool(self.callback_query_id)}>"


def _metadata(user: Any) -> Optional[Dict[str, Any]]:
    code = getattr(user, "language_code", None) if user is not None else None
    return {"language_code": code} if code else None


def _button_title(message: Any, data: str) -> Optional[str]:
    """The title of the pressed button, read back from the message's keyboard."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            if getattr(button, "callback_data", None) == data:
                return str(button.text)
    return None


def read_update(update: Any) -> Optional[Incoming]:
    """Turn a parsed ``telegram.Update`` into what to do, or None to ignore it.

    Long payload keys of button presses are not resolved here (that needs the store): the
    returned text is then the key itself (see :meth:`TelegramInput.process`).

    Args:
        update: A ``telegram.Update``.

    Returns:
        An :class:`Incoming`, or None for updates we do not handle (groups, channel posts,
        inline queries, service messages...).
    """
    query = update.callback_query
    if query is not None:
        message = query.message
        chat = getattr(message, "chat", None)
        if chat is not None and chat.type != "private":
            return None
        chat_id = chat.id if chat is not None else query.from_user.id
        title = _button_title(message, query.data) if query.data else None
        return Incoming(int(chat_id), query.data, _metadata(query.from_user), str(query.id), title)
    edited = update.edited_message
    if edited is not None:
        if edited.chat.type != "private":
            return None
        return Incoming(int(edited.chat.id), UNSUPPORTED_MEDIA_PAYLOAD, _metadata(edited.from_user))
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    metadata = _metadata(message.from_user)
    if message.text is not None:
        command = _command(message.text)
        text = COMMANDS.get(command, message.text) if command else message.text
        return Incoming(int(message.chat.id), text, metadata)
    if any(getattr(message, name, None) for name in MEDIA_ATTRIBUTES):
        return Incoming(int(message.chat.id), UNSUPPORTED_MEDIA_PAYLOAD, metadata)
    return None


class TelegramInput(InputChannel):
    """The Telegram webhook channel (``/webhooks/telegram/webhook``).

    Credentials (``credentials.channels.yml``)::

        connectors.telegram.TelegramInput:
          access_token: ${TELEGRAM_TOKEN}
          secret_token: ${TELEGRAM_SECRET_TOKEN}
          api_base_url: ${TELEGRAM_API_BASE_URL}   # empty: https://api.telegram.org
    """

    def __init__(
        self,
        access_token: str,
        secret_token: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        *,
        store: Optional[ChannelStore] = None,
        fair_use: Optional[FairUse] = None,
    ) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.api_base_url = api_base_url or DEFAULT_API_BASE_URL
        self._store = store
        self._sender: Optional[TelegramSender] = None
        self.fair_use = fair_use or FairUse(CHANNEL)
        if not access_token or not secret_token:
            logger.error(
                "telegram channel: TELEGRAM_TOKEN or TELEGRAM_SECRET_TOKEN is empty; "
                "every webhook call will be refused"
            )

    @classmethod
    def name(cls) -> Text:
        """Channel name (URL prefix ``/webhooks/telegram``)."""
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        """Build the channel from its credentials block."""
        credentials = credentials or {}
        return cls(
            str(credentials.get("access_token") or ""),
            str(credentials.get("secret_token") or ""),
            str(credentials.get("api_base_url") or DEFAULT_API_BASE_URL),
        )

    @property
    def store(self) -> ChannelStore:
        """Deduplication and payload store (default database when none was given)."""
        if self._store is None:
            self._store = ChannelStore()
        return self._store

    @property
    def sender(self) -> TelegramSender:
        """The Bot API sender of this channel."""
        if self._sender is None:
            self._sender = TelegramSender(self.access_token, self.api_base_url, store=self.store)
        return self._sender

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output channel for messages Rasa sends on its own (reminders, triggered intents)."""
        return TelegramOutputChannel(self.sender) if self.access_token else None

    def authorised(self, headers: Mapping[str, str]) -> bool:
        """Check the secret-token header (constant-time); False when no secret is configured."""
        given = headers.get(SECRET_HEADER) or headers.get(SECRET_HEADER.lower()) or ""
        if not self.secret_token or not self.access_token:
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.secret_token.encode("utf-8"))

    async def process(
        self,
        body: bytes,
        headers: Mapping[str, str],
        on_new_message: OnNewMessage,
        language_lookup: Optional[LanguageLookup] = None,
    ) -> Tuple[int, Dict[str, Any]]:
        """Handle one webhook call; never raises.

        Args:
            body: Raw request body.
            headers: Request headers.
            on_new_message: Rasa's handler.
            language_lookup: Finds a conversation's language (for the fair-use notice).

        Returns:
            ``(HTTP status, JSON body)``: 413 too large, 403 bad secret, 400 malformed, else
            200 (also for updates ignored, duplicated or throttled: Telegram must not retry).
        """
        if len(body) > MAX_WEBHOOK_BODY_BYTES:
            return 413, {"error": "body too large"}
        if not self.authorised(headers):
            return 403, {"error": "forbidden"}
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"error": "body must be UTF-8 JSON"}
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return 400, {"error": "not a Telegram update"}
        try:
            from telegram import Update  # noqa: PLC0415

            update = Update.de_json(data, None)
            incoming = read_update(update) if update is not None else None
        except Exception as error:  # noqa: BLE001 - any malformed update is the sender's fault
            logger.info("telegram: malformed update (%s)", type(error).__name__)
            return 400, {"error": "malformed update"}
        if incoming is None:
            return 200, {"status": "ignored"}
        try:
            if not await in_thread(self.store.first_delivery, CHANNEL, str(data["update_id"])):
                return 200, {"status": "duplicate"}
        except Exception as error:  # noqa: BLE001 - better answer twice than never
            logger.warning("telegram: delivery store unavailable (%s)", type(error).__name__)
        try:
            return 200, await self._handle(incoming, on_new_message, language_lookup)
        except Exception:  # noqa: BLE001 - a failed answer must not make Telegram retry
            logger.exception("telegram: update of chat %s failed", pseudonym(incoming.chat_id))
            return 200, {"status": "error"}

    async def _handle(
        self,
        incoming: Incoming,
        on_new_message: OnNewMessage,
        language_lookup: Optional[LanguageLookup],
    ) -> Dict[str, Any]:
        text = incoming.text
        if incoming.callback_query_id is not None:
            try:
                await self.sender.answer_callback(incoming.callback_query_id)
            except Exception as error:  # noqa: BLE001 - an old query cannot be answered: go on
                logger.info("telegram: callback not answered (%s)", type(error).__name__)
            if text and is_payload_key(text):
                text = await in_thread(self.store.resolve_payload, text) or incoming.button_title
        if not text:
            return {"status": "ignored"}
        sender_id = str(incoming.chat_id)
        hint = (incoming.metadata or {}).get("language_code")
        allowed, notice = await self.fair_use.admit(sender_id, hint, language_lookup)
        if not allowed:
            if notice:
                await self.sender.send_text(incoming.chat_id, notice)
            return {"status": "throttled"}
        await on_new_message(
            UserMessage(
                text,
                TelegramOutputChannel(self.sender),
                sender_id,
                input_channel=CHANNEL,
                metadata=incoming.metadata,
            )
        )
        return {"status": "ok"}

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Routes: ``GET /`` (health) and ``POST /webhook`` (Telegram updates)."""
        webhook = Blueprint("mdm_telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await receive_webhook(request, self.process, on_new_message)

        return webhook
