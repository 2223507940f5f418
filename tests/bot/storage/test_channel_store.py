"""The channels' shared store (deliveries, service window, long payloads), SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.storage.channel_models import ChannelContact, ChannelPayload
from bot.storage.channel_store import (
    PAYLOAD_KEY_PREFIX,
    ChannelStore,
    is_payload_key,
    payload_key_for,
)
from bot.storage.db import session_scope


@pytest.fixture
def store(session_factory, clock):
    return ChannelStore(session_factory, clock=clock, secret="test-secret")


def test_a_message_is_taken_in_once(store):
    assert store.first_delivery("whatsapp", "wamid.ABC") is True
    assert store.first_delivery("whatsapp", "wamid.ABC") is False
    assert store.first_delivery("telegram", "wamid.ABC") is True  # another channel
    assert store.first_delivery("whatsapp", "wamid.ABD") is True
    assert store.count_deliveries() == 3


def test_concurrent_deliveries_of_one_message_give_exactly_one_winner(session_factory):
    stores = [ChannelStore(session_factory, secret="s") for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda s: s.first_delivery("whatsapp", "wamid.SAME"), stores))
    assert results.count(True) == 1


def test_service_window(store, clock):
    assert store.last_inbound("whatsapp", "33612345678") is None
    assert not store.in_service_window("whatsapp", "33612345678")
    store.record_inbound("whatsapp", "33612345678")
    assert store.last_inbound("whatsapp", "33612345678") == clock.now
    assert store.in_service_window("whatsapp", "33612345678")
    clock.advance(hours=23, minutes=59)
    assert store.in_service_window("whatsapp", "33612345678")
    clock.advance(minutes=2)
    assert not store.in_service_window("whatsapp", "33612345678")
    assert not store.in_service_window("telegram", "33612345678")


def test_out_of_order_messages_keep_the_latest_time(store, clock):
    late = clock.now - dt.timedelta(minutes=1)
    early = clock.now - dt.timedelta(hours=3)
    store.record_inbound("whatsapp", "u", at=late)
    store.record_inbound("whatsapp", "u", at=early)  # a retry of an older message
    assert store.last_inbound("whatsapp", "u") == late
    store.record_inbound("whatsapp", "u", at=clock.now + dt.timedelta(days=1))  # bogus future
    assert store.last_inbound("whatsapp", "u") == clock.now


def test_phone_numbers_are_stored_as_pseudonyms(store, session_factory):
    store.record_inbound("whatsapp", "33612345678")
    with session_scope(session_factory, readonly=True) as session:
        keys = session.execute(select(ChannelContact.user_key)).scalars().all()
    assert len(keys) == 1 and "33612345678" not in keys[0] and len(keys[0]) == 64


def test_long_payloads_get_a_short_stable_key(store, session_factory):
    payload = '/procedure_detail{"detail": "documents", "entry": "' + "x" * 200 + '"}'
    key = store.payload_key(payload)
    assert key == payload_key_for(payload) == store.payload_key(payload)  # idempotent
    assert key.startswith(PAYLOAD_KEY_PREFIX) and len(key.encode()) <= 64 and is_payload_key(key)
    assert store.resolve_payload(key) == payload
    assert store.resolve_payload(payload_key_for("never stored")) is None
    with session_scope(session_factory, readonly=True) as session:
        assert len(session.execute(select(ChannelPayload.key)).all()) == 1
    assert payload_key_for("a") != payload_key_for("b")


def test_prune_forgets_old_rows(store, clock):
    store.first_delivery("whatsapp", "old")
    store.record_inbound("whatsapp", "old-user")
    old_key = store.payload_key("/old" + "x" * 100)
    clock.advance(days=91)
    store.record_inbound("whatsapp", "new-user")
    new_key = store.payload_key("/new" + "x" * 100)
    assert store.prune() == {"deliveries": 1, "contacts": 1, "payloads": 1}
    assert store.first_delivery("whatsapp", "old") is True  # forgotten
    assert store.last_inbound("whatsapp", "old-user") is None
    assert store.last_inbound("whatsapp", "new-user") is not None
    assert store.resolve_payload(old_key) is None and store.resolve_payload(new_key)


def test_prune_runs_by_itself_at_most_hourly(store, clock):
    store.first_delivery("whatsapp", "a")  # first call prunes (nothing yet)
    clock.advance(days=10)
    store.first_delivery("whatsapp", "b")  # more than an hour later: prunes "a"
    assert store.count_deliveries() == 1
    store.first_delivery("whatsapp", "c")  # same hour: no prune
    assert store.count_deliveries() == 2
