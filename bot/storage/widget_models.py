"""The web widget's outbox: messages waiting to be fetched by a widget user's browser.

The widget talks to Rasa over HTTP request/response, so a message that is not the reply to the
user's own message (a staff answer, a notification, a bot message triggered from outside) has
nowhere to go. It is queued here instead, and the widget polls
``GET /webhooks/widget/outbox?sender=...&after=<id>`` (:mod:`connectors.widget`) while it is open.

The table lives in our database (``DATABASE_URL``), so every Rasa process and the staff console
share it. :class:`WidgetSender` is the only way in and out, and imports nothing from Rasa: the
console and scripts use it directly::

    WidgetSender().send(sender_id, "Votre dossier est prêt.", author="staff")

Privacy: the raw sender id is never stored. Rows are keyed by the same pseudonymous user key as
tickets (``HMAC(MDM_SECRET_KEY, "widget" NUL sender_id)``, :mod:`bot.tickets.pseudonym`), so a
leaked table gives nobody the ids needed to read an outbox, and staff can reach the owner of a
widget ticket from the ticket's ``user_key`` alone (:meth:`WidgetSender.send_to_key`).

The model uses the shared declarative ``Base`` of :mod:`bot.storage.models` so that it is part
of the same ``metadata`` (naming convention, Alembic autogenerate); ``migrations/env.py``
imports this module for that reason.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import sessionmaker

from bot.storage.models import Base, UTCDateTime, utcnow

#: Channel name used in the pseudonymous key (the Rasa input channel's name).
CHANNEL = "widget"
#: Who queued a message: a bot message sent outside a request, a person, or the system.
OUTBOX_AUTHORS: tuple[str, ...] = ("bot", "staff", "system")
#: Longest text of a queued message (as the REST channel's longest user message).
TEXT_MAX = 20_000
#: Most buttons on one message.
BUTTONS_MAX = 20
#: Longest button title and payload.
BUTTON_TITLE_MAX = 200
BUTTON_PAYLOAD_MAX = 2_000
#: Most messages returned by one fetch.
FETCH_MAX = 100
#: Keys a queued message may have (the REST channel's reply format, minus ``recipient_id``).
MESSAGE_KEYS = frozenset({"text", "buttons", "image", "attachment", "custom"})


class WidgetOutboxMessage(Base):
    """One message queued for a widget user.

    Attributes:
        id: Increasing id: the order of delivery, and the widget's ``after`` cursor.
        recipient_key: Pseudonymous key of the widget user (never the raw sender id).
        created_at: When it was queued (UTC).
        author: One of :data:`OUTBOX_AUTHORS`.
        body: The message as JSON (``text``, ``buttons``, ``image``, ``attachment``, ``custom``).

    """

    __tablename__ = "widget_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    recipient_key = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    author = Column(String(8), nullable=False)
    body = Column(Text, nullable=False)

    __table_args__ = (
        CheckConstraint(
            "author IN ({})".format(", ".join(repr(a) for a in OUTBOX_AUTHORS)), name="author"
        ),
        # The poll: this recipient's messages after a cursor, in order.
        Index("ix_widget_outbox_recipient_key_id", "recipient_key", "id"),
        # The purge of old messages.
        Index("ix_widget_outbox_created_at", "created_at"),
    )

    def __repr__(self) -> str:
        # Never include the text.
        return f"<WidgetOutboxMessage {self.id} by {self.author}>"


Message = Union[str, Mapping[str, Any]]


def normalise_message(message: Message) -> Dict[str, Any]:
    """Check a message to queue and return it in the REST reply format.

    Args:
        message: A text, or a mapping with any of ``text`` (string), ``buttons`` (list of
            ``{"title", "payload"}`` strings), ``image`` and ``attachment`` (http(s) URLs) and
            ``custom`` (a JSON object).

    Returns:
        A new dict with only the keys given, values checked.

    Raises:
        ValueError: If the message is empty, too long or malformed.

    """
    if isinstance(message, str):
        message = {"text": message}
    if not isinstance(message, Mapping):
        raise ValueError("a message is a text or a mapping")
    unknown = set(message) - MESSAGE_KEYS
    if unknown:
        raise ValueError(f"unknown message keys: {sorted(unknown)}")
    out: Dict[str, Any] = {}
    text = message.get("text")
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("'text' must be a non-empty string")
        if len(text) > TEXT_MAX:
            raise ValueError(f"'text' longer than {TEXT_MAX} characters")
        out["text"] = text
    buttons = message.get("buttons")
    if buttons is not None:
        if not isinstance(buttons, list) or len(buttons) > BUTTONS_MAX:
            raise ValueError(f"'buttons' must be a list of at most {BUTTONS_MAX} buttons")
        checked = []
        for button in buttons:
            if not isinstance(button, Mapping):
                raise ValueError("a button is a mapping with 'title' and 'payload'")
            title, payload = button.get("title"), button.get("payload")
            if not isinstance(title, str) or not title.strip() or len(title) > BUTTON_TITLE_MAX:
                raise ValueError(f"a button 'title' is a string of 1-{BUTTON_TITLE_MAX} characters")
            if not isinstance(payload, str) or not payload or len(payload) > BUTTON_PAYLOAD_MAX:
                raise ValueError(
                    f"a button 'payload' is a string of 1-{BUTTON_PAYLOAD_MAX} characters"
                )
            checked.append({"title": title, "payload": payload})
        if checked:
            out["buttons"] = checked
    for key in ("image", "attachment"):
        url = message.get(key)
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise ValueError(f"'{key}' must be an http(s) URL")
            out[key] = url
    custom = message.get("custom")
    if custom is not None:
        if not isinstance(custom, Mapping):
            raise ValueError("'custom' must be a JSON object")
        out["custom"] = json.loads(json.dumps(custom))  # checks it is JSON, copies it
    if not out:
        raise ValueError("the message is empty")
    return out


class WidgetSender:
    """Queue messages for widget users and read them back (the outbox's only API).

    Safe to use from several processes: the database orders the messages (increasing ids).

    Args:
        session_factory: Sessions on our database; the default one (``DATABASE_URL``) when
            None.
        secret: Key of the pseudonymous user keys; ``MDM_SECRET_KEY`` when None. Every
            process sharing an outbox must use the same one.
        clock: Returns the current UTC time (tests pass a fake one).

    """

    def __init__(
        self,
        session_factory: Optional[sessionmaker] = None,
        *,
        secret: Optional[str] = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._factory = session_factory
        self._secret = secret
        self._clock = clock

    def recipient_key(self, sender_id: str) -> str:
        """Return the pseudonymous key of a widget sender id (as tickets store it).

        Args:
            sender_id: The widget's sender id.

        Returns:
            64 hexadecimal characters.

        """
        from bot.settings import get_settings  # noqa: PLC0415 (read at call time)
        from bot.tickets.pseudonym import user_key  # noqa: PLC0415

        return user_key(CHANNEL, sender_id, self._secret or get_settings().secret_key)

    def _session(self, readonly: bool = False) -> Any:
        from bot.storage.db import session_scope  # noqa: PLC0415

        return session_scope(self._factory, readonly=readonly)

    def send(self, sender_id: str, message: Message, *, author: str = "staff") -> int:
        """Queue a message for the widget user ``sender_id``.

        Args:
            sender_id: The widget's sender id (the conversation id in Rasa's tracker).
            message: A text or a message mapping (see :func:`normalise_message`).
            author: One of :data:`OUTBOX_AUTHORS`.

        Returns:
            The id of the queued message.

        Raises:
            ValueError: If the sender id is empty or the message or author is invalid.

        """
        if not isinstance(sender_id, str) or not sender_id:
            raise ValueError("sender_id must be a non-empty string")
        return self.send_to_key(self.recipient_key(sender_id), message, author=author)

    def send_to_key(self, recipient_key: str, message: Message, *, author: str = "staff") -> int:
        """Queue a message for the widget user whose pseudonymous key is ``recipient_key``.

        Staff answering a ticket opened on the widget (``channel == "widget"``) use the
        ticket's ``user_key``: they never see the raw sender id.

        Args:
            recipient_key: A key made by :meth:`recipient_key` (64 hexadecimal characters).
            message: A text or a message mapping (see :func:`normalise_message`).
            author: One of :data:`OUTBOX_AUTHORS`.

        Returns:
            The id of the queued message.

        Raises:
            ValueError: If the key, the message or the author is invalid.

        """
        from bot.tickets.pseudonym import is_user_key  # noqa: PLC0415

        if not is_user_key(recipient_key):
            raise ValueError("recipient_key must be 64 lowercase hexadecimal characters")
        if author not in OUTBOX_AUTHORS:
            raise ValueError(f"author must be one of {OUTBOX_AUTHORS}")
        body = json.dumps(normalise_message(message), ensure_ascii=False)
        row = WidgetOutboxMessage(
            recipient_key=recipient_key, created_at=self._clock(), author=author, body=body
        )
        with self._session() as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def fetch(self, sender_id: str, after: int = 0, limit: int = 50) -> List[Dict[str, Any]]:
        """Return the messages queued for ``sender_id`` after the cursor, oldest first.

        Messages stay in the outbox once read (several tabs may poll; :meth:`purge` removes
        old ones), so the caller keeps the last id it saw and passes it as ``after``.

        Args:
            sender_id: The widget's sender id.
            after: Only messages with a larger id.
            limit: At most this many (1 to :data:`FETCH_MAX`).

        Returns:
            ``[{"id", "author", "created_at" (ISO 8601), **message}]``; empty for a sender
            nobody wrote to.

        """
        limit = max(1, min(int(limit), FETCH_MAX))
        key = self.recipient_key(sender_id)
        query = (
            select(WidgetOutboxMessage)
            .where(WidgetOutboxMessage.recipient_key == key, WidgetOutboxMessage.id > int(after))
            .order_by(WidgetOutboxMessage.id)
            .limit(limit)
        )
        with self._session(readonly=True) as session:
            rows = session.execute(query).scalars().all()
            return [
                {
                    "id": int(row.id),
                    "author": row.author,
                    "created_at": row.created_at.isoformat(),
                    **json.loads(row.body),
                }
                for row in rows
            ]

    def purge(self, older_than: dt.timedelta = dt.timedelta(days=30)) -> int:
        """Delete the messages queued more than ``older_than`` ago.

        Args:
            older_than: Age beyond which messages are deleted.

        Returns:
            How many were deleted.

        """
        cutoff = self._clock() - older_than
        with self._session() as session:
            result = session.execute(
                delete(WidgetOutboxMessage).where(WidgetOutboxMessage.created_at < cutoff)
            )
            return int(result.rowcount or 0)


__all__ = [
    "CHANNEL",
    "FETCH_MAX",
    "OUTBOX_AUTHORS",
    "WidgetOutboxMessage",
    "WidgetSender",
    "normalise_message",
]
