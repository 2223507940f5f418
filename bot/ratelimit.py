"""Fair use: a sliding-window limit on the messages of one sender, for every channel.

A sender may send ``limit`` messages in any ``window`` seconds (100 in 10 s by default). The
first refused message of a flood gets ONE polite notice (:data:`NOTICES`, a channel-level text,
not a dialogue answer: the connector sends it without asking Rasa); the next refused messages
of the same window are dropped (acknowledged to the channel, never processed). Refused
messages do not count, so a sender who slows down is served again as the window slides. Other
senders are never slowed down: every sender has their own window.

Two back ends with the same behaviour:

* :class:`MemoryRateLimiter` (default): per process, nothing to run. With several Rasa
  processes each one counts on its own.
* :class:`RedisRateLimiter` (``RATE_LIMIT_REDIS_URL``): one window shared by every process,
  kept in a sorted set per sender and updated atomically by a Lua script.

Keys are hashed before they are stored: no raw sender id (phone number, chat id) ends up in
memory dumps of the limiter or in Redis. When Redis cannot be reached the limiter lets the
message through (fair use must never take the assistant down) and logs a warning.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import logging
import secrets
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional

from bot.language.choice import hint_from_metadata
from bot.settings import DEFAULT_LANGUAGE, Settings, get_settings

logger = logging.getLogger(__name__)

#: The notice sent once per flood, in the five varieties.
NOTICES: Dict[str, str] = {
    "fr": (
        "Vous envoyez beaucoup de messages en peu de temps : j'ignore les suivants pendant "
        "quelques secondes. Attendez un instant, puis réessayez."
    ),
    "ar": (
        "ترسلون رسائل كثيرة في وقت قصير: سأتجاهل الرسائل التالية لبضع ثوانٍ. "
        "انتظروا قليلًا ثم أعيدوا المحاولة."
    ),
    "ary": (
        "كتصيفط بزاف ديال الميساجات فوقت قصير: غادي نتجاهل اللي جايين شي ثواني. تسنى شوية وعاود."
    ),
    "ary_Latn": (
        "Katsift bzaf dyal les messages f wa9t 9sir: ghadi ntjahel li jayin chi thawani. "
        "Tsna chwiya w 3awd."
    ),
    "en": (
        "You're sending a lot of messages in a short time: I'll ignore the next ones for a few "
        "seconds. Please wait a moment, then try again."
    ),
}


def notice_text(language: Optional[str] = None) -> str:
    """The fair-use notice in a variety or for a channel's language hint.

    Args:
        language: A variety (``ary_Latn``) or a language tag (``en-GB``, ``ar``); French when
            None or unknown.

    Returns:
        The notice text.
    """
    variety = hint_from_metadata({"language": language}) if language else None
    return NOTICES[variety or DEFAULT_LANGUAGE]


class Verdict(str, enum.Enum):
    """What to do with one message."""

    #: Process it.
    ALLOW = "allow"
    #: First refused message of the window: send the notice, do not process.
    NOTIFY = "notify"
    #: Refused again: acknowledge and drop.
    DROP = "drop"


def _digest(key: str) -> str:
    """A fixed-length, non-reversible name for a sender key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class RateLimiter(abc.ABC):
    """A per-key sliding-window limiter.

    Attributes:
        limit: Messages allowed per window.
        window: Window length in seconds.
    """

    def __init__(self, limit: int = 100, window: float = 10.0) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = int(limit)
        self.window = float(window)

    @abc.abstractmethod
    async def hit(self, key: str) -> Verdict:
        """Count one message of ``key`` and say what to do with it.

        Args:
            key: Who sent it (e.g. ``"telegram:12345"``); hashed before use.

        Returns:
            :attr:`Verdict.ALLOW`, :attr:`Verdict.NOTIFY` (once per window) or
            :attr:`Verdict.DROP`.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to close by default
        """Release connections, if any."""


class MemoryRateLimiter(RateLimiter):
    """In-process limiter: a deque of timestamps per sender.

    Memory is bounded: idle senders are forgotten when more than ``max_keys`` are tracked
    (and at most once per window otherwise).
    """

    def __init__(
        self,
        limit: int = 100,
        window: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        super().__init__(limit, window)
        self._clock = clock
        self._max_keys = max_keys
        self._hits: Dict[str, Deque[float]] = {}
        self._notified_until: Dict[str, float] = {}
        self._last_sweep = clock()

    def __len__(self) -> int:
        """Number of senders currently tracked."""
        return len(self._hits)

    def _sweep(self, now: float) -> None:
        horizon = now - self.window
        for name in [n for n, q in self._hits.items() if not q or q[-1] <= horizon]:
            del self._hits[name]
        for name in [n for n, until in self._notified_until.items() if until <= now]:
            del self._notified_until[name]
        self._last_sweep = now

    async def hit(self, key: str) -> Verdict:
        """See :meth:`RateLimiter.hit` (no await inside: atomic on the event loop)."""
        now = self._clock()
        if len(self._hits) >= self._max_keys or now - self._last_sweep >= self.window:
            self._sweep(now)
        name = _digest(key)
        hits = self._hits.setdefault(name, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return Verdict.ALLOW
        if self._notified_until.get(name, float("-inf")) <= now:
            self._notified_until[name] = now + self.window
            return Verdict.NOTIFY
        return Verdict.DROP


#: KEYS: hits (sorted set), notice flag (until when, in ms). ARGV: now (ms), window (ms), limit,
#: unique member. Returns 0 (allow), 1 (notify) or 2 (drop). Decisions use the caller's clock;
#: the Redis expiries only clean up.
_LUA = """
local hits, flag = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', hits, '-inf', string.format('%d', now - window))
if redis.call('ZCARD', hits) < tonumber(ARGV[3]) then
  redis.call('ZADD', hits, ARGV[1], ARGV[4])
  redis.call('PEXPIRE', hits, ARGV[2])
  return 0
end
local until_ms = tonumber(redis.call('GET', flag) or '0')
if until_ms <= now then
  redis.call('SET', flag, string.format('%d', now + window), 'PX', ARGV[2])
  return 1
end
return 2
"""


class RedisRateLimiter(RateLimiter):
    """Limiter shared by every process through Redis (``redis.asyncio``).

    The clock is the caller's (milliseconds since the epoch by default): processes of one
    deployment are expected to have synchronised clocks, and tests can drive time.
    """

    def __init__(
        self,
        url: str,
        limit: int = 100,
        window: float = 10.0,
        *,
        prefix: str = "mdm:ratelimit:",
        clock: Callable[[], float] = time.time,
        client: Any = None,
    ) -> None:
        super().__init__(limit, window)
        self.prefix = prefix
        self._clock = clock
        self._url = url
        self._client = client
        self._script: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as aioredis  # type: ignore[import-untyped]  # noqa: PLC0415

            self._client = aioredis.from_url(self._url, socket_timeout=2, socket_connect_timeout=2)
        if self._script is None:
            self._script = self._client.register_script(_LUA)
        return self._script

    async def hit(self, key: str) -> Verdict:
        """See :meth:`RateLimiter.hit`; lets the message through if Redis fails."""
        name = self.prefix + _digest(key)
        now_ms = int(self._clock() * 1000)
        member = f"{now_ms}:{secrets.token_hex(6)}"
        try:
            code = await self._redis()(
                keys=[name, name + ":notice"],
                args=[now_ms, int(self.window * 1000), self.limit, member],
            )
        except Exception as error:  # noqa: BLE001 - fail open on any Redis problem
            logger.warning("rate limiter: Redis error (%s), message allowed", type(error).__name__)
            return Verdict.ALLOW
        return (Verdict.ALLOW, Verdict.NOTIFY, Verdict.DROP)[int(code)]

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        if self._client is not None:
            await self._client.close()
            await self._client.connection_pool.disconnect()
            self._client = None
            self._script = None


def limiter_from_settings(settings: Optional[Settings] = None) -> RateLimiter:
    """The limiter the settings ask for: Redis when ``RATE_LIMIT_REDIS_URL`` is set.

    Args:
        settings: Settings to use; :func:`bot.settings.get_settings` when None.

    Returns:
        A :class:`RedisRateLimiter` or a :class:`MemoryRateLimiter`.
    """
    settings = settings or get_settings()
    limit, window = settings.rate_limit_messages, settings.rate_limit_window_seconds
    if settings.rate_limit_redis_url:
        return RedisRateLimiter(settings.rate_limit_redis_url, limit, window)
    return MemoryRateLimiter(limit, window)


__all__ = [
    "NOTICES",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "Verdict",
    "limiter_from_settings",
    "notice_text",
]
