from __future__ import annotations

from actions.fallback import ActionFallbackSuggest


async def test_first_miss_suggests_knowledge_base_topics(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "papiers pour la voiture en ete", intent="nlu_fallback", slots={"language": "fr"}
    )
    await ActionFallbackSuggest().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert any(b["payload"].startswith("/vehicle_import") for b in message["buttons"])
    assert 1 <= len(message["buttons"]) <= 3


async def test_nonsense_asks_to_rephrase(dispatcher, tracker_factory, domain):
    tracker = tracker_factory("qsdkjfh", intent="nlu_fallback")
    await ActionFallbackSuggest().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_rephrase"


async def test_second_miss_in_a_row_offers_a_person(dispatcher, tracker_factory, domain):
    earlier = [
        {"event": "user", "text": "blabla", "parse_data": {}},
        {"event": "action", "name": "action_fallback_suggest"},
        {"event": "bot", "text": "did you mean"},
        {"event": "action", "name": "action_listen"},
    ]
    tracker = tracker_factory("encore blabla", intent="nlu_fallback", events=earlier)
    await ActionFallbackSuggest().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_offer_human"
