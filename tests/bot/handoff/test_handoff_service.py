"""HandoffService on SQLite and PostgreSQL (``session_factory`` runs each test on both)."""

import datetime as dt

import pytest

from bot.handoff.service import HandoffError, HandoffService, routing_key
from bot.storage.db import session_scope
from bot.storage.handoff_models import Rating, StaffMember


@pytest.fixture
def handoffs(session_factory, clock):
    return HandoffService(session_factory, clock=clock)


def escalate(service, sender, **kw):
    args = {"sender_id": sender, "channel": "telegram", "language": "fr"}
    args.update(kw)
    return service.escalate(**args)


def test_queue_position_puts_urgent_first(handoffs, clock):
    a = escalate(handoffs, "a")
    clock.advance(minutes=1)
    b = escalate(handoffs, "b")
    clock.advance(minutes=1)
    c = escalate(handoffs, "c", priority="high", reason="urgent")
    assert (a.position, b.position, c.position) == (1, 2, 1)
    assert handoffs.position(a.handoff.ref) == 2
    assert handoffs.position(b.handoff.ref) == 3
    assert a.handoff.ref.startswith("H-") and len(a.handoff.ref) == 11
    assert handoffs.counts() == {"waiting": 3, "active": 0, "high": 1}


def test_asking_twice_creates_one_handoff_and_urgency_raises_priority(handoffs):
    first = escalate(handoffs, "a")
    again = escalate(handoffs, "a", priority="high", reason="urgent", topic="emergency")
    assert not again.created and again.handoff.ref == first.handoff.ref
    stored = handoffs.get(first.handoff.ref)
    assert stored.priority == "high" and stored.topic == "emergency"
    assert len(handoffs.queue()) == 1


def test_routing_prefers_the_agents_languages_then_topics(handoffs, clock):
    fr = escalate(handoffs, "fr", language="fr")
    clock.advance(minutes=1)
    ar_other = escalate(handoffs, "ar1", language="ar", topic="real_estate")
    clock.advance(minutes=1)
    ar_topic = escalate(handoffs, "ar2", language="ar", topic="passport_renewal")
    agent = StaffMember(id=1, languages="ar,ary", topics="passport_renewal")
    order = [h.ref for h in handoffs.queue(agent=agent)]
    assert order == [ar_topic.handoff.ref, ar_other.handoff.ref, fr.handoff.ref]
    assert handoffs.next_for(agent).ref == ar_topic.handoff.ref
    # without preferences: oldest first
    assert [h.ref for h in handoffs.queue()][0] == fr.handoff.ref


def test_urgent_beats_language_in_routing():
    agent_langs, topics = ["ar"], []
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    class H:  # minimal stand-in
        def __init__(self, i, language, priority):
            self.id, self.language, self.priority, self.topic, self.created_at = (
                i,
                language,
                priority,
                None,
                now,
            )

    urgent_fr, normal_ar = H(1, "fr", "high"), H(2, "ar", "normal")
    ordered = sorted([normal_ar, urgent_fr], key=lambda h: routing_key(h, agent_langs, topics))
    assert ordered[0] is urgent_fr


def test_take_transfer_finish(handoffs, session_factory):
    with session_scope(session_factory) as session:
        one = StaffMember(
            username="one",
            display_name="One",
            password_hash="x",
            role="agent",
            languages="fr",
            topics="",
            active=True,
            failed_logins=0,
        )
        two = StaffMember(
            username="two",
            display_name="Two",
            password_hash="x",
            role="agent",
            languages="fr",
            topics="",
            active=True,
            failed_logins=0,
        )
        session.add_all([one, two])
        session.flush()
        one_id, two_id = one.id, two.id
    ref = escalate(handoffs, "a", recipient_id="4242").handoff.ref
    assert handoffs.take(ref, one_id).status == "active"
    assert handoffs.position(ref) == 0
    assert handoffs.transfer(ref, two_id).assigned_to == two_id
    with pytest.raises(HandoffError) as err:
        handoffs.transfer(ref, 9999)
    assert err.value.code == "no_such_agent"
    back = handoffs.transfer(ref, None)
    assert back.status == "waiting" and back.assigned_to is None
    before = handoffs.finish(ref, "returned")
    assert before.recipient_id == "4242"
    done = handoffs.get(ref)
    assert done.status == "returned" and done.recipient_id is None and done.closed_at
    assert done.sender_id == "a"  # the transcript stays readable
    with pytest.raises(HandoffError):
        handoffs.take(ref, one_id)
    assert handoffs.open_for_sender("a") is None
    # a new request after the end opens a new handoff
    assert escalate(handoffs, "a").created


def test_ratings_are_checked_and_stored(handoffs, session_factory):
    handoffs.add_rating(rating=5, channel="telegram", language="ar", user_key=None)
    for bad in (0, 6, "5"):
        with pytest.raises(ValueError):
            handoffs.add_rating(rating=bad, channel="telegram", language="ar", user_key=None)
    with session_scope(session_factory, readonly=True) as session:
        assert [r.rating for r in session.query(Rating).all()] == [5]


def test_erase_user_unlinks_and_closes(handoffs, session_factory):
    from bot.tickets.pseudonym import user_key

    key = user_key("telegram", "a", "test-secret")
    ref = escalate(handoffs, "a", user_key=key, recipient_id="a").handoff.ref
    other = escalate(handoffs, "b").handoff.ref
    handoffs.add_rating(rating=4, channel="telegram", language="fr", user_key=key)
    assert handoffs.erase_user("a", key) == 1
    gone = handoffs.get(ref)
    assert (gone.sender_id, gone.recipient_id, gone.user_key, gone.status) == (
        None,
        None,
        None,
        "closed",
    )
    assert gone.language == "fr" and gone.priority == "normal"  # statistics stay
    assert handoffs.get(other).sender_id == "b"
    with session_scope(session_factory, readonly=True) as session:
        assert [(r.rating, r.user_key) for r in session.query(Rating).all()] == [(4, None)]
