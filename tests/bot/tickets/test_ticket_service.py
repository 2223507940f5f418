"""TicketService on SQLite and PostgreSQL: create, read back, ownership, follow-up, staff."""

from __future__ import annotations

import datetime as dt
import itertools
import logging

import pytest
from sqlalchemy import select

from bot.storage.db import session_scope
from bot.storage.models import Ticket, TicketEvent
from bot.tickets.errors import InvalidInput, NotOwner, RefCollision, TicketClosed, TicketNotFound
from bot.tickets.refs import is_ref
from bot.tickets.service import DUE_AFTER, TicketService


def _stored(session_factory, ref):
    with session_scope(session_factory, readonly=True) as session:
        return session.execute(select(Ticket).where(Ticket.ref == ref)).scalar_one()


# ---------------------------------------------------------------- create and read back


def test_create_and_read_back(clocked_service, session_factory, ticket_args, user_keys, clock):
    ticket = clocked_service.create(
        **ticket_args(contact_kind="email", contact=" Alice@Example.COM ")
    )
    assert is_ref(ticket.ref)
    assert ticket.status == "open"
    assert ticket.events[0].kind == "created"

    stored = _stored(session_factory, ticket.ref)
    assert stored.kind == "complaint"
    assert stored.category == "consular"
    assert stored.service == "Consulat général de Lyon"
    assert stored.description == "Mon rendez-vous au consulat a été annulé deux fois."
    assert stored.language == "fr"
    assert stored.channel == "rest"
    assert stored.user_key == user_keys("alice")
    assert stored.contact_kind == "email"
    assert stored.contact == "Alice@example.com"
    assert stored.consent is True
    assert stored.created_at == clock.now
    assert stored.updated_at == clock.now
    assert stored.due_at == clock.now + DUE_AFTER == clock.now + dt.timedelta(days=60)
    assert stored.created_at.tzinfo is not None
    assert stored.erased_at is None

    view = clocked_service.status(ticket.ref, user_keys("alice"))
    assert view.is_owner
    assert view.status == "open"
    assert view.description == stored.description
    assert view.created_at == clock.now
    assert view.due_at == clock.now + DUE_AFTER
    assert [e.kind for e in view.history] == ["created"]


def test_raw_sender_id_is_never_stored(service, session_factory, ticket_args):
    with pytest.raises(InvalidInput) as info:
        service.create(**ticket_args(user_key="alice-telegram-123"))
    assert (info.value.field, info.value.reason) == ("user_key", "invalid")


def test_phone_contact_is_stored_normalised(service, session_factory, ticket_args):
    ticket = service.create(**ticket_args(contact_kind="phone", contact="+212 661-23-45-67"))
    assert _stored(session_factory, ticket.ref).contact == "+212661234567"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script> mon dossier bloqué <b>depuis</b> &amp; mois",
        "'; DROP TABLE tickets; -- et mon passeport ?",
        "Robert'); DELETE FROM ticket_events WHERE ('1'='1",
        "%s %(x)s {0} ${HOME} $(rm -rf /) `id` \\x00 \\n",
        'He said "ok" -- /* comment */ ; SELECT * FROM tickets',
        "جواز السفر ديالي ما وصلش <br> منذ شهرين",
        "mon passeport 🙂 est bloqué 🇲🇦",
    ],
)
def test_text_is_stored_and_returned_verbatim(service, session_factory, ticket_args, text):
    ticket = service.create(**ticket_args(description=text, service=text[:200]))
    assert _stored(session_factory, ticket.ref).description == text
    view = service.status(ticket.ref, ticket_args()["user_key"])
    assert view.description == text
    assert view.service == text[:200]
    with session_scope(session_factory, readonly=True) as session:
        assert session.execute(select(Ticket)).scalars().all()  # tables still there


def test_description_of_exactly_5000_characters_is_kept_whole(
    service, session_factory, ticket_args
):
    text = ("mot " * 1250)[:4999] + "z"
    ticket = service.create(**ticket_args(description=text))
    assert _stored(session_factory, ticket.ref).description == text


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"description": ""}, "description", "required"),
        ({"description": "   \n\t "}, "description", "required"),
        ({"description": "🙂🙂🙂"}, "description", "no_words"),
        ({"description": "😡 😡 😡 😡 😡"}, "description", "no_words"),
        ({"description": "bonjour"}, "description", "too_short"),
        ({"description": "x" * 20_000}, "description", "too_long"),
        ({"description": "mot " * 1300}, "description", "too_long"),
        ({"category": "visa"}, "category", "not_allowed"),
        ({"kind": "praise"}, "kind", "not_allowed"),
        ({"language": "de"}, "language", "not_allowed"),
        ({"channel": ""}, "channel", "required"),
        ({"contact_kind": "email", "contact": "not-an-email"}, "contact", "invalid"),
        ({"contact_kind": "email", "contact": None}, "contact", "required"),
        ({"contact_kind": "phone", "contact": "0612345678"}, "contact", "invalid"),
        ({"contact_kind": "phone", "contact": "+33 6 12"}, "contact", "invalid"),
        ({"contact_kind": "chat", "contact": "a@b.com"}, "contact", "unexpected"),
        ({"contact_kind": "pigeon"}, "contact_kind", "not_allowed"),
        ({"consent": False}, "consent", "required"),
        ({"consent": None}, "consent", "required"),
        ({"service": "s" * 201}, "service", "too_long"),
    ],
)
def test_invalid_inputs(service, session_factory, ticket_args, overrides, field, reason):
    with pytest.raises(InvalidInput) as info:
        service.create(**ticket_args(**overrides))
    assert (info.value.field, info.value.reason) == (field, reason)
    with session_scope(session_factory, readonly=True) as session:
        assert session.execute(select(Ticket)).first() is None


def test_too_long_description_reports_the_limit(service, ticket_args):
    with pytest.raises(InvalidInput) as info:
        service.create(**ticket_args(description="x" * 20_000))
    assert info.value.limit == 5000


def test_ref_collision_draws_again(session_factory, ticket_args):
    refs = iter(["MDM-AAAA-AAAA", "MDM-AAAA-AAAA", "MDM-AAAA-AAAA", "MDM-BBBB-BBBB"])
    service = TicketService(session_factory, ref_factory=lambda: next(refs))
    first = service.create(**ticket_args())
    second = service.create(**ticket_args())
    assert (first.ref, second.ref) == ("MDM-AAAA-AAAA", "MDM-BBBB-BBBB")


def test_ref_collision_gives_up_eventually(session_factory, ticket_args):
    service = TicketService(session_factory, ref_factory=lambda: "MDM-AAAA-AAAA")
    service.create(**ticket_args())
    with pytest.raises(RefCollision):
        service.create(**ticket_args())


# ---------------------------------------------------------------- ownership


def test_owner_only_details(service, ticket_args, user_keys):
    ticket = service.create(**ticket_args())
    for key in (None, "", user_keys("mallory"), "0" * 64):
        view = service.status(ticket.ref, key)
        assert view is not None
        assert not view.is_owner
        assert (view.ref, view.status) == (ticket.ref, "open")
        assert view.updated_at == ticket.updated_at
        assert view.description is None
        assert view.kind is None and view.category is None and view.service is None
        assert view.history == ()
    owner = service.status(ticket.ref, user_keys("alice"))
    assert owner.is_owner and owner.description


def test_status_accepts_loose_refs(service, ticket_args):
    ticket = service.create(**ticket_args())
    loose = ticket.ref.lower().replace("-", " ")
    assert service.status(loose).ref == ticket.ref
    assert service.status(ticket.ref.replace("-", "")).ref == ticket.ref


@pytest.mark.parametrize(
    "ref", ["MDM-ZZZZ-ZZZZ", "", "garbage", "MDM-AB12-CD3O", "' OR 1=1 --", "MDM-%%%%-%%%%"]
)
def test_status_of_unknown_or_malformed_ref(service, ticket_args, ref):
    service.create(**ticket_args())
    assert service.status(ref, ticket_args()["user_key"]) is None


def test_list_for_user(clocked_service, ticket_args, user_keys, clock):
    alice, bob = user_keys("alice"), user_keys("bob")
    first = clocked_service.create(**ticket_args())
    clock.advance(hours=1)
    second = clocked_service.create(**ticket_args(kind="suggestion", category="other"))
    clocked_service.create(**ticket_args(user_key=bob))
    mine = clocked_service.list_for_user(alice)
    assert [t.ref for t in mine] == [second.ref, first.ref]
    assert mine[0].kind == "suggestion"
    assert len(clocked_service.list_for_user(bob)) == 1
    assert clocked_service.list_for_user(user_keys("carol")) == []
    assert clocked_service.list_for_user("") == []


# ---------------------------------------------------------------- add_info and cancel


def test_add_info(clocked_service, ticket_args, user_keys, clock):
    ticket = clocked_service.create(**ticket_args())
    clock.advance(minutes=5)
    view = clocked_service.add_info(ticket.ref, user_keys("alice"), "  <b>Nouveau</b> numéro  ")
    assert view.status == "open"
    assert view.updated_at == clock.now
    assert [(e.kind, e.author, e.text) for e in view.history] == [
        ("created", "user", None),
        ("user_message", "user", "<b>Nouveau</b> numéro"),
    ]


def test_add_info_errors(service, ticket_args, user_keys):
    ticket = service.create(**ticket_args())
    alice = user_keys("alice")
    with pytest.raises(NotOwner):
        service.add_info(ticket.ref, user_keys("mallory"), "je veux voir")
    with pytest.raises(TicketNotFound):
        service.add_info("MDM-ZZZZ-ZZZZ", alice, "bonjour")
    with pytest.raises(TicketNotFound):
        service.add_info("not a ref", alice, "bonjour")
    for text, reason in [("", "required"), ("🙂", "no_words"), ("x" * 5001, "too_long")]:
        with pytest.raises(InvalidInput) as info:
            service.add_info(ticket.ref, alice, text)
        assert (info.value.field, info.value.reason) == ("text", reason)
    assert [e.kind for e in service.status(ticket.ref, alice).history] == ["created"]


def test_cancel(clocked_service, ticket_args, user_keys, clock):
    ticket = clocked_service.create(**ticket_args())
    alice = user_keys("alice")
    with pytest.raises(NotOwner):
        clocked_service.cancel(ticket.ref, user_keys("mallory"))
    assert clocked_service.status(ticket.ref).status == "open"
    clock.advance(days=1)
    view = clocked_service.cancel(ticket.ref.lower(), alice)
    assert view.status == "cancelled"
    assert view.updated_at == clock.now
    assert view.history[-1].kind == "cancelled"
    assert (view.history[-1].old_status, view.history[-1].new_status) == ("open", "cancelled")
    with pytest.raises(TicketClosed):
        clocked_service.cancel(ticket.ref, alice)
    with pytest.raises(TicketClosed):
        clocked_service.add_info(ticket.ref, alice, "encore une chose")
    with pytest.raises(TicketClosed):
        clocked_service.set_status(ticket.ref, "in_progress")
    with pytest.raises(TicketNotFound):
        clocked_service.cancel("MDM-ZZZZ-ZZZZ", alice)


# ---------------------------------------------------------------- staff


def test_set_status_and_notes(clocked_service, session_factory, ticket_args, user_keys, clock):
    ticket = clocked_service.create(**ticket_args())
    alice = user_keys("alice")
    clock.advance(days=2)
    view = clocked_service.set_status(ticket.ref, "in_progress", "Dossier transmis au consulat")
    assert view.status == "in_progress"
    assert view.updated_at == clock.now
    clock.advance(days=1)
    view = clocked_service.set_status(ticket.ref, "in_progress", "interne: rappeler lundi")
    assert view.updated_at == clock.now - dt.timedelta(days=1)  # a note is not an update
    clock.advance(days=1)
    view = clocked_service.reply(ticket.ref, "Votre passeport est prêt.")
    assert view.status == "answered"
    clocked_service.set_status(ticket.ref, "closed", author="system")

    history = clocked_service.status(ticket.ref, alice).history
    assert [(e.kind, e.author, e.old_status, e.new_status) for e in history] == [
        ("created", "user", None, "open"),
        ("status_change", "staff", "open", "in_progress"),
        ("staff_reply", "staff", "in_progress", "answered"),
        ("status_change", "system", "answered", "closed"),
    ]
    assert history[1].text == "Dossier transmis au consulat"
    assert all("interne" not in (e.text or "") for e in history)  # internal notes hidden
    staff = clocked_service.get(ticket.ref)
    assert [e.kind for e in staff.events].count("note") == 1
    assert staff.status == "closed"
    # A closed ticket can be reopened by staff, but not changed by its owner.
    with pytest.raises(TicketClosed):
        clocked_service.add_info(ticket.ref, alice, "merci beaucoup")
    assert clocked_service.set_status(ticket.ref, "in_progress").status == "in_progress"


def test_set_status_errors(service, ticket_args):
    ticket = service.create(**ticket_args())
    cases = [
        (("done",), "status", "not_allowed"),
        (("open",), "status", "unchanged"),
        (("open", "   "), "status", "unchanged"),
        (("closed", None, "user"), "author", "not_allowed"),
        (("closed", "x" * 5001), "note", "too_long"),
    ]
    for args, field, reason in cases:
        with pytest.raises(InvalidInput) as info:
            service.set_status(ticket.ref, *args)
        assert (info.value.field, info.value.reason) == (field, reason)
    with pytest.raises(TicketNotFound):
        service.set_status("MDM-ZZZZ-ZZZZ", "closed")
    assert service.get("MDM-ZZZZ-ZZZZ") is None
    assert service.get("nonsense") is None


def test_events_cascade_with_ticket(service, session_factory, ticket_args):
    ticket = service.create(**ticket_args())
    with session_scope(session_factory) as session:
        session.delete(session.get(Ticket, ticket.id))
    with session_scope(session_factory, readonly=True) as session:
        assert session.execute(select(TicketEvent)).first() is None


# ---------------------------------------------------------------- logging


def test_logs_never_contain_text_or_contact(service, ticket_args, user_keys, caplog):
    secret_text = "SECRET-DESCRIPTION mon voisin Ahmed Bennani"
    email = "very.private@example.org"
    caplog.set_level(logging.DEBUG)
    alice = user_keys("alice")
    ticket = service.create(
        **ticket_args(description=secret_text, contact_kind="email", contact=email)
    )
    service.status(ticket.ref, alice)
    service.add_info(ticket.ref, alice, "SECRET-MESSAGE numéro 0612345678")
    service.set_status(ticket.ref, "in_progress", "SECRET-NOTE staff")
    service.reply(ticket.ref, "SECRET-REPLY staff")
    service.cancel(ticket.ref, alice)
    service.erase_user_data(alice)
    logs = caplog.text
    assert ticket.ref in logs
    for secret in ("SECRET", email, "Bennani", "0612345678", alice):
        assert secret not in logs
    assert f"description_len={len(secret_text)}" in logs


def test_repr_has_no_personal_data(service, ticket_args):
    ticket = service.create(
        **ticket_args(description="SECRET text here", contact_kind="email", contact="p@x.org")
    )
    assert "SECRET" not in repr(ticket) and "p@x.org" not in repr(ticket)
    assert "SECRET" not in repr(ticket.events)


def test_counter_refs_are_distinct(session_factory, ticket_args):
    counter = itertools.count()
    service = TicketService(session_factory, ref_factory=lambda: f"MDM-0000-{next(counter):04d}")
    refs = {service.create(**ticket_args()).ref for _ in range(5)}
    assert len(refs) == 5
