"""Fair use: the sliding-window limiter, in memory and on a real Redis server."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest

from bot.ratelimit import (
    NOTICES,
    MemoryRateLimiter,
    RedisRateLimiter,
    Verdict,
    limiter_from_settings,
    notice_text,
)
from bot.settings import LANGUAGES, get_settings

REDIS_URL = os.environ.get("MDM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def redis_limiter_factory(clock):
    """Build Redis limiters sharing one fresh key prefix; FAILS if Redis is unreachable."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"Redis unreachable at {REDIS_URL}: {error}", pytrace=False)
    prefix = f"mdm-test:{secrets.token_hex(4)}:"
    made = []

    def make(limit: int = 100, window: float = 10.0) -> RedisRateLimiter:
        limiter = RedisRateLimiter(REDIS_URL, limit, window, prefix=prefix, clock=clock)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.close()


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request, clock):
    """A factory of limiters, once in memory and once on Redis (the same tests for both)."""
    if request.param == "memory":
        return lambda limit=100, window=10.0: MemoryRateLimiter(limit, window, clock=clock)
    return request.getfixturevalue("redis_limiter_factory")


async def hits(limiter, key: str, count: int) -> list:
    return [await limiter.hit(key) for _ in range(count)]


async def test_a_flood_gets_one_notice_then_is_dropped(make_limiter, clock):
    limiter = make_limiter(100, 10.0)
    verdicts = []
    for _ in range(130):  # 130 messages in about 6.5 s
        verdicts.append(await limiter.hit("telegram:42"))
        clock.now += 0.05
    assert verdicts[:100] == [Verdict.ALLOW] * 100
    assert verdicts[100] is Verdict.NOTIFY
    assert verdicts[101:] == [Verdict.DROP] * 29


async def test_other_senders_are_not_slowed_down(make_limiter):
    limiter = make_limiter(5, 10.0)
    await hits(limiter, "whatsapp:flooder", 20)
    assert await hits(limiter, "whatsapp:someone-else", 5) == [Verdict.ALLOW] * 5
    assert await limiter.hit("rest:flooder") is Verdict.ALLOW  # another channel, another window


async def test_the_window_slides(make_limiter, clock):
    limiter = make_limiter(3, 10.0)
    assert await hits(limiter, "u", 3) == [Verdict.ALLOW] * 3
    clock.now += 4
    assert await limiter.hit("u") is Verdict.NOTIFY
    assert await limiter.hit("u") is Verdict.DROP
    clock.now += 6.5  # the first three hits left the window; refused ones never counted
    assert await hits(limiter, "u", 3) == [Verdict.ALLOW] * 3
    assert await limiter.hit("u") is Verdict.DROP  # still inside the notice's window
    clock.now += 10.1
    assert await hits(limiter, "u", 4) == [Verdict.ALLOW] * 3 + [Verdict.NOTIFY]


async def test_redis_window_is_shared_by_processes(redis_limiter_factory):
    first, second = redis_limiter_factory(4, 10.0), redis_limiter_factory(4, 10.0)
    assert await hits(first, "u", 2) == [Verdict.ALLOW] * 2
    assert await hits(second, "u", 2) == [Verdict.ALLOW] * 2
    assert await first.hit("u") is Verdict.NOTIFY
    assert await second.hit("u") is Verdict.DROP


async def test_redis_counts_exactly_under_concurrency(redis_limiter_factory):
    limiter = redis_limiter_factory(50, 10.0)
    verdicts = await asyncio.gather(*(limiter.hit("u") for _ in range(80)))
    assert verdicts.count(Verdict.ALLOW) == 50
    assert verdicts.count(Verdict.NOTIFY) == 1
    assert verdicts.count(Verdict.DROP) == 29


async def test_redis_stores_no_raw_sender_id(redis_limiter_factory):
    import redis.asyncio as aioredis

    limiter = redis_limiter_factory(2, 10.0)
    await hits(limiter, "whatsapp:33612345678", 3)
    client = aioredis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=limiter.prefix + "*")]
    await client.close()
    assert keys and not any(b"33612345678" in key for key in keys)


async def test_unreachable_redis_lets_messages_through(clock):
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", 1, 10.0, clock=clock)
    assert await hits(limiter, "u", 3) == [Verdict.ALLOW] * 3
    await limiter.aclose()


async def test_memory_limiter_forgets_idle_senders(clock):
    limiter = MemoryRateLimiter(2, 1.0, clock=clock, max_keys=50)
    for index in range(200):
        await limiter.hit(f"sender-{index}")
        clock.now += 0.1
    assert len(limiter) <= 50


def test_notice_in_five_varieties_and_from_language_tags():
    assert set(NOTICES) == set(LANGUAGES)
    assert notice_text(None) == NOTICES["fr"]
    assert notice_text("en-GB") == NOTICES["en"]
    assert notice_text("ar") == NOTICES["ar"]
    assert notice_text("ary_Latn") == NOTICES["ary_Latn"]
    assert notice_text("de") == NOTICES["fr"]
    assert len(set(NOTICES.values())) == 5


def test_limiter_from_settings(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_MESSAGES", "7")
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "3")
    monkeypatch.delenv("RATE_LIMIT_REDIS_URL", raising=False)
    limiter = limiter_from_settings()
    assert isinstance(limiter, MemoryRateLimiter)
    assert (limiter.limit, limiter.window) == (7, 3.0)
    monkeypatch.setenv("RATE_LIMIT_REDIS_URL", REDIS_URL)
    assert isinstance(limiter_from_settings(get_settings()), RedisRateLimiter)


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        MemoryRateLimiter(0, 10)
    with pytest.raises(ValueError):
        MemoryRateLimiter(10, 0)
