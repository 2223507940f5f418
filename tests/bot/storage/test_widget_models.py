"""The widget outbox (WidgetSender), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import secrets
import threading

import pytest
from sqlalchemy import select

from bot.storage.db import session_scope
from bot.storage.widget_models import (
    FETCH_MAX,
    WidgetOutboxMessage,
    WidgetSender,
    normalise_message,
)
from bot.tickets.pseudonym import user_key


def new_sender() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def outbox(session_factory) -> WidgetSender:
    return WidgetSender(session_factory, secret="test-secret")


def test_messages_come_back_in_order_for_their_sender_only(outbox):
    alice, bob = new_sender(), new_sender()
    first = outbox.send(alice, "Bonjour, votre dossier avance.")
    outbox.send(bob, "not for alice")
    second = outbox.send(
        alice,
        {"text": "Choisissez", "buttons": [{"title": "Oui", "payload": "/affirm"}]},
        author="system",
    )
    third = outbox.send(alice, "سلام، الملف ديالك واجد")
    assert first < second < third
    got = outbox.fetch(alice)
    assert [m["id"] for m in got] == [first, second, third]
    assert got[0]["text"] == "Bonjour, votre dossier avance." and got[0]["author"] == "staff"
    assert got[1]["buttons"] == [{"title": "Oui", "payload": "/affirm"}]
    assert got[1]["author"] == "system"
    assert got[2]["text"] == "سلام، الملف ديالك واجد"
    assert dt.datetime.fromisoformat(got[0]["created_at"]).tzinfo is not None
    # the cursor
    assert [m["id"] for m in outbox.fetch(alice, after=first)] == [second, third]
    assert outbox.fetch(alice, after=third) == []
    assert [m["id"] for m in outbox.fetch(alice, limit=2)] == [first, second]


def test_unknown_sender_has_an_empty_outbox(outbox):
    outbox.send(new_sender(), "hello")
    assert outbox.fetch(new_sender()) == []


def test_raw_sender_id_is_never_stored(outbox, session_factory):
    alice = new_sender()
    outbox.send(alice, "hello")
    with session_scope(session_factory, readonly=True) as session:
        row = session.execute(select(WidgetOutboxMessage)).scalars().one()
    assert alice not in row.recipient_key and alice not in row.body
    assert row.recipient_key == user_key("widget", alice, "test-secret")


def test_staff_reach_a_widget_user_by_the_tickets_user_key(outbox):
    alice = new_sender()
    key = user_key("widget", alice, "test-secret")  # what a widget ticket stores
    outbox.send_to_key(key, "Réponse à votre réclamation")
    assert [m["text"] for m in outbox.fetch(alice)] == ["Réponse à votre réclamation"]
    # another secret is another key: nothing leaks across configurations
    assert WidgetSender(outbox._factory, secret="other").fetch(alice) == []


def test_purge_removes_old_messages_only(session_factory, clock):
    outbox = WidgetSender(session_factory, secret="s", clock=clock)
    alice = new_sender()
    old = outbox.send(alice, "old")
    clock.advance(days=31)
    new = outbox.send(alice, "new")
    assert outbox.purge(dt.timedelta(days=30)) == 1
    assert [m["id"] for m in outbox.fetch(alice)] == [new]
    assert old < new


def test_concurrent_senders_get_distinct_increasing_ids(outbox):
    alice = new_sender()
    ids: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(5):
            queued = outbox.send(alice, f"message {n}-{i}")
            with lock:
                ids.append(queued)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(ids)) == 20
    assert [m["id"] for m in outbox.fetch(alice)] == sorted(ids)


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ({}, "empty"),
        ({"txt": "typo"}, "unknown"),
        ({"text": 12}, "'text'"),
        ({"text": "x" * 20_001}, "longer"),
        ({"text": "a", "buttons": "no"}, "'buttons'"),
        ({"text": "a", "buttons": [{"title": "", "payload": "/x"}]}, "title"),
        ({"text": "a", "buttons": [{"title": "t"}]}, "payload"),
        ({"text": "a", "buttons": [{"title": "t", "payload": "/x"}] * 21}, "'buttons'"),
        ({"image": "javascript:alert(1)"}, "'image'"),
        ({"custom": [1, 2]}, "'custom'"),
        (42, "text or a mapping"),
    ],
)
def test_bad_messages_are_refused(message, why):
    with pytest.raises(ValueError, match=why):
        normalise_message(message)


def test_bad_sender_author_or_key_are_refused(outbox):
    with pytest.raises(ValueError, match="sender_id"):
        outbox.send("", "x")
    with pytest.raises(ValueError, match="author"):
        outbox.send(new_sender(), "x", author="admin")
    with pytest.raises(ValueError, match="recipient_key"):
        outbox.send_to_key("not-a-key", "x")


def test_fetch_limit_is_bounded(outbox):
    alice = new_sender()
    for i in range(3):
        outbox.send(alice, f"m{i}")
    assert len(outbox.fetch(alice, limit=0)) == 1
    assert len(outbox.fetch(alice, limit=10_000)) == 3
    assert FETCH_MAX == 100
