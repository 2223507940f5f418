"""Telling users about their tickets and handoffs on their own channel.

Ticket notifications (status change, public reply) use the texts of ``notifications.yml``
in the ticket's language. Finding the user: a ticket only keeps a pseudonymous ``user_key``
(``HMAC(secret, channel NUL sender_id)``), never the raw id. The widget's outbox is keyed
by that same pseudonym (:meth:`WidgetSender.send_to_key`); for the other channels we look
for the conversation in Rasa's tracker store whose sender id gives that key.

Every function returns a delivery code for the console and the audit log: ``sent``,
``no_push`` (REST: request/response, nothing can reach the user afterwards), ``no_recipient``
(the conversation is gone, e.g. erased) or ``failed`` (the channel refused or was down).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml

from bot.handoff.transcript import TrackerReader
from bot.settings import DEFAULT_LANGUAGE, LANGUAGES
from bot.tickets.labels import label
from bot.tickets.pseudonym import user_key_for

logger = logging.getLogger(__name__)

NOTIFICATIONS_FILE = Path(__file__).with_name("notifications.yml")

SENT, NO_PUSH, NO_RECIPIENT, FAILED = "sent", "no_push", "no_recipient", "failed"

#: The channel's sender (``await sender.send_text(recipient_id, text, buttons=...)``), or None
#: when the channel cannot push (REST). ``bot/`` does not import ``connectors/``: the console's
#: entry point passes :func:`connectors.senders.get_sender` in (tests pass fakes).
SenderLookup = Callable[[str], Optional[Any]]


@functools.lru_cache(maxsize=1)
def notification_texts() -> Dict[str, Dict[str, str]]:
    """The texts of ``notifications.yml`` (``{kind: {language: text}}``)."""
    return yaml.safe_load(NOTIFICATIONS_FILE.read_text(encoding="utf-8"))


def ticket_message(kind: str, lang: str, ref: str, status: str = "", text: str = "") -> str:
    """A notification in the user's variety.

    Args:
        kind: ``status_changed``, ``status_changed_note`` or ``reply``.
        lang: The ticket's language (French when unknown).
        ref: Ticket reference.
        status: Status code, named in ``lang``.
        text: Reply or note.

    Returns:
        The message.

    """
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    template = notification_texts()[kind][lang]
    status_name = label(lang, f"status.{status}") if status else ""
    return template.format(ref=ref, status=status_name, text=text)


def find_sender(reader: TrackerReader, channel: str, user_key: str) -> Optional[str]:
    """The conversation id of a pseudonymous user on a channel, if it is in the tracker store."""
    for sender in reader.senders():
        try:
            if user_key_for(channel, sender) == user_key:
                return sender
        except ValueError:
            continue
    return None


async def deliver(
    senders: SenderLookup,
    channel: str,
    recipient_id: str,
    text: str,
    buttons: Optional[List[Dict[str, Any]]] = None,
) -> str:
    """Send one message through the channel's sender; return the delivery code."""
    sender = senders(channel)
    if sender is None:
        return NO_PUSH
    try:
        await sender.send_text(recipient_id, text, buttons=buttons)
    except Exception as exc:  # noqa: BLE001 - any channel failure is reported, not raised
        logger.warning("delivery on %s failed: %s", channel, type(exc).__name__)
        return FAILED
    return SENT


async def notify_ticket_owner(
    reader: TrackerReader,
    senders: SenderLookup,
    channel: str,
    user_key: Optional[str],
    text: str,
) -> tuple[str, Optional[str]]:
    """Send a ticket notification to its owner.

    Args:
        reader: The tracker store reader.
        senders: The channel senders.
        channel: The ticket's channel.
        user_key: The ticket's owner key (None once erased).
        text: The message.

    Returns:
        ``(code, sender_id)``: the delivery code, and the conversation id when found.

    """
    if not user_key:
        return NO_RECIPIENT, None
    if channel == "widget":
        from bot.storage.widget_models import WidgetSender  # noqa: PLC0415

        try:
            await asyncio.to_thread(WidgetSender().send_to_key, user_key, {"text": text})
        except Exception as exc:  # noqa: BLE001
            logger.warning("widget notification failed: %s", type(exc).__name__)
            return FAILED, None
        sender = await asyncio.to_thread(find_sender, reader, channel, user_key)
        return SENT, sender
    if senders(channel) is None:
        return NO_PUSH, None
    sender = await asyncio.to_thread(find_sender, reader, channel, user_key)
    if sender is None:
        return NO_RECIPIENT, None
    return await deliver(senders, channel, sender, text), sender
