"""What the messaging channels remember between processes, in our database.

Why the database and not Redis or process memory: the channels must behave the same whatever
process a webhook lands on (several Rasa workers, a restart between a WhatsApp delivery and its
retry), and the database is always there (SQLite for one machine, PostgreSQL in production)
while Redis is optional. Every operation is one short indexed statement.

* :meth:`ChannelStore.first_delivery`: deduplication of redelivered messages;
* :meth:`ChannelStore.record_inbound` / :meth:`ChannelStore.last_inbound`: WhatsApp's 24-hour
  customer-service window;
* :meth:`ChannelStore.payload_key` / :meth:`ChannelStore.resolve_payload`: short keys for
  button payloads too long for a channel. The key is derived from the payload (a hash), so
  every process computes the same key and storing it twice is harmless.

Old rows are pruned as the store is used (at most once an hour per process): deliveries after
:data:`DELIVERY_RETENTION` (Meta retries for up to 7 days), contacts after
:data:`CONTACT_RETENTION`, payloads not sent for :data:`PAYLOAD_RETENTION`.

The methods are synchronous (SQLAlchemy 1.4); async callers run them in a thread
(``asyncio.to_thread``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from typing import Any, Callable, Dict, Optional

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.channel_models import ChannelContact, ChannelDelivery, ChannelPayload
from bot.storage.db import session_scope
from bot.storage.models import utcnow
from bot.tickets.pseudonym import user_key

logger = logging.getLogger(__name__)

#: How long a delivered message id is remembered.
DELIVERY_RETENTION = dt.timedelta(days=8)
#: How long the time of a user's last message is kept (the window itself is 24 h).
CONTACT_RETENTION = dt.timedelta(days=2)
#: How long a long payload stays resolvable after the last message that carried it.
PAYLOAD_RETENTION = dt.timedelta(days=90)
#: Minimum time between two automatic prunes of one store.
PRUNE_EVERY = dt.timedelta(hours=1)
#: WhatsApp's customer-service window.
SERVICE_WINDOW = dt.timedelta(hours=24)

#: Every short payload key starts with this; payloads that do are always stored as keys.
PAYLOAD_KEY_PREFIX = "#p:"
#: Characters of the hash in a key (base64url, 132 bits).
_KEY_HASH_CHARS = 22


def payload_key_for(payload: str) -> str:
    """The short key of a payload (deterministic, 25 ASCII characters).

    Args:
        payload: Any payload.

    Returns:
        ``#p:`` followed by 22 base64url characters of its SHA-256.
    """
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return PAYLOAD_KEY_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")[:_KEY_HASH_CHARS]


def is_payload_key(value: str) -> bool:
    """Tell whether a button id / callback data is a short key rather than a payload."""
    return value.startswith(PAYLOAD_KEY_PREFIX)


def _insert(session: Session, table: Any) -> Any:
    """A dialect-specific INSERT that supports ``ON CONFLICT`` (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415
    else:
        from sqlalchemy.dialects.sqlite import insert  # noqa: PLC0415
    return insert(table)


class ChannelStore:
    """Deliveries, last inbound times and long payloads of the channels.

    Args:
        factory: Session factory; the default one (``DATABASE_URL``) when None.
        clock: Returns the current aware UTC time (tests drive it).
        secret: Key of the user pseudonyms; ``MDM_SECRET_KEY`` when None.
    """

    def __init__(
        self,
        factory: Optional[sessionmaker] = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        secret: Optional[str] = None,
    ) -> None:
        self._factory = factory
        self._clock = clock
        self._secret = secret
        self._last_prune: Optional[dt.datetime] = None

    def _user(self, channel: str, user_id: str) -> str:
        if self._secret is None:
            from bot.settings import get_settings  # noqa: PLC0415

            self._secret = get_settings().secret_key
        return user_key(channel, str(user_id), self._secret)

    # ------------------------------------------------------------------ deliveries
    def first_delivery(self, channel: str, message_id: str) -> bool:
        """Record a message id; tell whether this is its first delivery.

        Safe under concurrency: when two processes receive the same message at once, exactly
        one of them gets True.

        Args:
            channel: Channel name.
            message_id: The channel's id of the message or update.

        Returns:
            True the first time, False for a redelivery.
        """
        self.maybe_prune()
        digest = hashlib.sha256(str(message_id).encode("utf-8")).hexdigest()
        with session_scope(self._factory) as session:
            statement = (
                _insert(session, ChannelDelivery.__table__)
                .values(channel=channel, message_hash=digest, received_at=self._clock())
                .on_conflict_do_nothing(index_elements=["channel", "message_hash"])
            )
            result = session.execute(statement)
            return bool(result.rowcount == 1)

    # ------------------------------------------------------------------ service window
    def record_inbound(self, channel: str, user_id: str, at: Optional[dt.datetime] = None) -> None:
        """Remember that a user wrote (keeps the latest time if messages arrive out of order).

        Args:
            channel: Channel name.
            user_id: The channel's id of the user (stored as a pseudonym).
            at: When the user wrote; now when None. Never later than now.
        """
        now = self._clock()
        when = min(at, now) if at is not None else now
        table = ChannelContact.__table__
        with session_scope(self._factory) as session:
            statement = _insert(session, table).values(
                channel=channel, user_key=self._user(channel, user_id), last_inbound_at=when
            )
            newer = statement.excluded.last_inbound_at > table.c.last_inbound_at
            statement = statement.on_conflict_do_update(
                index_elements=["channel", "user_key"],
                set_={
                    "last_inbound_at": case(
                        (newer, statement.excluded.last_inbound_at),
                        else_=table.c.last_inbound_at,
                    )
                },
            )
            session.execute(statement)

    def last_inbound(self, channel: str, user_id: str) -> Optional[dt.datetime]:
        """When a user last wrote on a channel, if known.

        Args:
            channel: Channel name.
            user_id: The channel's id of the user.

        Returns:
            An aware UTC time, or None if unknown (never wrote, or too long ago).
        """
        with session_scope(self._factory, readonly=True) as session:
            row = session.get(ChannelContact, (channel, self._user(channel, user_id)))
            return row.last_inbound_at if row is not None else None

    def in_service_window(
        self, channel: str, user_id: str, window: dt.timedelta = SERVICE_WINDOW
    ) -> bool:
        """Tell whether the user wrote less than ``window`` ago."""
        last = self.last_inbound(channel, user_id)
        return last is not None and self._clock() - last < window

    # ------------------------------------------------------------------ long payloads
    def payload_key(self, payload: str) -> str:
        """Store a payload and return its short key (idempotent).

        Args:
            payload: The payload Rasa expects back when the button is pressed.

        Returns:
            The key (see :func:`payload_key_for`).
        """
        key = payload_key_for(payload)
        with session_scope(self._factory) as session:
            statement = _insert(session, ChannelPayload.__table__).values(
                key=key, payload=payload, last_used_at=self._clock()
            )
            statement = statement.on_conflict_do_update(
                index_elements=["key"], set_={"last_used_at": statement.excluded.last_used_at}
            )
            session.execute(statement)
        return key

    def resolve_payload(self, key: str) -> Optional[str]:
        """The payload of a short key, None if unknown or expired."""
        with session_scope(self._factory, readonly=True) as session:
            row = session.get(ChannelPayload, key)
            return str(row.payload) if row is not None else None

    # ------------------------------------------------------------------ housekeeping
    def prune(self) -> Dict[str, int]:
        """Delete rows past their retention.

        Returns:
            Rows deleted per table.
        """
        now = self._clock()
        deleted: Dict[str, int] = {}
        with session_scope(self._factory) as session:
            for name, model, column, keep in (
                ("deliveries", ChannelDelivery, ChannelDelivery.received_at, DELIVERY_RETENTION),
                ("contacts", ChannelContact, ChannelContact.last_inbound_at, CONTACT_RETENTION),
                ("payloads", ChannelPayload, ChannelPayload.last_used_at, PAYLOAD_RETENTION),
            ):
                result = session.execute(delete(model).where(column < now - keep))
                deleted[name] = int(result.rowcount or 0)
        self._last_prune = now
        return deleted

    def maybe_prune(self) -> None:
        """Prune if this store has not done so for :data:`PRUNE_EVERY`; never raises."""
        now = self._clock()
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        try:
            counts = self.prune()
            logger.debug("channel store pruned: %s", counts)
        except Exception as error:  # noqa: BLE001 - housekeeping must not break a message
            logger.warning("channel store prune failed: %s", type(error).__name__)

    def count_deliveries(self) -> int:
        """Number of remembered deliveries (for tests and monitoring)."""
        with session_scope(self._factory, readonly=True) as session:
            return int(
                session.execute(select(func.count()).select_from(ChannelDelivery)).scalar_one()
            )


__all__ = [
    "CONTACT_RETENTION",
    "DELIVERY_RETENTION",
    "PAYLOAD_KEY_PREFIX",
    "PAYLOAD_RETENTION",
    "SERVICE_WINDOW",
    "ChannelStore",
    "is_payload_key",
    "payload_key_for",
]
