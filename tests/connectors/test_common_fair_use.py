"""The fair-use gate every channel puts before Rasa (connectors.common.FairUse.admit)."""

from __future__ import annotations

from bot.ratelimit import NOTICES, MemoryRateLimiter
from connectors.common import FairUse


async def test_admit_passes_then_notifies_once_then_drops():
    gate = FairUse("telegram", MemoryRateLimiter(limit=2, window=60))

    async def lookup(sender_id: str) -> str:
        return "ary"

    assert await gate.admit("42") == (True, None)
    assert await gate.admit("42") == (True, None)
    assert await gate.admit("42", "en", lookup) == (False, NOTICES["ary"])  # the conversation's
    assert await gate.admit("42", "en", lookup) == (False, None)
    assert await gate.admit("43") == (True, None)  # other users are not slowed down


async def test_notice_falls_back_to_the_hint_then_french_when_the_lookup_fails():
    gate = FairUse("whatsapp", MemoryRateLimiter(limit=1, window=60))

    async def broken(sender_id: str) -> str:
        raise RuntimeError("tracker store down")

    await gate.admit("a")
    assert await gate.admit("a", "en", broken) == (False, NOTICES["en"])
    await gate.admit("b")
    assert await gate.admit("b") == (False, NOTICES["fr"])


async def test_channels_never_share_a_window():
    limiter = MemoryRateLimiter(limit=1, window=60)
    telegram, whatsapp = FairUse("telegram", limiter), FairUse("whatsapp", limiter)
    assert await telegram.admit("7") == (True, None)
    assert await whatsapp.admit("7") == (True, None)
