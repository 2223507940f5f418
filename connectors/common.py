"""What the messaging channels share: message splitting, webhook limits, fair use.

Nothing here imports Rasa: the senders built on it are also used outside the Rasa process
(the staff console sends replies and notifications through them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

from bot.ratelimit import RateLimiter, Verdict, limiter_from_settings, notice_text

logger = logging.getLogger(__name__)

#: Largest webhook body accepted (a Telegram update or a WhatsApp batch is a few KB).
MAX_WEBHOOK_BODY_BYTES = 1024 * 1024

#: The payload channels send Rasa for what the assistant cannot read (photos, stickers, voice
#: notes, edited messages); the dialogue answers it (``utter_unsupported_media``).
UNSUPPORTED_MEDIA_PAYLOAD = "/unsupported_media"

T = TypeVar("T")

#: Looks up the conversation language of a sender (None when unknown).
LanguageLookup = Callable[[str], Awaitable[Optional[str]]]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, how Telegram counts (an emoji often counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The largest ``i`` such that ``measure(text[:i]) <= limit`` (code-point index)."""
    if measure(text) <= limit:
        return len(text)
    low, high = 0, len(text)
    while low < high:  # binary search: measure is monotonic in the prefix length
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(window: str, minimum: int) -> int:
    """Where to end a piece inside ``window``: paragraph, line, then word boundary.

    Returns the index of the boundary (the whitespace is dropped), or -1 if there is none
    (a single word longer than the limit).
    """
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator)
        if at >= minimum:
            return at
    for at in range(len(window) - 1, 0, -1):
        if window[at].isspace():
            return at
    return -1


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> List[str]:
    """Split a message into pieces of at most ``limit`` without cutting words.

    Prefers paragraph breaks, then line breaks, then spaces; a single "word" longer than
    the limit (a long URL) is cut where it must be. The whitespace at a cut is dropped, the
    rest is kept exactly.

    Args:
        text: The message.
        limit: Largest piece, as counted by ``measure``.
        measure: Length function (``len`` for code points, :func:`utf16_len` for Telegram).

    Returns:
        The pieces, in order; ``[]`` for a blank text.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: List[str] = []
    rest = text.strip()
    while rest:
        end = _fit(rest, limit, measure)
        if end >= len(rest):
            pieces.append(rest)
            break
        # The window includes the next character: if it is a space, cutting there is clean.
        at = _cut(rest[: end + 1], end // 2)
        if at <= 0:  # one word longer than the limit: cut it
            at = max(end, 1)
        piece = rest[:at].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[at:].lstrip()
    return pieces


def split_tail(text: str, limit: int, measure: Callable[[str], int] = len) -> Tuple[str, str]:
    """Split off the longest end of ``text`` that fits ``limit``, at a clean boundary.

    Used when only the last part of a message may carry buttons (WhatsApp's interactive body
    is shorter than a text message).

    Args:
        text: The message.
        limit: Largest tail, as counted by ``measure``.
        measure: Length function.

    Returns:
        ``(head, tail)``: ``head`` is empty when the whole text fits.
    """
    text = text.strip()
    if measure(text) <= limit:
        return "", text
    # Smallest start such that text[start:] fits.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high) // 2
        if measure(text[middle:]) <= limit:
            high = middle
        else:
            low = middle + 1
    start = low
    if start > 0 and text[start - 1].isspace():
        return text[:start].rstrip(), text[start:].strip()
    window = text[start:]
    for separator in ("\n\n", "\n"):
        at = window.find(separator)
        if 0 <= at <= len(window) // 2:
            return text[: start + at].rstrip(), window[at:].strip()
    for at, char in enumerate(window):
        if char.isspace():
            return text[: start + at].rstrip(), window[at:].strip()
    return text[:start], window  # one huge word: cut it


def truncate(text: str, limit: int) -> str:
    """Shorten a label to ``limit`` characters, ending with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


class RedactBotToken(logging.Filter):
    """Hide Telegram bot tokens in log records (httpx logs each request URL at INFO).

    The Bot API puts the token in the URL path (``/bot<token>/sendMessage``); without this,
    every request would write the token to the logs.
    """

    _TOKEN = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without tokens; never drops a record."""
        message = record.getMessage()
        if "/bot" in message:
            redacted = self._TOKEN.sub("/bot<token>", message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    """Install :class:`RedactBotToken` on the ``httpx`` logger (once per process)."""
    target = logging.getLogger("httpx")
    if not any(isinstance(f, RedactBotToken) for f in target.filters):
        target.addFilter(RedactBotToken())


def pseudonym(value: Any) -> str:
    """A short non-reversible tag of an id, for logs (never log raw chat ids or numbers)."""
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:10]


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run a blocking call (database) without blocking the event loop."""
    return await asyncio.to_thread(func, *args)


class FairUse:
    """The fair-use limit of one channel (see :mod:`bot.ratelimit`).

    Args:
        channel: Channel name; part of the limiter key, so channels never share a window.
        limiter: The limiter; built from the settings on first use when None.
    """

    def __init__(self, channel: str, limiter: Optional[RateLimiter] = None) -> None:
        self.channel = channel
        self._limiter = limiter

    @property
    def limiter(self) -> RateLimiter:
        """The limiter (built lazily, inside the running event loop)."""
        if self._limiter is None:
            self._limiter = limiter_from_settings()
        return self._limiter

    async def check(self, sender_id: str) -> Verdict:
        """Count one message of a sender.

        Args:
            sender_id: The channel's id of the sender.

        Returns:
            What to do with the message (:class:`bot.ratelimit.Verdict`).
        """
        verdict = await self.limiter.hit(f"{self.channel}\x00{sender_id}")
        if verdict is not Verdict.ALLOW:
            logger.info(
                "fair use: %s sender %s %s", self.channel, pseudonym(sender_id), verdict.value
            )
        return verdict

    async def admit(
        self, sender_id: str, hint: Optional[str] = None, lookup: Optional[LanguageLookup] = None
    ) -> Tuple[bool, Optional[str]]:
        """The gate every channel puts before Rasa: count the message, say what to do.

        Args:
            sender_id: The channel's id of the sender.
            hint: The channel's language hint, for the notice.
            lookup: Reads the conversation's language, for the notice.

        Returns:
            ``(True, None)``: pass the message on; ``(False, notice)``: do not, and send
            ``notice`` (the one polite message of a flood); ``(False, None)``: drop it.
        """
        verdict = await self.check(sender_id)
        if verdict is Verdict.ALLOW:
            return True, None
        if verdict is Verdict.DROP:
            return False, None
        return False, await self.notice(sender_id, hint, lookup)

    @staticmethod
    async def notice(
        sender_id: str, hint: Optional[str] = None, lookup: Optional[LanguageLookup] = None
    ) -> str:
        """The notice text: the conversation's language, else the channel's hint, else French."""
        language = None
        if lookup is not None:
            try:
                language = await lookup(sender_id)
            except Exception:  # noqa: BLE001 - the notice must go out anyway
                language = None
        return notice_text(language or hint)


async def fair_use_reply(
    fair_use: FairUse, parsed: Dict[str, Any], request: Any
) -> Optional[List[Dict[str, Any]]]:
    """The fair-use gate of the JSON channels (REST and widget), shared by both.

    Args:
        fair_use: The channel's limit.
        parsed: The checked body (``sender``, ``message``, ``metadata``).
        request: The Sanic request (to read the conversation's language from Rasa).

    Returns:
        None to process the message; otherwise the reply to send instead: ``[]`` (dropped)
        or the one polite notice, in the conversation's language, else the body's hint.
    """
    hints = parsed["metadata"] or {}
    hint = hints.get("language") or hints.get("language_code")
    allowed, notice = await fair_use.admit(
        parsed["sender"], hint if isinstance(hint, str) else None, rasa_language_lookup(request)
    )
    if allowed:
        return None
    return [{"recipient_id": parsed["sender"], "text": notice}] if notice else []


def rasa_language_lookup(request: Any) -> LanguageLookup:
    """A :data:`LanguageLookup` reading the ``language`` slot from Rasa's tracker store.

    Args:
        request: The Sanic request (its app holds Rasa's agent in ``app.ctx.agent``).

    Returns:
        The lookup; it answers None when there is no agent or no conversation yet.
    """

    async def lookup(sender_id: str) -> Optional[str]:
        agent = getattr(getattr(request.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return None
        tracker = await store.retrieve(sender_id)
        value = tracker.get_slot("language") if tracker is not None else None
        return str(value) if value else None

    return lookup


__all__ = [
    "MAX_WEBHOOK_BODY_BYTES",
    "UNSUPPORTED_MEDIA_PAYLOAD",
    "FairUse",
    "LanguageLookup",
    "in_thread",
    "pseudonym",
    "rasa_language_lookup",
    "split_tail",
    "split_text",
    "truncate",
    "utf16_len",
]
