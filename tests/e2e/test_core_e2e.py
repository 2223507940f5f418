"""The assistant end to end: real Rasa server, real action server, real HTTP (REST channel)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import yaml

from bot.knowledge import default_kb

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def response_text(name: str, lang: str) -> str:
    """The text of a domain response in one variety (French is the unconditional one)."""
    for variant in DOMAIN["responses"][name]:
        conditions = variant.get("condition") or []
        if (lang == "fr" and not conditions) or any(c["value"] == lang for c in conditions):
            return variant["text"]
    raise KeyError((name, lang))


@pytest.mark.parametrize(
    ("lang", "greeting"),
    [
        ("fr", "Bonjour, j'ai une question"),
        ("ar", "السلام عليكم، أريد الاستفسار عن بعض الإجراءات"),
        ("ary", "سلام، لاباس عليك؟"),
        ("ary_Latn", "salam khoya, bghit nswlk 3la chi 7aja"),
        ("en", "Hello, I have a question please"),
    ],
)
def test_greets_in_the_users_variety(servers, sender, lang, greeting):
    messages = servers.say(sender, greeting)
    assert messages[0]["text"] == response_text("utter_greet", lang)
    assert len(messages[0]["buttons"]) >= 4


@pytest.mark.parametrize(
    ("lang", "question", "follow_up"),
    [
        (
            "fr",
            "je dois renouveler mon passeport qui expire, je vis à Lyon",
            "et ça coûte combien ?",
        ),
        ("ar", "أريد تجديد جواز سفري الذي انتهت صلاحيته", "كم تبلغ الرسوم؟"),
        ("ary", "بغيت نجدد الباسبور ديالي ساليت", "شحال كيخلص؟"),
        ("ary_Latn", "bghit njded lpaspor dyali 3afak", "w chhal kaykhlles?"),
        ("en", "how do I renew my passport? it expired", "how much does it cost?"),
    ],
)
def test_procedure_answer_and_follow_up_in_every_variety(
    servers, sender, lang, question, follow_up
):
    entry = default_kb().get("passport_renewal")
    [answer] = servers.say(sender, question)
    assert entry.text(lang).summary in answer["text"]
    assert "consulat.ma" in answer["text"]
    assert {b["payload"] for b in answer["buttons"]} >= {'/procedure_detail{"detail":"fees"}'}
    [fees] = servers.say(sender, follow_up)
    assert entry.text(lang).fees in fees["text"]
    # a button press gives the same detail
    [documents] = servers.say(sender, '/procedure_detail{"detail":"documents"}')
    assert entry.text(lang).documents[0] in documents["text"]


def test_unclear_case_asks_with_buttons_then_answers(servers, sender):
    [question] = servers.say(sender, "passeport")
    payloads = [b["payload"] for b in question["buttons"]]
    assert '/passport{"variant":"minor"}' in payloads
    [answer] = servers.say(sender, '/passport{"variant":"minor"}')
    assert default_kb().get("passport_minor").text("fr").summary in answer["text"]


def test_urgent_topic_is_escalated_to_a_person(servers, sender):
    messages = servers.say(
        sender, "my brother died in Brussels, how do we bring his body home to Morocco"
    )
    assert default_kb().get("repatriation_of_remains").text("en").summary in messages[0]["text"]
    # escalated at once (actions/handoff.py): the reference of the handoff follows
    assert re.search(r"\bH-[0-9A-Z]{4}-[0-9A-Z]{4}\b", messages[-1]["text"]), messages[-1]


def test_short_message_keeps_the_conversation_language(servers, sender):
    servers.say(sender, "salam, bghit n3rf kifach nakhod rendez-vous f l consulat")
    [reply] = servers.say(sender, "ok")
    assert reply["text"] == response_text("utter_anything_else", "ary_Latn")


def test_channel_hint_decides_an_ambiguous_first_message(servers, sender):
    messages = servers.say(sender, "👍", metadata={"language_code": "en-GB"})
    texts = {m.get("text") for m in messages}
    english = {response_text(name, "en") for name in DOMAIN["responses"]}
    assert texts & english


def test_change_language_explicitly(servers, sender):
    servers.say(sender, "Bonjour")
    [reply] = servers.say(sender, "parle-moi en darija s'il te plait")
    assert reply["text"] == response_text("utter_language_changed", "ary")
    [menu] = servers.say(sender, '/change_language{"language": "en"}')
    assert menu["text"] == response_text("utter_language_changed", "en")


def test_unsupported_language_gets_french_with_language_menu(servers, sender):
    messages = servers.say(sender, "Hallo, ich habe eine Frage zu meinem Reisepass")
    assert messages, "no answer"
    all_payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert any(p.startswith("/change_language") for p in all_payloads), messages


def all_variants(name: str) -> set:
    return {variant["text"] for variant in DOMAIN["responses"][name]}


def test_two_misses_offer_a_person(servers, sender):
    first = servers.say(sender, "qsdkfjh zzkrt")
    assert first[0]["text"] in all_variants("utter_rephrase") | all_variants("utter_did_you_mean")
    [second] = servers.say(sender, "wxcvbn poiuy")
    assert second["text"] in all_variants("utter_offer_human")
    assert "/human_handoff" in [b["payload"] for b in second["buttons"]]


def test_a_handoff_stays_with_staff_when_the_session_expires(servers, sender):
    """After an hour of silence Rasa opens a new session; the pause must carry over."""
    queued = servers.say(sender, "/human_handoff")
    assert re.search(r"\bH-[0-9A-Z]{4}-[0-9A-Z]{4}\b", queued[-1]["text"]), queued
    api = f"{servers.base_url}/conversations/{sender}/tracker"
    auth = {"token": servers.token}
    # Two hours pass (session_expiration_time is 60 minutes). Rasa's API stamps or appends
    # events "now", so the stored conversation is moved back in time in the tracker store.
    with closing(sqlite3.connect(servers.env["TRACKER_DB_NAME"])) as db, db:
        moved = db.execute(
            "UPDATE events SET timestamp = timestamp - 7200,"
            " data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - 7200)"
            " WHERE sender_id = ?",
            (sender,),
        ).rowcount
    assert moved >= 5

    assert servers.say(sender, "allo ? vous êtes là ?") == []  # staff answer, not the bot

    tracker = httpx.get(api, params=auth, timeout=30).json()
    assert tracker["paused"] is True
    kinds = [e["event"] for e in tracker["events"]]
    assert kinds.count("session_started") == 2  # a new session was opened, paused again
    # the message is logged for the console, and nothing was run or said after it
    last_user = max(i for i, e in enumerate(tracker["events"]) if e["event"] == "user")
    assert tracker["events"][last_user]["text"] == "allo ? vous êtes là ?"
    after = [e for e in tracker["events"][last_user:] if e["event"] in ("bot", "action")]
    assert after == []


BAD_INPUTS = [
    "",
    "   ",
    "x" * 10_000,
    "passeport " * 1_500,
    "😀😀🎉",
    "\x00\x01\x02 bonjour \x1b[31m",
    "<script>alert('x')</script>",
    "'; DROP TABLE events; --",
    "passeport جواز السفر lpaspor passport",
    "\ufeff\u200f\u202e",
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_input_gets_an_answer_and_breaks_nothing(servers, sender, text):
    messages = servers.say(sender, text)
    assert isinstance(messages, list)
    for message in messages:
        assert "<script>" not in message.get("text", "")
    # the conversation still works afterwards
    assert servers.say(sender, "bonjour")[0]["text"] == response_text("utter_greet", "fr")


def test_malformed_requests_are_refused_cleanly(servers):
    url = f"{servers.base_url}/webhooks/rest/webhook"
    for body in (
        b"{not json",
        b"\xff\xfe\x00binary",
        b"[]",
        b'{"message": 12}',
        b'{"sender": "x"}',
    ):
        response = httpx.post(
            url, content=body, headers={"content-type": "application/json"}, timeout=10
        )
        assert response.status_code == 400, body
        assert response.json()["error"]
    too_long = {"sender": "x", "message": "a" * 20_001}
    assert httpx.post(url, json=too_long, timeout=10).status_code == 400
    # the server still answers afterwards
    assert servers.say("after-bad-requests", "hello")[0]["text"] == response_text(
        "utter_greet", "en"
    )
