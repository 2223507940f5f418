"""Complaints end to end: real Rasa and action servers, REST channel, our database.

A complaint is filed in French and in Darija, its status read back by reference, the
ticket checked in the database, and "delete my data" checked down to the tracker store.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path
from typing import List

import httpx
import pytest

from bot.storage.db import make_session_factory
from bot.tickets.labels import label
from bot.tickets.service import TicketService

pytestmark = pytest.mark.e2e

REF = re.compile(r"MDM-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture(scope="module")
def base_url(rasa_server, trained_model) -> str:
    return rasa_server(trained_model)


@pytest.fixture(scope="module")
def service(rasa_server, base_url) -> TicketService:
    return TicketService(make_session_factory(rasa_server.servers[base_url].database_url))


def say(base_url: str, sender: str, text: str) -> List[dict]:
    response = httpx.post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    response.raise_for_status()
    return response.json()


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def payloads(messages: List[dict]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def new_sender() -> str:
    return f"e2e-tickets-{uuid.uuid4().hex[:10]}"


def test_complaint_in_french_then_status_by_reference(base_url, service):
    sender = new_sender()
    first = say(base_url, sender, "Bonjour, je veux déposer une réclamation contre le consulat")
    assert '/choose{"option": "consular"}' in payloads(first)
    say(base_url, sender, '/choose{"option": "consular"}')
    say(base_url, sender, "Consulat général de Lyon")
    description = "Mon rendez-vous pour le passeport a été annulé trois fois sans explication."
    contact_question = say(base_url, sender, description)
    assert '/choose{"option": "email"}' in payloads(contact_question)
    say(base_url, sender, '/choose{"option": "email"}')
    bad = say(base_url, sender, "ahmed at example")  # refused, asked again
    assert "nom@exemple.com" in texts(bad)
    consent = say(base_url, sender, "ahmed.e2e@example.com")
    assert payloads(consent) == ["/affirm", "/deny"]
    summary = say(base_url, sender, "/affirm")
    assert description in texts(summary) and "ahmed.e2e@example.com" in texts(summary)
    created = say(base_url, sender, "/affirm")
    [ref] = set(REF.findall(texts(created)))
    assert "chikaya.ma" in texts(created)

    ticket = service.get(ref)
    assert ticket is not None
    assert (ticket.kind, ticket.category, ticket.language) == ("complaint", "consular", "fr")
    assert ticket.description == description
    assert (ticket.contact_kind, ticket.contact) == ("email", "ahmed.e2e@example.com")
    assert ticket.service == "Consulat général de Lyon"
    assert ticket.due_at.strftime("%d/%m/%Y") in texts(created)

    # the reference typed in lower case with spaces
    typed = ref.lower().replace("-", " ")
    status = say(base_url, sender, f"où en est ma réclamation {typed} ?")
    assert ref in texts(status) and label("fr", "status.open") in texts(status)
    assert {"/add_ticket_info", "/cancel_ticket"} <= set(payloads(status))
    # someone else learns the status only
    other = say(base_url, new_sender(), f"statut de ma demande {ref}")
    assert ref in texts(other) and "Lyon" not in texts(other)


def test_complaint_in_darija_then_status_by_reference(base_url, service):
    sender = new_sender()
    first = say(base_url, sender, "السلام، بغيت ندير شكاية على القنصلية")
    assert "الشكاية ديالك على أشمن مجال" in texts(first)
    say(base_url, sender, "القنصلية")  # typed instead of pressing the button
    say(base_url, sender, "القنصلية ديال بروكسيل")
    description = "مشيت للقنصلية ثلاث مرات وما عطاونيش الباسبور ديالي"
    say(base_url, sender, description)
    say(base_url, sender, "هنا فالشات")
    summary = say(base_url, sender, "إيه")
    assert "هادي هي الشكاية ديالك" in texts(summary)
    created = say(base_url, sender, "إيه")
    [ref] = set(REF.findall(texts(created)))
    assert "الشكاية ديالك تسجلات" in texts(created)

    ticket = service.get(ref)
    assert ticket.description == description and ticket.language == "ary"
    assert (ticket.contact_kind, ticket.contact) == ("chat", None)

    status = say(base_url, sender, f"فين وصلات الشكاية ديالي {ref}")
    assert ref in texts(status) and label("ary", "status.open") in texts(status)


def test_interruption_is_answered_then_the_form_goes_on(base_url, service):
    sender = new_sender()
    say(base_url, sender, "I want to file a complaint")
    answer = say(base_url, sender, "how much does a passport cost?")
    # the question is answered (the passport entry, or which case), then the form asks again
    assert any(
        p.startswith("/passport") or p.startswith("/procedure_detail") for p in payloads(answer)
    )
    assert '/choose{"option": "consular"}' in payloads(answer)
    service_question = say(base_url, sender, '/choose{"option": "other"}')
    assert "Which consulate or service" in texts(service_question)
    stopped = say(base_url, sender, "/deny")
    assert "nothing was recorded" in texts(stopped)


def test_delete_my_data_erases_tickets_and_the_stored_conversation(base_url, rasa_server, service):
    sender = new_sender()
    say(base_url, sender, "I have a suggestion")
    say(base_url, sender, "Please add appointment reminders by text message for consulates.")
    say(base_url, sender, "ahmed.suggest@example.com")  # typed instead of choosing: e-mail
    say(base_url, sender, "/affirm")
    created = say(base_url, sender, "/affirm")
    [ref] = set(REF.findall(texts(created)))
    assert service.get(ref).contact == "ahmed.suggest@example.com"

    tracker_db = Path(rasa_server.servers[base_url].workdir) / "tracker.db"

    def stored_events() -> int:
        with sqlite3.connect(tracker_db) as conn:
            return conn.execute(
                "SELECT count(*) FROM events WHERE sender_id = ?", (sender,)
            ).fetchone()[0]

    assert stored_events() > 10
    confirm = say(base_url, sender, "delete my data")
    assert payloads(confirm) == ["/affirm", "/deny"]
    done = say(base_url, sender, "/affirm")
    assert "1 request(s)" in texts(done)
    assert stored_events() == 0
    ticket = service.get(ref)
    assert (ticket.description, ticket.contact, ticket.user_key) == (None, None, None)
    assert ticket.kind == "suggestion" and ticket.erased_at is not None
    # the conversation starts afresh
    assert say(base_url, sender, "hello")
