"""Erasure of a user's data, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.db import session_scope
from bot.storage.models import FailedLookup, Ticket, TicketEvent
from bot.tickets.service import ErasureCounts


def _all(session_factory, model):
    with session_scope(session_factory, readonly=True) as session:
        return list(session.execute(select(model).order_by(model.id)).scalars())


def test_erase_removes_contact_and_text_but_keeps_stats(
    clocked_service, session_factory, ticket_args, user_keys, clock
):
    alice, bob = user_keys("alice"), user_keys("bob")
    t1 = clocked_service.create(**ticket_args(contact_kind="email", contact="alice@example.com"))
    t2 = clocked_service.create(
        **ticket_args(
            kind="suggestion",
            category="civil_status",
            contact_kind="phone",
            contact="+33612345678",
            language="ar",
        )
    )
    other = clocked_service.create(
        **ticket_args(user_key=bob, contact_kind="email", contact="bob@example.com")
    )
    clocked_service.add_info(t1.ref, alice, "mon adresse est 3 rue X")
    clocked_service.reply(t1.ref, "Bonjour Madame Alice, voici la réponse")
    clocked_service.set_status(t2.ref, "in_progress", "note interne sur Alice")
    clocked_service.cancel(t2.ref, alice)
    clocked_service.record_failed_lookup(alice)
    clocked_service.record_failed_lookup(bob)
    before = {t.ref: t for t in _all(session_factory, Ticket)}

    clock.advance(days=3)
    counts = clocked_service.erase_user_data(alice)
    assert counts == ErasureCounts(tickets=2, events=3, failed_lookups=1)

    after = {t.ref: t for t in _all(session_factory, Ticket)}
    assert len(after) == 3  # counts kept
    for ref in (t1.ref, t2.ref):
        ticket, old = after[ref], before[ref]
        assert ticket.description is None
        assert ticket.contact is None
        assert ticket.service is None
        assert ticket.user_key is None
        assert ticket.erased_at == clock.now
        for kept in (
            "kind",
            "category",
            "status",
            "language",
            "channel",
            "contact_kind",
            "consent",
            "created_at",
            "updated_at",
            "due_at",
        ):
            assert getattr(ticket, kept) == getattr(old, kept), kept
    assert after[t2.ref].status == "cancelled"
    assert after[t2.ref].category == "civil_status"

    events = [e for e in _all(session_factory, TicketEvent) if e.ticket_id != other.id]
    assert all(e.text is None for e in events)
    assert sum(e.kind == "data_erased" for e in events) == 2
    assert [e.kind for e in events if e.ticket_id == t1.id] == [
        "created",
        "user_message",
        "staff_reply",
        "data_erased",
    ]

    # Bob is untouched.
    assert after[other.ref].contact == "bob@example.com"
    assert after[other.ref].description
    assert clocked_service.list_for_user(bob)[0].ref == other.ref
    with session_scope(session_factory, readonly=True) as session:
        keys = session.execute(select(FailedLookup.user_key)).scalars().all()
    assert keys == [bob]

    # Alice no longer owns anything; the refs still answer with a bare status.
    assert clocked_service.list_for_user(alice) == []
    view = clocked_service.status(t1.ref, alice)
    assert view.status == "answered" and not view.is_owner and view.description is None


def test_erase_is_idempotent_and_harmless_for_unknown_users(service, ticket_args, user_keys):
    service.create(**ticket_args())
    assert service.erase_user_data(user_keys("alice")).tickets == 1
    assert service.erase_user_data(user_keys("alice")) == ErasureCounts(0, 0, 0)
    assert service.erase_user_data(user_keys("nobody")) == ErasureCounts(0, 0, 0)
    assert service.erase_user_data("") == ErasureCounts(0, 0, 0)


def test_anonymous_stats_survive(service, session_factory, ticket_args, user_keys):
    for i in range(5):
        service.create(**ticket_args(category="justice" if i % 2 else "consular"))
    service.erase_user_data(user_keys("alice"))
    with session_scope(session_factory, readonly=True) as session:
        rows = dict(
            session.execute(
                select(Ticket.category, func.count(Ticket.id)).group_by(Ticket.category)
            ).all()
        )
    assert rows == {"consular": 3, "justice": 2}
