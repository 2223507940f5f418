"""Pseudonymous user keys: we never store a channel's raw sender id.

``user_key = HMAC-SHA256(secret, channel NUL sender_id)`` in hexadecimal. Without the secret
key the raw id cannot be recovered nor a known id linked to its tickets; with it, the same
person on the same channel always gets the same key, so they can follow their tickets.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bot.settings import get_settings

#: Length of a user key (hex SHA-256).
USER_KEY_LENGTH = 64
_USER_KEY = re.compile(r"[0-9a-f]{64}")


def user_key(channel: str, sender_id: str, secret: str) -> str:
    """Compute the pseudonymous key of a user.

    Args:
        channel: Input channel name (``rest``, ``socketio``, ``telegram``...).
        sender_id: The channel's id of the user (kept nowhere).
        secret: The secret key (``get_settings().secret_key``).

    Returns:
        64 lowercase hexadecimal characters.

    Raises:
        ValueError: If an argument is empty, or ``channel`` contains a NUL character
            (the separator, which keeps ``("a", "bc")`` and ``("ab", "c")`` apart).

    """
    if not channel or not sender_id or not secret:
        raise ValueError("channel, sender_id and secret must be non-empty")
    if "\x00" in channel:
        raise ValueError("channel must not contain NUL")
    message = channel.encode("utf-8") + b"\x00" + str(sender_id).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def user_key_for(channel: str, sender_id: str) -> str:
    """Compute a user key with the configured secret (``MDM_SECRET_KEY``).

    Args:
        channel: Input channel name.
        sender_id: The channel's id of the user.

    Returns:
        The key, as :func:`user_key`.

    """
    return user_key(channel, sender_id, get_settings().secret_key)


def is_user_key(value: str | None) -> bool:
    """Tell whether ``value`` looks like a key made by :func:`user_key`.

    Args:
        value: Any value.

    Returns:
        True for 64 lowercase hexadecimal characters.

    """
    return isinstance(value, str) and _USER_KEY.fullmatch(value) is not None
