"""Channel senders by channel name: how the staff console reaches a user outside Rasa.

Every push-capable channel has a sender with one coroutine::

    await get_sender("telegram").send_text(recipient_id, "Bonjour", buttons=None)

``recipient_id`` is the channel's id of the user, which is also Rasa's sender id for every
channel of this project (Telegram chat id, WhatsApp number, widget sender id). Buttons are
Rasa-style ``{"title", "payload"}`` dicts.

The REST channel answers the HTTP request that carried the user's message and has no way to
reach the user afterwards: there is no REST sender, :func:`get_sender` raises
:class:`NoSender` for it (and for any unknown channel), and the console says so.

Senders are built on first use (they read their settings then), never at import time.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any, Callable, Dict, List, Optional, Protocol

logger = logging.getLogger(__name__)

Buttons = Optional[List[Dict[str, str]]]


class Sender(Protocol):
    """What every channel sender offers."""

    async def send_text(self, recipient_id: str, text: str, buttons: Buttons = None) -> None:
        """Deliver one message (with optional buttons) to a user of the channel."""


class NoSender(LookupError):
    """The channel cannot push messages (REST) or is unknown."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"no sender for channel {channel!r}")
        self.channel = channel


class WidgetTextSender:
    """The web widget's outbox (:class:`bot.storage.widget_models.WidgetSender`) as a Sender."""

    def __init__(self) -> None:
        from bot.storage.widget_models import WidgetSender  # noqa: PLC0415

        self._outbox = WidgetSender()

    async def send_text(self, recipient_id: str, text: str, buttons: Buttons = None) -> None:
        """Queue the message in the widget's outbox (the widget polls it)."""
        message: Dict[str, Any] = {"text": text}
        if buttons:
            message["buttons"] = buttons
        # The outbox is a database write: keep it off the event loop.
        await asyncio.to_thread(self._outbox.send, recipient_id, message, author="staff")


def _from_settings(module: str, cls: str) -> Callable[[], Sender]:
    """A factory calling ``module.cls.from_settings()`` on first use (lazy import)."""

    def factory() -> Sender:
        target = getattr(importlib.import_module(module), cls)
        return target.from_settings()

    return factory


_FACTORIES: Dict[str, Callable[[], Sender]] = {
    "telegram": _from_settings("connectors.telegram", "TelegramSender"),
    "whatsapp": _from_settings("connectors.whatsapp", "WhatsAppSender"),
    "widget": WidgetTextSender,
}
_CACHE: Dict[str, Sender] = {}


def register_sender(channel: str, factory: Callable[[], Sender]) -> None:
    """Make ``get_sender(channel)`` build its sender with ``factory`` (tests use fakes).

    Args:
        channel: Rasa input channel name.
        factory: Builds the sender (called once, on first use).

    """
    _FACTORIES[channel] = factory
    _CACHE.pop(channel, None)


def get_sender(channel: str) -> Sender:
    """The sender of a channel.

    Args:
        channel: Rasa input channel name (``telegram``, ``whatsapp``, ``widget``...).

    Returns:
        The channel's sender (built once per process).

    Raises:
        NoSender: For ``rest`` (request/response: no push) and unknown channels.

    """
    if channel not in _CACHE:
        factory = _FACTORIES.get(channel)
        if factory is None:
            raise NoSender(channel)
        _CACHE[channel] = factory()
    return _CACHE[channel]


def can_push(channel: str) -> bool:
    """Tell whether messages can be pushed to users of ``channel``."""
    return channel in _FACTORIES
