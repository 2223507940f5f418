"""Unit tests of the complaint, suggestion and ticket follow-up actions (actions/tickets.py).

Tests that touch the database use ``ticket_db`` (tests/actions/conftest.py): each runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker

from actions.language import ValidateSlotMappings
from actions.tickets import (
    ActionAskCancelTicket,
    ActionAskContact,
    ActionAskTicketConfirm,
    ActionCancelTicket,
    ActionSubmitComplaint,
    ActionSubmitSuggestion,
    ActionSubmitTicketInfo,
    ActionTicketFormStart,
    ActionTicketFormStopped,
    ActionTicketStatus,
    ValidateComplaintForm,
    ValidateSuggestionForm,
    ValidateTicketInfoForm,
    is_payload,
    looks_like_question,
    ticket_service,
)
from bot.settings import LANGUAGES
from bot.tickets.labels import labels, match_option
from bot.tickets.pseudonym import user_key_for

DESCRIPTION = "Mon rendez-vous au consulat a été annulé trois fois sans explication."


# ---------------------------------------------------------------------------- helpers


def form_tracker(
    text: str,
    *,
    form: str = "complaint_form",
    requested: Optional[str] = None,
    candidates: Optional[Dict[str, Any]] = None,
    slots: Optional[Dict[str, Any]] = None,
    intent: Optional[str] = None,
    confidence: float = 1.0,
    entities: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "alice",
) -> Tracker:
    """A tracker as the form's validation action receives it for a fresh user message."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities or [],
    }
    all_slots = {"language": "fr", "requested_slot": requested, **(slots or {})}
    events: List[Dict[str, Any]] = [
        {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"},
        {"event": "action", "name": "action_extract_slots"},
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": form},
    ]
    for name, value in (candidates or {}).items():
        events.append({"event": "slot", "name": name, "value": value})
        all_slots[name] = value
    return Tracker(
        sender_id, all_slots, latest, events, False, None, {"name": form}, "action_listen"
    )


def simple_tracker(
    text: str = "",
    *,
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    sender_id: str = "alice",
    active_loop: Optional[str] = None,
) -> Tracker:
    """A tracker whose latest message is ``text`` (channel ``rest``)."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
    }
    events = [{"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"}]
    loop = {"name": active_loop} if active_loop else {}
    return Tracker(
        sender_id,
        {"language": "fr", **(slots or {})},
        latest,
        events,
        False,
        None,
        loop,
        "action_listen",
    )


def responses(dispatcher) -> List[str]:
    return [m.get("response") for m in dispatcher.messages]


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(action, dispatcher, tracker, domain) -> Dict[str, Any]:
    return slot_events(await action.run(dispatcher, tracker, domain))


def complete_slots(**overrides: Any) -> Dict[str, Any]:
    slots = {
        "category": "consular",
        "service": "Consulat général de Lyon",
        "description": DESCRIPTION,
        "contact_kind": "email",
        "contact": "ahmed@example.com",
        "consent": True,
        "ticket_confirm": "send",
        "language": "fr",
    }
    slots.update(overrides)
    return slots


# ---------------------------------------------------------------------------- labels


def test_every_label_exists_in_every_variety():
    table = labels()
    assert sorted(table) == sorted(LANGUAGES)
    keys = set(table["fr"])
    for lang in LANGUAGES:
        assert set(table[lang]) == keys, lang
        assert all(value.strip() for value in table[lang].values()), lang


@pytest.mark.parametrize(
    ("text", "choices", "expected"),
    [
        ("État civil", ("consular", "civil_status", "justice"), "civil_status"),
        ("القنصلية", ("consular", "civil_status"), "consular"),
        ("l3adala", ("consular", "justice"), "justice"),
        ("par e-mail svp", ("chat", "email", "phone"), "email"),
        ("فالتيليفون", ("chat", "email", "phone"), "phone"),
        ("hna f chat", ("chat", "email", "phone"), "chat"),
        ("par mail ou par téléphone", ("chat", "email", "phone"), None),  # two answers
        ("bonjour", ("chat", "email", "phone"), None),
    ],
)
def test_typed_answers_to_button_questions(text, choices, expected):
    assert match_option(text, choices) == expected


def test_payloads_and_questions_are_told_apart():
    assert is_payload('/choose{"option": "email"}')
    assert is_payload("/passport")
    assert not is_payload("/ pas une commande")
    assert not is_payload("mon texte")
    question = simple_tracker("combien coûte un passeport ?", intent="passport")
    assert looks_like_question(question)
    long_story = simple_tracker(
        "Pourquoi le consulat a-t-il annulé mon rendez-vous trois fois alors que j'avais "
        "tous les papiers demandés et payé les frais ?",
        intent="consular_appointment",
    )
    assert not looks_like_question(long_story)


# ---------------------------------------------------------------------------- form validation


async def test_category_from_button_and_from_words(dispatcher, domain):
    tracker = form_tracker(
        '/choose{"option": "justice"}',
        requested="category",
        candidates={"category": "justice"},
        intent="choose",
        entities=[{"entity": "option", "value": "justice"}],
    )
    assert (await validate(ValidateComplaintForm(), dispatcher, tracker, domain))[
        "category"
    ] == "justice"
    typed = form_tracker("c'est pour l'état civil", requested="category", intent="civil_status")
    slots = await validate(ValidateComplaintForm(), dispatcher, typed, domain)
    assert slots["category"] == "civil_status"
    assert not dispatcher.messages


async def test_stale_button_is_refused_with_a_message(dispatcher, domain):
    tracker = form_tracker(
        '/choose{"option": "email"}',
        requested="category",
        candidates={"category": "email"},
        intent="choose",
        entities=[{"entity": "option", "value": "email"}],
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["category"] is None
    assert responses(dispatcher) == ["utter_invalid_choice"]


async def test_question_at_a_button_step_is_not_taken_as_an_answer(dispatcher, domain):
    tracker = form_tracker(
        "le consulat est ouvert le samedi ?",
        requested="category",
        intent="consulate_contact",
        confidence=0.9,
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    # nothing extracted: Rasa rejects the form and the question is answered by its rule
    assert "category" not in slot_events(events)


@pytest.mark.parametrize(
    ("text", "reason_response", "variables"),
    [
        ("", "utter_invalid_empty", {}),
        ("   \n\t  ", "utter_invalid_empty", {}),
        ("😀😀🎉", "utter_invalid_no_words", {}),
        ("trop court", "utter_invalid_too_short", {"min_words": 3}),
        ("mot " * 5000, "utter_invalid_too_long", {"limit": 5000}),
        ("x" * 20_000, "utter_invalid_too_long", {"limit": 5000, "length": 20_000}),
    ],
)
async def test_bad_descriptions_are_asked_again(
    dispatcher, domain, text, reason_response, variables
):
    tracker = form_tracker(text, requested="description", candidates={"description": text})
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["description"] is None
    [message] = dispatcher.messages
    assert message["response"] == reason_response
    for key, value in variables.items():
        assert message[key] == value


async def test_long_description_up_to_5000_characters_is_kept_whole(dispatcher, domain):
    text = ("Le consulat ne répond pas. " * 200)[:5000]
    tracker = form_tracker(text, requested="description", candidates={"description": text})
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["description"] == text.strip()
    assert len(slots["description"]) >= 4999


@pytest.mark.parametrize(
    "text",
    ["<script>alert('x')</script> mon dossier bloqué", "'; DROP TABLE tickets; -- mon dossier"],
)
async def test_html_and_sql_are_plain_text(dispatcher, domain, text):
    tracker = form_tracker(text, requested="description", candidates={"description": text})
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["description"] == text


async def test_a_description_phrased_as_a_question_is_kept(dispatcher, domain):
    text = "pourquoi personne ne répond au téléphone du consulat ?"
    tracker = form_tracker(
        text,
        requested="description",
        candidates={"description": text},
        intent="consulate_contact",
        confidence=0.95,
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["description"] == text


async def test_another_topics_button_interrupts_a_free_text_question(dispatcher, domain):
    tracker = form_tracker(
        "/passport",
        requested="description",
        candidates={"description": "/passport"},
        intent="passport",
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert {"event": "action_execution_rejected", "name": "complaint_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert slot_events(events) == {"description": None}


async def test_a_question_instead_of_the_service_interrupts(dispatcher, domain):
    text = "combien coûte un passeport ?"
    tracker = form_tracker(
        text,
        requested="service",
        candidates={"service": text},
        intent="passport",
        confidence=0.93,
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert events[-1]["event"] == "action_execution_rejected"
    assert slot_events(events) == {"service": None}


async def test_no_button_at_a_free_text_question_cancels(dispatcher, domain):
    tracker = form_tracker(
        "/deny", requested="description", candidates={"description": "/deny"}, intent="deny"
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["ticket_confirm"] == "cancel"
    assert slots["requested_slot"] is None  # the form ends; nothing is stored


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("email", " Ahmed.Test@Example.COM ", "Ahmed.Test@example.com"),
        ("phone", "+33 6 12-34-56-78", "+33612345678"),
        ("phone", "0032 470 12 34 56", "+32470123456"),
    ],
)
async def test_contact_is_validated_and_cleaned(dispatcher, domain, kind, typed, stored):
    tracker = form_tracker(
        typed, requested="contact", candidates={"contact": typed}, slots={"contact_kind": kind}
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["contact"] == stored


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        ("email", "ahmed at example", "utter_invalid_email"),
        ("email", "<b>x</b>@example.com", "utter_invalid_email"),
        ("phone", "06 12 34 56 78", "utter_invalid_phone"),
        ("phone", "+33 abc", "utter_invalid_phone"),
    ],
)
async def test_invalid_contact_is_asked_again(dispatcher, domain, kind, typed, message):
    tracker = form_tracker(
        typed, requested="contact", candidates={"contact": typed}, slots={"contact_kind": kind}
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["contact"] is None
    assert responses(dispatcher) == [message]


async def test_an_address_typed_instead_of_the_choice_fills_both(dispatcher, domain):
    tracker = form_tracker("ahmed@example.com", form="suggestion_form", requested="contact_kind")
    slots = await validate(ValidateSuggestionForm(), dispatcher, tracker, domain)
    assert slots["contact_kind"] == "email"
    assert slots["contact"] == "ahmed@example.com"


async def test_contact_is_asked_only_for_email_or_phone(dispatcher, domain):
    form = ValidateComplaintForm()
    slots = domain["forms"]["complaint_form"]["required_slots"]
    chat = simple_tracker(slots={"contact_kind": "chat"}, active_loop="complaint_form")
    assert "contact" not in await form.required_slots(slots, dispatcher, chat, domain)
    email = simple_tracker(slots={"contact_kind": "email"}, active_loop="complaint_form")
    assert "contact" in await form.required_slots(slots, dispatcher, email, domain)
    refused = simple_tracker(slots={"consent": False}, active_loop="complaint_form")
    assert await form.required_slots(slots, dispatcher, refused, domain) == []
    cancelled = simple_tracker(slots={"ticket_confirm": "cancel"}, active_loop="complaint_form")
    assert await form.required_slots(slots, dispatcher, cancelled, domain) == []


async def test_refused_consent_ends_the_form(dispatcher, domain):
    tracker = form_tracker(
        "non",
        requested="consent",
        candidates={"consent": False},
        intent="deny",
        slots=complete_slots(consent=None, ticket_confirm=None),
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    # consent=False stays as Rasa extracted it; no further question: the form ends
    assert slots == {"requested_slot": None}


@pytest.mark.parametrize(
    ("choice", "cleared"),
    [
        ("description", {"description": None, "ticket_confirm": None}),
        ("contact", {"contact_kind": None, "contact": None, "ticket_confirm": None}),
        ("edit", {"ticket_confirm": None}),
    ],
)
async def test_correcting_a_field_from_the_summary(dispatcher, domain, choice, cleared):
    tracker = form_tracker(
        f'/choose{{"option": "{choice}"}}',
        requested="ticket_confirm",
        candidates={"ticket_confirm": choice},
        intent="choose",
        entities=[{"entity": "option", "value": choice}],
        slots=complete_slots(ticket_confirm=None),
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    for name, value in cleared.items():
        assert slots[name] == value
    assert not dispatcher.messages


async def test_correction_named_in_words(dispatcher, domain):
    tracker = form_tracker(
        "je veux changer la description",
        requested="ticket_confirm",
        intent="choose",
        confidence=0.5,
        slots=complete_slots(ticket_confirm=None),
    )
    slots = await validate(ValidateComplaintForm(), dispatcher, tracker, domain)
    assert slots["description"] is None


# ---------------------------------------------------------------------------- questions


async def test_summary_shows_what_will_be_stored(dispatcher, domain):
    tracker = simple_tracker(
        "oui",
        intent="affirm",
        active_loop="complaint_form",
        slots=complete_slots(ticket_confirm=None, service="<b>Lyon</b>", requested_slot="consent"),
    )
    await ActionAskTicketConfirm().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_complaint_summary"
    assert message["category"] == "Consulaire"
    assert message["description"] == DESCRIPTION
    assert message["service"] == "‹b›Lyon‹/b›"  # user text shown back cannot be markup
    assert "ahmed@example.com" in message["contact"]


async def test_summary_in_darija_and_long_description_preview(dispatcher, domain):
    long_text = "kayn mochkil kbir " * 100
    tracker = simple_tracker(
        "ah",
        intent="affirm",
        active_loop="suggestion_form",
        slots=complete_slots(
            language="ary_Latn", contact_kind="chat", contact=None, description=long_text
        ),
    )
    await ActionAskTicketConfirm().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_suggestion_summary"
    assert message["contact"] == "Ma khassnich jawab"
    assert message["description"].endswith("[…]") and len(message["description"]) < 320


async def test_after_correct_the_fields_are_offered(dispatcher, domain):
    tracker = simple_tracker(
        '/choose{"option": "edit"}',
        intent="choose",
        active_loop="complaint_form",
        entities=[{"entity": "option", "value": "edit"}],
        slots=complete_slots(ticket_confirm=None, requested_slot="ticket_confirm"),
    )
    await ActionAskTicketConfirm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_which_field"]


async def test_contact_question_follows_the_choice(dispatcher, domain):
    await ActionAskContact().run(
        dispatcher, simple_tracker(slots={"contact_kind": "phone"}), domain
    )
    await ActionAskContact().run(
        dispatcher, simple_tracker(slots={"contact_kind": "email"}), domain
    )
    assert responses(dispatcher) == ["utter_ask_contact_phone", "utter_ask_contact_email"]


async def test_form_start_clears_an_old_form(dispatcher, domain):
    tracker = simple_tracker("une suggestion", intent="make_suggestion", slots=complete_slots())
    events = await ActionTicketFormStart().run(dispatcher, tracker, domain)
    assert set(slot_events(events).values()) == {None}
    assert responses(dispatcher) == ["utter_suggestion_intro"]


async def test_ticket_answers_keep_the_conversation_language(dispatcher, domain):
    tracker = simple_tracker(
        "Consulat général de Lyon",
        active_loop="complaint_form",
        slots={"language": "ary", "requested_slot": "service"},
    )
    tracker.latest_message["language"] = {"code": "fr", "confidence": 0.99, "ambiguous": False}
    assert await ValidateSlotMappings().extract_language(dispatcher, tracker, domain) == {
        "language": "ary"
    }
    switch = simple_tracker(
        "parle moi en anglais",
        intent="change_language",
        active_loop="complaint_form",
        entities=[{"entity": "language", "value": "en"}],
        slots={"requested_slot": "service"},
    )
    assert await ValidateSlotMappings().extract_language(dispatcher, switch, domain) == {
        "language": "en"
    }


# ---------------------------------------------------------------------------- storing


async def test_complaint_is_stored_with_reference_and_deadline(dispatcher, domain, ticket_db):
    tracker = simple_tracker("/affirm", intent="affirm", slots=complete_slots())
    events = await ActionSubmitComplaint().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_complaint_created"
    ref = message["ticket_ref"]
    slots = slot_events(events)
    assert slots["ticket_ref"] == ref
    assert all(slots[name] is None for name in ("description", "contact", "consent"))
    ticket = ticket_service().get(ref)
    assert ticket.description == DESCRIPTION
    assert ticket.contact == "ahmed@example.com"
    assert ticket.user_key == user_key_for("rest", "alice")
    assert ticket.language == "fr" and ticket.kind == "complaint"
    due = (ticket.created_at + dt.timedelta(days=60)).strftime("%d/%m/%Y")
    assert message["deadline"] == due


async def test_suggestion_without_contact(dispatcher, domain, ticket_db):
    tracker = simple_tracker(
        "ah",
        intent="affirm",
        slots=complete_slots(
            language="ary_Latn", category=None, service=None, contact_kind="chat", contact=None
        ),
    )
    await ActionSubmitSuggestion().run(dispatcher, tracker, domain)
    ref = dispatcher.messages[0]["ticket_ref"]
    ticket = ticket_service().get(ref)
    assert (ticket.kind, ticket.category, ticket.contact, ticket.language) == (
        "suggestion",
        "other",
        None,
        "ary_Latn",
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consent": False, "ticket_confirm": None}, "utter_consent_declined"),
        ({"ticket_confirm": "cancel"}, "utter_ticket_form_cancelled"),
        ({"consent": None, "ticket_confirm": None}, "utter_ticket_form_cancelled"),
    ],
)
async def test_nothing_is_stored_without_consent_or_after_cancel(
    dispatcher, domain, ticket_db, overrides, message
):
    tracker = simple_tracker("non", intent="deny", slots=complete_slots(**overrides))
    events = await ActionSubmitComplaint().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [message]
    assert "ticket_ref" not in slot_events(events)
    assert ticket_service().list_for_user(user_key_for("rest", "alice")) == []


async def test_database_failure_stores_nothing_and_says_so(
    dispatcher, domain, tmp_path, monkeypatch
):
    from bot.storage.db import reset_default_engine

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'not-migrated.db'}")
    reset_default_engine()
    tracker = simple_tracker("/affirm", intent="affirm", slots=complete_slots())
    await ActionSubmitComplaint().run(dispatcher, tracker, domain)
    reset_default_engine()
    assert responses(dispatcher) == ["utter_ticket_error"]


async def test_stopping_the_form_stores_nothing(dispatcher, domain):
    events = await ActionTicketFormStopped().run(dispatcher, simple_tracker("non"), domain)
    assert responses(dispatcher) == ["utter_ticket_form_cancelled"]
    assert set(slot_events(events).values()) == {None}


# ---------------------------------------------------------------------------- follow-up


def make_ticket(sender: str = "alice", **overrides: Any) -> str:
    args = dict(
        kind="complaint",
        category="consular",
        description=DESCRIPTION,
        user_key=user_key_for("rest", sender),
        language="fr",
        channel="rest",
        consent=True,
        contact_kind="chat",
        service="Consulat de Lyon",
    )
    args.update(overrides)
    return ticket_service().create(**args).ref


def ref_entity(ref: str) -> List[Dict[str, Any]]:
    return [{"entity": "ticket_ref", "value": ref}]


async def test_owner_gets_details_and_follow_up_buttons(dispatcher, domain, ticket_db):
    ref = make_ticket()
    ticket_service().reply(ref, "Votre dossier est transmis au service des passeports.")
    tracker = simple_tracker(
        f"où en est {ref.lower()}", intent="ticket_status", entities=ref_entity(ref)
    )
    events = await ActionTicketStatus().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [
        "utter_ticket_status_owner",
        "utter_ticket_last_reply",
        "utter_ticket_next_steps",
    ]
    owner = dispatcher.messages[0]
    assert owner["status"] == "Répondue" and owner["category"] == "Consulaire"
    assert "passeports" in dispatcher.messages[1]["reply"]
    assert slot_events(events) == {"ticket_ref": ref}


async def test_someone_else_gets_the_status_only_in_their_language(dispatcher, domain, ticket_db):
    ref = make_ticket()
    tracker = simple_tracker(
        ref,
        intent="ticket_status",
        entities=ref_entity(ref),
        sender_id="bob",
        slots={"language": "ar"},
    )
    await ActionTicketStatus().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_ticket_status_public"
    assert message["status"] == "مفتوحة"
    assert "category" not in message and "service" not in message


async def test_unknown_and_malformed_references(dispatcher, domain, ticket_db):
    unknown = simple_tracker(
        "MDM-2222-2222", intent="ticket_status", entities=ref_entity("MDM-2222-2222")
    )
    await ActionTicketStatus().run(dispatcher, unknown, domain)
    wrong = simple_tracker(
        "mdm-oooo-1234", intent="ticket_status", entities=ref_entity("MDM-OOOO-1234")
    )
    await ActionTicketStatus().run(dispatcher, wrong, domain)
    short = simple_tracker("statut mdm-12ab", intent="ticket_status")
    await ActionTicketStatus().run(dispatcher, short, domain)
    assert responses(dispatcher) == [
        "utter_ticket_not_found",
        "utter_ticket_ref_malformed",
        "utter_ticket_ref_malformed",
    ]
    assert dispatcher.messages[0]["ticket_ref"] == "MDM-2222-2222"


async def test_repeated_failures_are_slowed_down(dispatcher, domain, ticket_db):
    ref = make_ticket()
    for i in range(4):
        bad = f"MDM-2222-222{i}"
        await ActionTicketStatus().run(
            dispatcher,
            simple_tracker(bad, intent="ticket_status", entities=ref_entity(bad)),
            domain,
        )
    dispatcher.messages.clear()
    # even an existing reference is not looked up while the user must wait
    good = simple_tracker(ref, intent="ticket_status", entities=ref_entity(ref))
    await ActionTicketStatus().run(dispatcher, good, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_lookup_wait"
    assert message["seconds"] >= 1


async def test_without_reference_the_users_tickets_are_offered(dispatcher, domain, ticket_db):
    refs = {make_ticket(), make_ticket()}
    await ActionTicketStatus().run(
        dispatcher, simple_tracker("ma réclamation ?", intent="ticket_status"), domain
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_which_ticket"
    assert {b["title"] for b in message["buttons"]} == refs
    assert all(
        b["payload"].startswith('/ticket_status{"ticket_ref": "MDM-') for b in message["buttons"]
    )
    dispatcher.messages.clear()
    await ActionTicketStatus().run(
        dispatcher,
        simple_tracker("ma réclamation ?", intent="ticket_status", sender_id="carol"),
        domain,
    )
    assert responses(dispatcher) == ["utter_ask_ticket_ref"]


async def test_adding_information_to_an_open_ticket(dispatcher, domain, ticket_db):
    ref = make_ticket()
    tracker = form_tracker(
        "",
        form="ticket_info_form",
        requested=None,
        candidates={"ticket_ref": ref.lower()},
    )
    slots = await validate(ValidateTicketInfoForm(), dispatcher, tracker, domain)
    assert slots["ticket_ref"] == ref
    text = "Le consulat m'a rappelé hier, sans date."
    message = form_tracker(
        text,
        form="ticket_info_form",
        requested="ticket_message",
        candidates={"ticket_message": text},
        slots={"ticket_ref": ref},
    )
    slots = await validate(ValidateTicketInfoForm(), dispatcher, message, domain)
    assert slots["ticket_message"] == text
    done = simple_tracker(text, slots={"ticket_ref": ref, "ticket_message": text})
    events = await ActionSubmitTicketInfo().run(dispatcher, done, domain)
    assert responses(dispatcher) == ["utter_ticket_info_added"]
    assert slot_events(events) == {"ticket_message": None}
    history = ticket_service().get(ref).events
    assert [e.text for e in history if e.kind == "user_message"] == [text]


async def test_someone_else_cannot_add_information(dispatcher, domain, ticket_db):
    ref = make_ticket()
    tracker = form_tracker(
        "", form="ticket_info_form", candidates={"ticket_ref": ref}, sender_id="mallory"
    )
    slots = await validate(ValidateTicketInfoForm(), dispatcher, tracker, domain)
    assert slots["ticket_ref"] is None and slots["requested_slot"] is None
    assert responses(dispatcher) == ["utter_ticket_not_owner"]


async def test_cancel_asks_then_cancels_or_keeps(dispatcher, domain, ticket_db):
    ref = make_ticket()
    ask = simple_tracker("/cancel_ticket", intent="cancel_ticket", slots={"ticket_ref": ref})
    events = await ActionAskCancelTicket().run(dispatcher, ask, domain)
    assert slot_events(events)["pending_cancel"] == ref
    assert responses(dispatcher) == ["utter_confirm_cancel_ticket"]
    keep = simple_tracker("/deny", intent="deny", slots={"pending_cancel": ref})
    await ActionCancelTicket().run(dispatcher, keep, domain)
    assert ticket_service().status(ref).status == "open"
    confirm = simple_tracker("/affirm", intent="affirm", slots={"pending_cancel": ref})
    events = await ActionCancelTicket().run(dispatcher, confirm, domain)
    assert responses(dispatcher)[1:] == ["utter_ticket_kept", "utter_ticket_cancelled"]
    assert slot_events(events) == {"pending_cancel": None}
    assert ticket_service().status(ref).status == "cancelled"
    dispatcher.messages.clear()
    again = simple_tracker("/cancel_ticket", intent="cancel_ticket", slots={"ticket_ref": ref})
    events = await ActionAskCancelTicket().run(dispatcher, again, domain)
    assert responses(dispatcher) == ["utter_ticket_closed"]
    assert slot_events(events) == {"pending_cancel": None}


async def test_cancel_of_someone_elses_ticket_is_refused(dispatcher, domain, ticket_db):
    ref = make_ticket()
    ask = simple_tracker(
        f"annuler {ref}", intent="cancel_ticket", entities=ref_entity(ref), sender_id="bob"
    )
    events = await ActionAskCancelTicket().run(dispatcher, ask, domain)
    assert responses(dispatcher) == ["utter_ticket_not_owner"]
    assert slot_events(events) == {"pending_cancel": None}
    assert ticket_service().status(ref).status == "open"
