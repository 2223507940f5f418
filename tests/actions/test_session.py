"""action_session_start: slots carried over, a handoff's pause kept."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.session import ActionSessionStart


def tracker(paused: bool, slots: dict) -> Tracker:
    return Tracker("user-1", slots, {}, [], paused, None, {}, "action_listen")


async def test_a_paused_conversation_stays_paused(dispatcher, domain):
    events = await ActionSessionStart().run(
        dispatcher, tracker(True, {"language": "ary", "kb_entry": None}), domain
    )
    assert [e["event"] for e in events] == ["session_started", "slot", "pause", "action"]
    assert events[1]["name"] == "language" and events[1]["value"] == "ary"
    assert events[-1]["name"] == "action_listen"
    assert dispatcher.messages == []  # nothing said: staff have the conversation


async def test_an_active_conversation_just_starts_again(dispatcher, domain):
    slots = {"language": "en", "session_started_metadata": {"old": True}}
    events = await ActionSessionStart().run(dispatcher, tracker(False, slots), domain)
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[1]["name"] == "language"  # Rasa's own metadata slot is not carried over


async def test_slots_are_dropped_when_the_domain_says_so(dispatcher, domain):
    no_carry = {**domain, "session_config": {"carry_over_slots_to_new_session": False}}
    events = await ActionSessionStart().run(dispatcher, tracker(True, {"language": "fr"}), no_carry)
    assert [e["event"] for e in events] == ["session_started", "pause", "action"]


def test_the_domain_declares_it_and_carries_slots_over(domain):
    assert "action_session_start" in domain["actions"]
    assert domain["session_config"]["carry_over_slots_to_new_session"] is True
