"""Many tickets created at once on SQLite and PostgreSQL: unique refs, nothing lost."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.storage.db import session_scope
from bot.storage.models import Ticket, TicketEvent
from bot.tickets.refs import is_ref
from bot.tickets.service import TicketService

TICKETS = 200


def _create_many(service, ticket_args, user_keys):
    barrier = threading.Barrier(16)

    def create(i: int) -> str:
        if i < 16:
            barrier.wait(timeout=30)  # make the first wave really simultaneous
        ticket = service.create(
            **ticket_args(
                description=f"ticket numéro {i} créé en parallèle",
                user_key=user_keys(f"user{i % 20}"),
            )
        )
        return ticket.ref

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(create, range(TICKETS)))


def test_200_concurrent_tickets(service, session_factory, ticket_args, user_keys):
    refs = _create_many(service, ticket_args, user_keys)
    assert len(refs) == TICKETS
    assert len(set(refs)) == TICKETS
    assert all(is_ref(r) for r in refs)
    with session_scope(session_factory, readonly=True) as session:
        stored = set(session.execute(select(Ticket.ref)).scalars())
        events = session.execute(select(func.count(TicketEvent.id))).scalar_one()
    assert stored == set(refs)
    assert events == TICKETS
    assert sum(len(service.list_for_user(user_keys(f"user{u}"))) for u in range(20)) == TICKETS


def test_200_concurrent_tickets_with_colliding_refs(session_factory, ticket_args, user_keys):
    """Force collisions under load, committed and in flight, and check the retries.

    Each thread alternates between a "shared" ref (every shared ref is handed out twice,
    usually to two threads at once, so one of them collides) and a unique one, so a
    creation needs at most two draws and the test cannot flake.
    """
    lock = threading.Lock()
    shared, unique = itertools.count(), itertools.count()
    local = threading.local()
    draws = []

    def colliding_ref() -> str:
        local.shared = not getattr(local, "shared", False)
        with lock:
            draws.append(1)
            if local.shared:
                return f"MDM-0000-{next(shared) // 2:04d}"
            return f"MDM-1111-{next(unique):04d}"

    service = TicketService(session_factory, ref_factory=colliding_ref)
    refs = _create_many(service, ticket_args, user_keys)
    assert len(set(refs)) == TICKETS
    assert len(draws) > TICKETS  # collisions did happen and were retried
    with session_scope(session_factory, readonly=True) as session:
        assert session.execute(select(func.count(Ticket.id))).scalar_one() == TICKETS


def test_concurrent_add_info_and_status_changes(service, ticket_args, user_keys):
    ticket = service.create(**ticket_args())
    alice = user_keys("alice")

    def work(i: int) -> None:
        if i % 2:
            service.add_info(ticket.ref, alice, f"message {i}")
        else:
            service.set_status(ticket.ref, "in_progress" if i % 4 else "open", f"note {i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(40)))
    staff = service.get(ticket.ref)
    assert len(staff.events) == 41
    assert sum(e.kind == "user_message" for e in staff.events) == 20
