"""Telegram: the sender against a local Bot API, the webhook handler, and the real assistant.

Unit tests drive :class:`TelegramInput.process` and :class:`TelegramSender` against the fake
Bot API; the ``e2e`` tests post real updates over HTTP to a running Rasa server whose Telegram
channel answers through the same fake API, and check the recorded Bot API calls.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from bot.ratelimit import NOTICES, MemoryRateLimiter
from bot.storage.channel_store import is_payload_key
from connectors.common import FairUse, split_text, utf16_len
from connectors.telegram import (
    MAX_TEXT,
    TelegramInput,
    TelegramOutputChannel,
    TelegramSender,
    read_update,
)
from tests.connectors.conftest import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    next_id,
    post_telegram,
)
from tests.connectors.fakes import by_chat

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- update builders
def tg_user(uid: int, lang: Optional[str] = "fr") -> Dict[str, Any]:
    user: Dict[str, Any] = {"id": uid, "is_bot": False, "first_name": "Test"}
    if lang:
        user["language_code"] = lang
    return user


def message_update(chat_id: int, lang: Optional[str] = "fr", chat_type: str = "private", **fields):
    message = {
        "message_id": next_id(),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type},
        "from": tg_user(chat_id, lang),
    }
    message.update(fields)
    return {"update_id": next_id(), "message": message}


def text_update(chat_id: int, text: str, lang: Optional[str] = "fr", **kw):
    return message_update(chat_id, lang, text=text, **kw)


def callback_update(chat_id: int, data: str, keyboard: Optional[list] = None, lang="fr"):
    message: Dict[str, Any] = {
        "message_id": next_id(),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "text": "…",
    }
    if keyboard is not None:
        message["reply_markup"] = {"inline_keyboard": keyboard}
    return {
        "update_id": next_id(),
        "callback_query": {
            "id": f"cb-{next_id()}",
            "from": tg_user(chat_id, lang),
            "chat_instance": "42",
            "data": data,
            "message": message,
        },
    }


def parse(update: Dict[str, Any]):
    from telegram import Update

    return read_update(Update.de_json(update, None))


def response_text(domain, name: str, lang: str) -> str:
    for variant in domain["responses"][name]:
        conditions = variant.get("condition") or []
        if (lang == "fr" and not conditions) or any(c["value"] == lang for c in conditions):
            return variant["text"]
    raise KeyError((name, lang))


def keyboard_of(call: Dict[str, Any]) -> List[Dict[str, Any]]:
    markup = call["params"].get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [button for row in (markup or {}).get("inline_keyboard", []) for button in row]


# ---------------------------------------------------------------------------- reading updates
def test_text_and_language_code():
    incoming = parse(text_update(5, "je veux renouveler mon passeport", lang="fr-FR"))
    assert incoming.chat_id == 5
    assert incoming.text == "je veux renouveler mon passeport"
    assert incoming.metadata == {"language_code": "fr-FR"}
    assert incoming.callback_query_id is None


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/start", "/greet"),
        ("/start@mdm_test_bot", "/greet"),
        ("/start campaign-42", "/greet"),
        ("/help", "/help"),
        ("/lang", "/change_language"),
        ("/LANG", "/change_language"),
        ("/passport", "/passport"),  # not a bot command of ours: given to Rasa as typed
    ],
)
def test_commands(text, payload):
    assert parse(text_update(5, text)).text == payload


@pytest.mark.parametrize(
    "media",
    [
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "u",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"photo": [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90}]},
        {"voice": {"file_id": "v", "file_unique_id": "u", "duration": 3}},
        {
            "photo": [{"file_id": "p", "file_unique_id": "u", "width": 9, "height": 9}],
            "caption": "voici mon passeport",
        },
        {"location": {"latitude": 48.85, "longitude": 2.35}},
    ],
)
def test_media_become_the_unsupported_media_payload(media):
    incoming = parse(message_update(7, lang="en", **media))
    assert incoming.text == "/unsupported_media"
    assert incoming.metadata == {"language_code": "en"}


def test_edited_messages_become_the_unsupported_media_payload():
    update = text_update(8, "correction")
    update["edited_message"] = dict(update.pop("message"), edit_date=int(time.time()))
    assert parse(update).text == "/unsupported_media"


def test_button_press():
    keyboard = [[{"text": "Frais", "callback_data": '/procedure_detail{"detail":"fees"}'}]]
    incoming = parse(callback_update(9, '/procedure_detail{"detail":"fees"}', keyboard, lang="ar"))
    assert incoming.text == '/procedure_detail{"detail":"fees"}'
    assert incoming.callback_query_id.startswith("cb-")
    assert incoming.button_title == "Frais"
    assert incoming.metadata == {"language_code": "ar"}


@pytest.mark.parametrize(
    "update",
    [
        text_update(10, "salut", chat_type="group"),
        text_update(10, "salut", chat_type="supergroup"),
        {
            "update_id": 1,
            "channel_post": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": -100, "type": "channel"},
                "text": "x",
            },
        },
        {
            "update_id": 2,
            "inline_query": {"id": "q", "from": tg_user(1), "query": "x", "offset": ""},
        },
        message_update(11, new_chat_title="x"),  # a service message
    ],
    ids=["group", "supergroup", "channel_post", "inline_query", "service"],
)
def test_updates_we_do_not_handle_are_ignored(update):
    assert parse(update) is None


# ---------------------------------------------------------------------------- splitting
def test_long_replies_are_split_under_the_limit_without_cutting_words():
    words = [f"mot{i}" for i in range(3000)] + ["😀"] * 500 + ["جواز"] * 1000
    text = " ".join(words)
    pieces = split_text(text, MAX_TEXT, utf16_len)
    assert len(pieces) > 3
    assert all(utf16_len(p) <= MAX_TEXT for p in pieces)
    assert " ".join(pieces).split() == words


def test_paragraphs_are_preferred_cut_points():
    paragraph = ("Une phrase de la procédure. " * 30).strip()
    pieces = split_text("\n\n".join([paragraph] * 6), 2000)
    assert all(p.startswith("Une phrase") and p.endswith("procédure.") for p in pieces)


# ---------------------------------------------------------------------------- the sender
@pytest.fixture
async def sender(bot_api, channel_store):
    made = TelegramSender(TELEGRAM_TOKEN, bot_api.base_url, store=channel_store)
    yield made
    await made.close()


async def test_sender_sends_plain_text_with_an_inline_keyboard(sender, bot_api):
    chat = next_id()
    ids = await sender.send_text(
        chat,
        "Renouveler son passeport <b>pas du HTML</b> _ni_ *markdown*",
        buttons=[
            {"title": "Frais", "payload": '/procedure_detail{"detail":"fees"}'},
            {"title": "Site", "url": "https://www.consulat.ma"},
        ],
    )
    [call] = by_chat(bot_api.calls("sendMessage"), chat)
    assert ids and call["token"] == TELEGRAM_TOKEN
    assert call["params"]["text"] == "Renouveler son passeport <b>pas du HTML</b> _ni_ *markdown*"
    assert "parse_mode" not in call["params"]
    assert call["params"]["link_preview_options"] == {"is_disabled": True}
    buttons = keyboard_of(call)
    assert buttons[0] == {"text": "Frais", "callback_data": '/procedure_detail{"detail":"fees"}'}
    assert buttons[1] == {"text": "Site", "url": "https://www.consulat.ma"}


async def test_long_text_goes_in_pieces_with_buttons_on_the_last(sender, bot_api):
    chat = next_id()
    text = "\n\n".join(f"Paragraphe {i} " + "détail " * 120 for i in range(12))
    await sender.send_text(chat, text, buttons=[{"title": "OK", "payload": "/affirm"}])
    calls = by_chat(bot_api.calls("sendMessage"), chat)
    assert len(calls) >= 3
    assert all(utf16_len(c["params"]["text"]) <= MAX_TEXT for c in calls)
    assert [bool(keyboard_of(c)) for c in calls] == [False] * (len(calls) - 1) + [True]
    assert " ".join(c["params"]["text"] for c in calls).split() == text.split()


async def test_long_payloads_are_sent_as_short_keys(sender, bot_api, channel_store):
    chat = next_id()
    long_payload = '/passport{"variant": "minor", "note": "' + "é" * 40 + '"}'
    assert len(long_payload.encode()) > 64
    await sender.send_text(
        chat, "Choisissez", buttons=[{"title": "Mineur", "payload": long_payload}]
    )
    [call] = by_chat(bot_api.calls("sendMessage"), chat)
    data = keyboard_of(call)[0]["callback_data"]
    assert len(data.encode()) <= 64 and is_payload_key(data)
    assert channel_store.resolve_payload(data) == long_payload


async def test_sender_raises_and_output_channel_logs_when_telegram_refuses(sender, bot_api):
    from telegram.error import Forbidden

    bot_api.fail["sendMessage"] = (403, "Forbidden: bot was blocked by the user")
    try:
        with pytest.raises(Forbidden):
            await sender.send_text(next_id(), "Bonjour")
        await TelegramOutputChannel(sender).send_text_message(str(next_id()), "Bonjour")  # no raise
    finally:
        bot_api.fail.pop("sendMessage")


def test_sender_needs_a_token():
    with pytest.raises(ValueError):
        TelegramSender("", "http://x")


# ---------------------------------------------------------------------------- the webhook
class Collected:
    """A stand-in for Rasa: records messages, answers each with an echo through the channel."""

    def __init__(self) -> None:
        self.messages: List[Any] = []

    async def __call__(self, message) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(
            message.sender_id, f"echo {len(self.messages)}"
        )


@pytest.fixture
def channel(bot_api, channel_store):
    return TelegramInput(
        TELEGRAM_TOKEN,
        TELEGRAM_SECRET,
        bot_api.base_url,
        store=channel_store,
        fair_use=FairUse("telegram", MemoryRateLimiter(3, 10.0)),
    )


def headers(secret: Optional[str] = TELEGRAM_SECRET) -> Dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}


def raw(update) -> bytes:
    return json.dumps(update).encode()


async def test_webhook_gives_rasa_the_message_with_its_metadata(channel, bot_api):
    rasa, chat = Collected(), next_id()
    status, body = await channel.process(
        raw(text_update(chat, "/start", lang="en-GB")), headers(), rasa
    )
    assert (status, body) == (200, {"status": "ok"})
    [message] = rasa.messages
    assert (message.text, message.sender_id, message.input_channel) == (
        "/greet",
        str(chat),
        "telegram",
    )
    assert message.metadata == {"language_code": "en-GB"}
    assert [c["params"]["text"] for c in by_chat(bot_api.calls("sendMessage"), chat)] == ["echo 1"]


@pytest.mark.parametrize("secret", [None, "", "wrong", TELEGRAM_SECRET + "x", TELEGRAM_SECRET[:-1]])
async def test_wrong_or_missing_secret_is_refused(channel, secret):
    rasa = Collected()
    assert (await channel.process(raw(text_update(1, "hi")), headers(secret), rasa))[0] == 403
    assert not rasa.messages


async def test_nothing_is_accepted_without_a_configured_secret(bot_api, channel_store):
    unconfigured = TelegramInput(TELEGRAM_TOKEN, "", bot_api.base_url, store=channel_store)
    assert (await unconfigured.process(raw(text_update(1, "hi")), headers(""), Collected()))[
        0
    ] == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 400),
        (b'{"message": {"text": "no update id"}}', 400),
        (b'{"update_id": "1"}', 400),
        (b'{"update_id": 1, "message": {"text": "no chat nor date"}}', 400),
        (b'{"update_id": 2, "message": "not an object"}', 400),
        (b'{"update_id": 3, "something_new": {"x": 1}}', 200),
        (b'{"update_id": 4}', 200),
        (b"x" * (1024 * 1024 + 1), 413),
    ],
)
async def test_bad_bodies_never_crash(channel, body, status):
    rasa = Collected()
    assert (await channel.process(body, headers(), rasa))[0] == status
    assert not rasa.messages


async def test_an_update_delivered_twice_is_handled_once(channel):
    rasa, update = Collected(), text_update(next_id(), "bonjour")
    assert (await channel.process(raw(update), headers(), rasa))[1] == {"status": "ok"}
    assert (await channel.process(raw(update), headers(), rasa))[1] == {"status": "duplicate"}
    assert len(rasa.messages) == 1


async def test_button_press_is_answered_and_its_long_payload_resolved(
    channel, bot_api, channel_store
):
    rasa, chat = Collected(), next_id()
    payload = '/passport{"variant": "minor", "x": "' + "y" * 80 + '"}'
    key = channel_store.payload_key(payload)
    update = callback_update(chat, key, [[{"text": "Mineur", "callback_data": key}]])
    await channel.process(raw(update), headers(), rasa)
    assert [m.text for m in rasa.messages] == [payload]
    [answer] = bot_api.calls(
        "answerCallbackQuery", callback_query_id=update["callback_query"]["id"]
    )
    assert answer["token"] == TELEGRAM_TOKEN


async def test_unknown_key_falls_back_to_the_button_title(channel):
    rasa, key = Collected(), "#p:AAAAAAAAAAAAAAAAAAAAAA"
    update = callback_update(next_id(), key, [[{"text": "Les frais", "callback_data": key}]])
    await channel.process(raw(update), headers(), rasa)
    assert [m.text for m in rasa.messages] == ["Les frais"]


async def test_flood_gets_one_notice_then_is_dropped_others_unaffected(channel, bot_api):
    rasa, flooder, other = Collected(), next_id(), next_id()
    statuses = []
    for _ in range(6):
        statuses.append(
            (await channel.process(raw(text_update(flooder, "spam", lang="en")), headers(), rasa))[
                1
            ]
        )
    assert [s["status"] for s in statuses] == ["ok"] * 3 + ["throttled"] * 3
    texts = [c["params"]["text"] for c in by_chat(bot_api.calls("sendMessage"), flooder)]
    assert texts == ["echo 1", "echo 2", "echo 3", NOTICES["en"]]
    assert (await channel.process(raw(text_update(other, "salut")), headers(), rasa))[1] == {
        "status": "ok"
    }
    assert len(rasa.messages) == 4


async def test_notice_uses_the_conversation_language(channel, bot_api):
    chat = next_id()

    async def darija(sender_id: str) -> str:
        return "ary"

    for _ in range(4):
        await channel.process(
            raw(text_update(chat, "x", lang="fr")), headers(), Collected(), darija
        )
    assert by_chat(bot_api.calls("sendMessage"), chat)[-1]["params"]["text"] == NOTICES["ary"]


async def test_a_failing_rasa_still_gets_200(channel):
    async def broken(message) -> None:
        raise RuntimeError("boom")

    assert await channel.process(raw(text_update(next_id(), "x")), headers(), broken) == (
        200,
        {"status": "error"},
    )


def test_from_credentials_defaults_the_api_address():
    channel = TelegramInput.from_credentials(
        {"access_token": "t", "secret_token": "s", "api_base_url": ""}
    )
    assert channel.api_base_url == "https://api.telegram.org"
    assert TelegramInput.name() == "telegram"


# ---------------------------------------------------------------------------- the real assistant
e2e = pytest.mark.e2e


@e2e
def test_start_greets_in_the_users_language_with_an_inline_keyboard(
    channel_servers, bot_api, domain
):
    chat = next_id()
    reply = post_telegram(channel_servers, text_update(chat, "/start", lang="en-GB"))
    assert reply.status_code == 200
    [call] = by_chat(bot_api.calls("sendMessage"), chat)
    assert call["params"]["text"] == response_text(domain, "utter_greet", "en")
    payloads = [b["callback_data"] for b in keyboard_of(call)]
    expected = [b["payload"] for b in domain["responses"]["utter_greet"][0]["buttons"]]
    assert payloads == expected
    assert all(len(p.encode()) <= 64 for p in payloads)


@e2e
def test_question_then_button_press(channel_servers, bot_api, domain):
    from bot.knowledge import default_kb

    chat = next_id()
    post_telegram(channel_servers, text_update(chat, "je dois renouveler mon passeport", lang="fr"))
    [answer] = by_chat(bot_api.calls("sendMessage"), chat)
    entry = default_kb().get("passport_renewal")
    assert entry.text("fr").summary in answer["params"]["text"]
    fees = [
        b for b in keyboard_of(answer) if b["callback_data"] == '/procedure_detail{"detail":"fees"}'
    ]
    assert fees
    update = callback_update(chat, fees[0]["callback_data"], [[fees[0]]])
    assert post_telegram(channel_servers, update).status_code == 200
    assert bot_api.calls("answerCallbackQuery", callback_query_id=update["callback_query"]["id"])
    texts = [c["params"]["text"] for c in by_chat(bot_api.calls("sendMessage"), chat)]
    assert len(texts) == 2 and entry.text("fr").fees in texts[1]


@e2e
def test_long_payload_key_reaches_rasa_as_the_payload(channel_servers, bot_api):
    from bot.knowledge import default_kb
    from bot.storage.channel_store import ChannelStore
    from bot.storage.db import make_session_factory

    long_payload = '/passport{"variant":' + " " * 60 + '"minor"}'  # valid JSON, > 64 bytes
    store = ChannelStore(make_session_factory(channel_servers.database_url))
    key = store.payload_key(long_payload)  # what the server's sender would have stored
    chat = next_id()
    post_telegram(
        channel_servers, callback_update(chat, key, [[{"text": "Mineur", "callback_data": key}]])
    )
    [answer] = by_chat(bot_api.calls("sendMessage"), chat)
    assert default_kb().get("passport_minor").text("fr").summary in answer["params"]["text"]


@e2e
@pytest.mark.parametrize(("lang_code", "lang"), [(None, "fr"), ("ar", "ar"), ("en-US", "en")])
def test_sticker_gets_the_polite_answer(channel_servers, bot_api, domain, lang_code, lang):
    chat = next_id()
    sticker = {
        "file_id": "s",
        "file_unique_id": "u",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    post_telegram(channel_servers, message_update(chat, lang=lang_code, sticker=sticker))
    [call] = by_chat(bot_api.calls("sendMessage"), chat)
    assert call["params"]["text"] == response_text(domain, "utter_unsupported_media", lang)


@e2e
def test_voice_note_and_edit_are_answered_in_the_conversation_language(
    channel_servers, bot_api, domain
):
    chat = next_id()
    post_telegram(
        channel_servers, text_update(chat, "salam khoya, bghit nswlk 3la chi 7aja", lang="fr")
    )
    post_telegram(
        channel_servers,
        message_update(chat, voice={"file_id": "v", "file_unique_id": "u", "duration": 2}),
    )
    edited = text_update(chat, "salam")
    edited["edited_message"] = dict(edited.pop("message"), edit_date=int(time.time()))
    post_telegram(channel_servers, edited)
    texts = [c["params"]["text"] for c in by_chat(bot_api.calls("sendMessage"), chat)]
    expected = response_text(domain, "utter_unsupported_media", "ary_Latn")
    assert texts[-2:] == [expected, expected]


@e2e
def test_same_update_twice_is_answered_once(channel_servers, bot_api):
    chat, update = next_id(), text_update(next_id(), "bonjour")
    update["message"]["chat"]["id"] = chat
    assert post_telegram(channel_servers, update).json() == {"status": "ok"}
    assert post_telegram(channel_servers, update).json() == {"status": "duplicate"}
    assert len(by_chat(bot_api.calls("sendMessage"), chat)) == 1


@e2e
def test_bad_requests_are_refused_and_the_server_keeps_working(channel_servers, bot_api, domain):
    good = text_update(next_id(), "hello")
    assert post_telegram(channel_servers, good, secret="").status_code == 403
    assert post_telegram(channel_servers, good, secret="nope").status_code == 403
    assert post_telegram(channel_servers, b"{not json").status_code == 400
    assert post_telegram(channel_servers, b"[1, 2]").status_code == 400
    assert post_telegram(channel_servers, b'{"update_id": 5, "message": 3}').status_code == 400
    unknown = {"update_id": next_id(), "future_update_type": {"x": 1}}
    assert post_telegram(channel_servers, unknown).json() == {"status": "ignored"}
    assert post_telegram(channel_servers, b"x" * (1024 * 1024 + 10)).status_code == 413
    chat = next_id()
    assert (
        post_telegram(
            channel_servers, text_update(chat, "Hello, I have a question please", lang="en")
        ).status_code
        == 200
    )
    [call] = by_chat(bot_api.calls("sendMessage"), chat)
    assert call["params"]["text"] == response_text(domain, "utter_greet", "en")


@e2e
def test_flood_on_the_real_server(channel_servers, bot_api):
    from tests.connectors.conftest import RATE_LIMIT

    flooder, other = next_id(), next_id()
    statuses = [
        post_telegram(channel_servers, text_update(flooder, "bonjour")).json()["status"]
        for _ in range(RATE_LIMIT + 3)
    ]
    assert statuses == ["ok"] * RATE_LIMIT + ["throttled"] * 3
    texts = [c["params"]["text"] for c in by_chat(bot_api.calls("sendMessage"), flooder)]
    assert texts.count(NOTICES["fr"]) == 1 and len(texts) == RATE_LIMIT + 1
    assert post_telegram(channel_servers, text_update(other, "bonjour")).json()["status"] == "ok"


@e2e
def test_cli_setup_registers_the_webhook(bot_api, channel_servers):
    env = dict(channel_servers.env)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "telegram", "setup", "--url", "https://mdm.example.org/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [call] = bot_api.calls("setWebhook")
    assert call["params"]["url"] == "https://mdm.example.org/webhooks/telegram/webhook"
    assert call["params"]["secret_token"] == TELEGRAM_SECRET
    assert set(call["params"]["allowed_updates"]) == {"message", "edited_message", "callback_query"}
    assert bot_api.calls("setMyCommands")
    assert TELEGRAM_TOKEN not in result.stdout + result.stderr


@e2e
def test_cli_poll_forwards_updates_to_the_running_assistant(bot_api, channel_servers, domain):
    chat = next_id()
    update = text_update(chat, "/start", lang="en")
    bot_api.queue_update(update)
    env = dict(channel_servers.env)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "telegram",
            "poll",
            "--once",
            "--timeout",
            "0",
            "--rasa-url",
            channel_servers.base_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "forwarded 1 update(s)" in result.stdout
    assert bot_api.calls("deleteWebhook")
    [call] = by_chat(bot_api.calls("sendMessage"), chat)
    assert call["params"]["text"] == response_text(domain, "utter_greet", "en")
    # the last getUpdates confirmed the update: it is not delivered again
    assert bot_api.calls("getUpdates")[-1]["params"]["offset"] == update["update_id"] + 1
    assert not bot_api.updates


def test_bot_tokens_are_redacted_from_logs(caplog):
    import logging

    from connectors.common import install_log_redaction

    install_log_redaction()
    install_log_redaction()  # idempotent
    assert len(logging.getLogger("httpx").filters) == 1
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s"',
            "POST",
            f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/sendMessage",
            "200",
        )
    assert TELEGRAM_TOKEN not in caplog.text and "/bot<token>/sendMessage" in caplog.text


@e2e
def test_the_servers_log_has_no_token_text_or_chat_id(channel_servers, bot_api):
    chat = next_id()
    post_telegram(channel_servers, text_update(chat, "mon numéro secret 0612345678"))
    assert by_chat(bot_api.calls("sendMessage"), chat)
    log = (channel_servers.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "sendMessage" in log  # httpx did log the requests...
    assert TELEGRAM_TOKEN not in log  # ...without the token
    assert "0612345678" not in log and str(chat) not in log
