"""Unit tests of the knowledge-base actions (fixtures: dispatcher, tracker_factory, domain)."""

from __future__ import annotations

import pytest

from actions.procedures import ActionAnswerDetail, ActionAnswerProcedure, pick_variant
from bot.knowledge import default_kb


async def run(action, dispatcher, tracker, domain):
    return await action.run(dispatcher, tracker, domain)


async def test_clear_case_answers_summary_with_detail_buttons(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "je veux renouveler mon passeport", intent="passport", slots={"language": "fr"}
    )
    events = await run(ActionAnswerProcedure(), dispatcher, tracker, domain)
    assert events == [
        {"event": "slot", "timestamp": None, "name": "kb_entry", "value": "passport_renewal"}
    ]
    [message] = dispatcher.messages
    entry = default_kb().get("passport_renewal")
    assert entry.text("fr").summary in message["text"]
    assert "consulat.ma" in message["text"]  # the source is cited
    payloads = [b["payload"] for b in message["buttons"]]
    assert '/procedure_detail{"detail":"fees"}' in payloads
    assert '/procedure_detail{"detail":"documents"}' in payloads


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ar", "أريد تجديد جواز السفر"),
        ("ary", "بغيت نجدد الباسبور ديالي"),
        ("ary_Latn", "bghit njded lpaspor dyali 3afak"),
        ("en", "I need to renew my passport"),
    ],
)
async def test_answers_in_the_conversation_language(
    lang, text, dispatcher, tracker_factory, domain
):
    tracker = tracker_factory(text, intent="passport", slots={"language": lang})
    await run(ActionAnswerProcedure(), dispatcher, tracker, domain)
    entry = default_kb().get("passport_renewal")
    assert entry.text(lang).summary in dispatcher.messages[0]["text"]


async def test_unclear_case_asks_once_with_buttons(dispatcher, tracker_factory, domain):
    tracker = tracker_factory("passeport", intent="passport", slots={"language": "fr"})
    events = await run(ActionAnswerProcedure(), dispatcher, tracker, domain)
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_procedure_variant"
    payloads = {b["payload"] for b in message["buttons"]}
    assert '/passport{"variant":"minor"}' in payloads
    assert len(payloads) == len(default_kb().for_intent("passport"))


async def test_button_variant_selects_the_entry(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        '/passport{"variant":"minor"}',
        intent="passport",
        entities=[{"entity": "variant", "value": "minor"}],
        slots={"language": "en"},
    )
    events = await run(ActionAnswerProcedure(), dispatcher, tracker, domain)
    assert events[0]["value"] == "passport_minor"


async def test_urgent_topic_is_escalated_at_once(dispatcher, tracker_factory, domain):
    tracker = tracker_factory("mon frère est décédé à Lyon", intent="repatriation_of_remains")
    events = await run(ActionAnswerProcedure(), dispatcher, tracker, domain)
    # the answer first, then a person at once (action_handoff, high priority)
    assert dispatcher.messages[0]["text"]
    assert {"event": "followup", "timestamp": None, "name": "action_handoff"} in events


async def test_intent_without_entry_says_so(dispatcher, tracker_factory, domain):
    tracker = tracker_factory("xyz", intent="not_an_intent")
    await run(ActionAnswerProcedure(), dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_no_entry"


async def test_follow_up_detail_uses_last_entry(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "et ça coûte combien ?",
        intent="procedure_detail",
        entities=[{"entity": "detail", "value": "fees"}],
        slots={"language": "fr", "kb_entry": "passport_renewal"},
    )
    await run(ActionAnswerDetail(), dispatcher, tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert default_kb().get("passport_renewal").text("fr").fees in text
    assert "860" in text


async def test_follow_up_without_context_asks_which_procedure(dispatcher, tracker_factory, domain):
    tracker = tracker_factory(
        "les documents ?",
        intent="procedure_detail",
        entities=[{"entity": "detail", "value": "documents"}],
    )
    await run(ActionAnswerDetail(), dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_ask_which_procedure"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the entry model alone is sure of "lost" here; the words do not say it: ask
        ("help with my passport", None),
        ("passeport", None),
        ("جواز السفر", None),
        # words and entry model agree: answer
        ("my passport expired last month", "passport_renewal"),
        ("bghit njded lpaspor dyali 3afak", "passport_renewal"),
        ("ضاع لي جواز السفر", "passport_lost"),
    ],
)
def test_a_variant_is_answered_only_when_words_and_entry_model_agree(text, expected):
    picked = pick_variant(default_kb().for_intent("passport"), text, None)
    assert (picked.id if picked else None) == expected
