"""Tables the messaging channels share between processes (Telegram, WhatsApp).

They live on the same :data:`bot.storage.models.metadata` as the tickets (one database, one
migration history; ``migrations/env.py`` imports this module) but in their own module, so the
channel code and the ticket code change independently.

* ``channel_deliveries``: the updates/messages already handled, so a message delivered twice
  (WhatsApp retries, Telegram redelivery) is processed once. The message id is stored hashed.
* ``channel_contacts``: when each user last wrote, for WhatsApp's 24-hour customer-service
  window. The user is a pseudonymous key (:func:`bot.tickets.pseudonym.user_key`), never the
  phone number.
* ``channel_payloads``: button payloads too long for a channel (Telegram's 64-byte
  ``callback_data``, WhatsApp's 256-character ids) under a short key derived from the payload
  itself, so every process computes the same key for the same payload.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Text

from bot.storage.models import Base, UTCDateTime, utcnow

#: Longest channel name.
CHANNEL_MAX = 16
#: Length of a hashed message id / user key (hex SHA-256).
DIGEST_LENGTH = 64
#: Longest short payload key.
PAYLOAD_KEY_MAX = 32


class ChannelDelivery(Base):
    """A message (or update) already taken in by a channel.

    Attributes:
        channel: Channel name (``whatsapp``, ``telegram``).
        message_hash: SHA-256 of the channel's message id, hex.
        received_at: When it was first received (UTC).

    """

    __tablename__ = "channel_deliveries"

    channel = Column(String(CHANNEL_MAX), primary_key=True)
    message_hash = Column(String(DIGEST_LENGTH), primary_key=True)
    received_at = Column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_channel_deliveries_received_at", "received_at"),)

    def __repr__(self) -> str:
        return f"<ChannelDelivery {self.channel} at {self.received_at}>"


class ChannelContact(Base):
    """When a user last wrote on a channel.

    Attributes:
        channel: Channel name.
        user_key: Pseudonymous key of the user.
        last_inbound_at: Time of the user's latest message (UTC).

    """

    __tablename__ = "channel_contacts"

    channel = Column(String(CHANNEL_MAX), primary_key=True)
    user_key = Column(String(DIGEST_LENGTH), primary_key=True)
    last_inbound_at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (Index("ix_channel_contacts_last_inbound_at", "last_inbound_at"),)

    def __repr__(self) -> str:
        return f"<ChannelContact {self.channel} at {self.last_inbound_at}>"


class ChannelPayload(Base):
    """A long button payload under its short key.

    Attributes:
        key: Short key sent to the channel instead of the payload.
        payload: The payload Rasa expects back.
        last_used_at: Last time a button with this payload was sent (UTC).

    """

    __tablename__ = "channel_payloads"

    key = Column(String(PAYLOAD_KEY_MAX), primary_key=True)
    payload = Column(Text, nullable=False)
    last_used_at = Column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_channel_payloads_last_used_at", "last_used_at"),)

    def __repr__(self) -> str:
        return f"<ChannelPayload {self.key}>"
