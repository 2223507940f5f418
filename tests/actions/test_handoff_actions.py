"""action_handoff and action_rate against a real (SQLite) database."""

import datetime as dt

import pytest

from actions.handoff import ActionHandoff, ActionRate, rating_from
from bot.storage.db import make_session_factory, reset_default_engine, session_scope
from bot.storage.handoff_models import Handoff, Rating


@pytest.fixture
def database(tmp_path, monkeypatch):
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'mdm.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MDM_STAFF_HOURS", "Mon-Sun 00:00-24:00 UTC")
    reset_default_engine()
    yield make_session_factory(url)
    reset_default_engine()


def handoffs(factory):
    with session_scope(factory, readonly=True) as session:
        return session.query(Handoff).order_by(Handoff.id).all()


async def test_asking_for_a_person_queues_tells_the_place_and_pauses(
    database, dispatcher, tracker_factory, domain
):
    tracker = tracker_factory(
        "je veux parler à quelqu'un",
        intent="human_handoff",
        slots={"language": "ar"},
        sender_id="user-1",
    )
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    assert events == [{"event": "pause", "timestamp": None}]
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_queued"
    [h] = handoffs(database)
    assert message["ref"] == h.ref and message["position"] == 1
    assert (h.sender_id, h.language, h.priority, h.reason, h.status) == (
        "user-1",
        "ar",
        "normal",
        "asked",
        "waiting",
    )
    assert h.user_key and h.user_key != "user-1"  # a pseudonym, never the raw id


async def test_urgent_topic_gets_high_priority(database, dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "mon frère est décédé",
        intent="repatriation_of_remains",
        slots={"kb_entry": "repatriation_of_remains"},
        sender_id="user-2",
    )
    await ActionHandoff().run(dispatcher, tracker, domain)
    [h] = handoffs(database)
    assert (h.priority, h.reason, h.topic) == ("high", "urgent", "repatriation_of_remains")


async def test_second_miss_then_button_is_a_fallback_escalation(
    database, dispatcher, tracker_factory, domain
):
    previous = [
        {"event": "user", "text": "qsdf", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_fallback_suggest"},
    ]
    tracker = tracker_factory("/human_handoff", intent="human_handoff", events=previous)
    await ActionHandoff().run(dispatcher, tracker, domain)
    assert handoffs(database)[0].reason == "fallback"


async def test_outside_staff_hours_says_when(
    database, dispatcher, tracker_factory, domain, monkeypatch
):
    # a day with no opening hours today: any moment is outside them
    today = dt.datetime.now(dt.timezone.utc).strftime("%a")
    other = "Mon" if today != "Mon" else "Tue"
    monkeypatch.setenv("MDM_STAFF_HOURS", f"{other} 09:00-10:00 UTC")
    tracker = tracker_factory("/human_handoff", intent="human_handoff", slots={"language": "en"})
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_after_hours"
    assert message["opening"].endswith("09:00 (UTC)")
    assert events[0]["event"] == "pause"


async def test_database_down_falls_back_to_contact_details(
    dispatcher, tracker_factory, domain, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    reset_default_engine()
    tracker = tracker_factory("/human_handoff", intent="human_handoff")
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    reset_default_engine()
    assert events == []  # not paused: nobody would ever answer
    assert dispatcher.messages[0]["response"] == "utter_handoff"


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ('/rate{"rating": 4}', [{"entity": "rating", "value": 4}], 4),
        ("5/5 pour ce service", [], 5),
        ("je donne ٣ étoiles", [], 3),
        ("je donne 9 étoiles", [], None),
        ('/rate{"rating": 7}', [{"entity": "rating", "value": 7}], None),
    ],
)
def test_rating_from(tracker_factory, text, entities, expected):
    assert rating_from(tracker_factory(text, intent="rate", entities=entities)) == expected


async def test_rate_stores_and_thanks(database, dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        '/rate{"rating": 5}',
        intent="rate",
        entities=[{"entity": "rating", "value": 5}],
        slots={"language": "ary"},
    )
    await ActionRate().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_rating_thanks"
    with session_scope(database, readonly=True) as session:
        [(rating, language)] = session.query(Rating.rating, Rating.language).all()
    assert (rating, language) == (5, "ary")
