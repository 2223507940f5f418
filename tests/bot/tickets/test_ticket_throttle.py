"""Throttling of failed ticket look-ups, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.storage.db import session_scope
from bot.storage.models import FailedLookup
from bot.tickets.service import TicketService


def test_penalty_schedule():
    assert [TicketService.penalty(n) for n in range(0, 10)] == [
        0.0,
        0.0,
        0.0,
        0.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        64.0,
    ]
    assert TicketService.penalty(50) == 300.0
    assert TicketService.penalty(10**6) == 300.0


def test_first_three_failures_are_free_then_delay_grows(clocked_service, user_keys, clock):
    key = user_keys("mallory")
    assert clocked_service.lookup_delay(key) == 0.0
    for _ in range(3):
        clocked_service.record_failed_lookup(key)
        assert clocked_service.lookup_delay(key) == 0.0
    delays = []
    for _ in range(5):
        clocked_service.record_failed_lookup(key)
        delays.append(clocked_service.lookup_delay(key))
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert all(b > a for a, b in zip(delays, delays[1:], strict=False))


def test_delay_counts_down_from_last_failure(clocked_service, user_keys, clock):
    key = user_keys("mallory")
    for _ in range(6):
        clocked_service.record_failed_lookup(key)
    assert clocked_service.lookup_delay(key) == pytest.approx(8.0)
    clock.advance(seconds=5)
    assert clocked_service.lookup_delay(key) == pytest.approx(3.0)
    clock.advance(seconds=3)
    assert clocked_service.lookup_delay(key) == 0.0


def test_window_expires(clocked_service, user_keys, clock):
    key = user_keys("mallory")
    for _ in range(10):
        clocked_service.record_failed_lookup(key)
    assert clocked_service.lookup_delay(key) > 0
    clock.advance(minutes=10, seconds=1)
    assert clocked_service.lookup_delay(key) == 0.0
    clocked_service.record_failed_lookup(key)  # also purges the expired records
    assert clocked_service.lookup_delay(key) == 0.0


def test_old_records_are_purged(clocked_service, session_factory, user_keys, clock):
    for name in ("a", "b", "c"):
        clocked_service.record_failed_lookup(user_keys(name))
    clock.advance(minutes=11)
    clocked_service.record_failed_lookup(user_keys("d"))
    with session_scope(session_factory, readonly=True) as session:
        assert session.execute(select(func.count(FailedLookup.id))).scalar_one() == 1


def test_users_are_throttled_separately(clocked_service, user_keys):
    for _ in range(8):
        clocked_service.record_failed_lookup(user_keys("mallory"))
    assert clocked_service.lookup_delay(user_keys("mallory")) > 0
    assert clocked_service.lookup_delay(user_keys("alice")) == 0.0


def test_real_clock(service, user_keys):
    key = user_keys("mallory")
    for _ in range(5):
        service.record_failed_lookup(key)
    assert 0.0 < service.lookup_delay(key) <= 4.0


def test_empty_key_is_ignored(service):
    service.record_failed_lookup("")
    assert service.lookup_delay("") == 0.0
