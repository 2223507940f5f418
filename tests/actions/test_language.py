from __future__ import annotations

from actions.language import ActionChangeLanguage, ValidateSlotMappings


def verdict(code, confidence=0.95, ambiguous=False):
    return {"code": code, "confidence": confidence, "ambiguous": ambiguous}


async def test_confident_verdict_sets_language(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "bghit lpaspor", intent="passport", language=verdict("ary_Latn"), slots={"language": "fr"}
    )
    result = await ValidateSlotMappings().extract_language(dispatcher, tracker, domain)
    assert result == {"language": "ary_Latn"}


async def test_ambiguous_message_keeps_language(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "ok", intent="affirm", language=verdict("en", 0.4, True), slots={"language": "ary"}
    )
    result = await ValidateSlotMappings().extract_language(dispatcher, tracker, domain)
    assert result == {"language": "ary"}


async def test_channel_hint_is_the_prior_for_the_first_message(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "👍", language=verdict("other", 0.1, True), metadata={"language_code": "en-GB"}
    )
    result = await ValidateSlotMappings().extract_language(dispatcher, tracker, domain)
    assert result == {"language": "en"}


async def test_change_language_request_wins(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "parle moi en darija",
        intent="change_language",
        entities=[{"entity": "language", "value": "ary"}],
        language=verdict("fr"),
        slots={"language": "fr"},
    )
    result = await ValidateSlotMappings().extract_language(dispatcher, tracker, domain)
    assert result == {"language": "ary"}
    await ActionChangeLanguage().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_language_changed"


async def test_change_language_without_target_shows_menu(dispatcher, tracker_factory, domain):
    tracker = tracker_factory("autre langue", intent="change_language")
    await ActionChangeLanguage().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_ask_language"


async def test_unsupported_language_gets_french(dispatcher, tracker_factory, domain):
    tracker = tracker_factory("Ich brauche einen Reisepass", language=verdict("other", 0.9))
    result = await ValidateSlotMappings().extract_language(dispatcher, tracker, domain)
    assert result == {"language": "fr"}
