"""``delete_my_data``: the action (actions/privacy.py) and the erasing tracker store."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker

from actions.privacy import ActionDeleteMyData
from actions.tickets import ticket_service
from bot.tickets.pseudonym import user_key_for


def tracker_for(sender: str, language: str = "fr") -> Tracker:
    latest = {"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}, "entities": []}
    events = [{"event": "user", "text": "/affirm", "parse_data": latest, "input_channel": "rest"}]
    return Tracker(sender, {"language": language}, latest, events, False, None, {}, "action_listen")


def make_ticket(sender: str, **overrides: Any) -> str:
    args: Dict[str, Any] = dict(
        kind="complaint",
        category="consular",
        description="Mon dossier est bloqué depuis mars.",
        user_key=user_key_for("rest", sender),
        language="fr",
        channel="rest",
        consent=True,
        contact_kind="email",
        contact="ahmed@example.com",
        service="Consulat de Lyon",
    )
    args.update(overrides)
    return ticket_service().create(**args).ref


async def test_erases_the_users_ticket_data_and_restarts(dispatcher, domain, ticket_db):
    mine = [
        make_ticket("alice"),
        make_ticket("alice", kind="suggestion", contact_kind="chat", contact=None),
    ]
    ticket_service().add_info(mine[0], user_key_for("rest", "alice"), "Encore un détail personnel.")
    theirs = make_ticket("bob")
    ticket_service().record_failed_lookup(user_key_for("rest", "alice"))

    events = await ActionDeleteMyData().run(dispatcher, tracker_for("alice"), domain)

    assert [e["event"] for e in events] == ["reset_slots", "restart"]
    [message] = dispatcher.messages
    assert message["response"] == "utter_data_deleted"
    assert message["tickets"] == 2
    for ref in mine:
        ticket = ticket_service().get(ref)
        assert (ticket.description, ticket.contact, ticket.service, ticket.user_key) == (None,) * 4
        assert all(e.text is None for e in ticket.events)
        # anonymous statistics stay
        assert ticket.category == "consular" and ticket.status == "open" and ticket.erased_at
    assert ticket_service().lookup_delay(user_key_for("rest", "alice")) == 0.0
    other = ticket_service().get(theirs)
    assert other.description and other.contact == "ahmed@example.com"
    # the references no longer lead to alice: she is not their owner any more
    assert ticket_service().list_for_user(user_key_for("rest", "alice")) == []


async def test_nothing_to_erase_still_restarts(dispatcher, domain, ticket_db):
    events = await ActionDeleteMyData().run(dispatcher, tracker_for("nobody", "en"), domain)
    assert dispatcher.messages[0]["tickets"] == 0
    assert events[-1]["event"] == "restart"


async def test_database_failure_erases_nothing_and_keeps_the_conversation(
    dispatcher, domain, tmp_path, monkeypatch
):
    from bot.storage.db import reset_default_engine

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'not-migrated.db'}")
    reset_default_engine()
    events = await ActionDeleteMyData().run(dispatcher, tracker_for("alice"), domain)
    reset_default_engine()
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_data_delete_failed"]


# ---------------------------------------------------------------------------- tracker store


def _events(user_text: str) -> List[Any]:
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered(user_text, {"name": "file_complaint", "confidence": 1.0}),
        SlotSet("description", user_text),
        BotUttered("Voici votre réclamation : " + user_text),
        ActionExecuted("action_listen"),
    ]


async def test_tracker_store_deletes_the_conversation_after_erasure(tmp_path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        AllSlotsReset,
        BotUttered,
        Restarted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.storage.tracker_store import ErasableSQLTrackerStore, erasure_point

    domain = Domain.from_dict(
        {"slots": {"description": {"type": "text", "mappings": [{"type": "custom"}]}}}
    )
    store = ErasableSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "tracker.db")
    )
    alice = DialogueStateTracker.from_events(
        "alice", _events("mon texte privé"), slots=domain.slots
    )
    bob = DialogueStateTracker.from_events("bob", _events("le texte de bob"), slots=domain.slots)
    await store.save(alice)
    await store.save(bob)

    alice = await store.retrieve("alice")
    assert erasure_point(list(alice.events)) is None
    for event in (
        UserUttered("/affirm", {"name": "affirm", "confidence": 1.0}),
        ActionExecuted("action_delete_my_data"),
        BotUttered("C'est fait."),
        AllSlotsReset(),
        Restarted(),
        ActionExecuted("action_listen"),
    ):
        alice.update(event)
    assert erasure_point(list(alice.events)) is not None
    await store.save(alice)

    assert await store.retrieve("alice") is None
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent.data).filter(store.SQLEvent.sender_id == "alice").all()
    assert rows == []
    bob_again = await store.retrieve("bob")
    assert any(e.as_dict().get("text") == "le texte de bob" for e in bob_again.events)

    # the next message starts a new conversation, saved as usual
    fresh = DialogueStateTracker.from_events("alice", _events("bonjour"), slots=domain.slots)
    await store.save(fresh)
    texts = [e.as_dict().get("text") for e in (await store.retrieve("alice")).events]
    assert "bonjour" in texts and "mon texte privé" not in texts


def test_a_restart_without_erasure_is_not_an_erasure():
    from rasa.shared.core.events import ActionExecuted, Restarted

    from bot.storage.tracker_store import erasure_point

    assert erasure_point([ActionExecuted("action_restart"), Restarted()]) is None
    assert (
        erasure_point(
            [ActionExecuted("action_delete_my_data"), ActionExecuted("action_listen"), Restarted()]
        )
        is None
    )
    assert erasure_point([ActionExecuted("action_delete_my_data"), Restarted()]) == 1
