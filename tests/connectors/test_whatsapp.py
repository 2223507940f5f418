"""WhatsApp: signatures, message building, the sender against a local Graph API, the webhook
handler, and the real assistant answering through the fake Graph API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any, Dict, List, Optional

import httpx
import pytest

from bot.ratelimit import NOTICES, MemoryRateLimiter
from bot.storage.channel_store import ChannelStore, is_payload_key
from connectors.common import FairUse
from connectors.whatsapp import (
    MAX_INTERACTIVE_BODY,
    MAX_TEXT,
    OutsideServiceWindow,
    WhatsAppApiError,
    WhatsAppInput,
    WhatsAppOutputChannel,
    WhatsAppSender,
    read_webhook,
    valid_signature,
)
from tests.connectors.conftest import (
    WHATSAPP_APP_SECRET,
    WHATSAPP_PHONE_ID,
    WHATSAPP_TOKEN,
    WHATSAPP_VERIFY_TOKEN,
    next_id,
    post_whatsapp,
    sign,
)


# ---------------------------------------------------------------------------- webhook builders
def number() -> str:
    return f"3361{next_id()}"


def wa_message(sender: str, kind: str, content: Dict[str, Any], msg_id: Optional[str] = None):
    return {
        "from": sender,
        "id": msg_id or f"wamid.HBgL{next_id()}",
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content,
    }


def wa_text(sender: str, text: str, msg_id: Optional[str] = None):
    return wa_message(sender, "text", {"body": text}, msg_id)


def wa_button(sender: str, button_id: str, title: str = "Choix"):
    return wa_message(
        sender,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    )


def wa_row(sender: str, row_id: str, title: str = "Choix"):
    return wa_message(
        sender, "interactive", {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
    )


def wa_body(*messages, statuses=None, phone_number_id: str = WHATSAPP_PHONE_ID):
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Test"}, "wa_id": m["from"]} for m in messages]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-1", "changes": [{"value": value, "field": "messages"}]}],
    }


def status(recipient: str) -> Dict[str, Any]:
    return {
        "id": f"wamid.out.{next_id()}",
        "status": "delivered",
        "timestamp": "1",
        "recipient_id": recipient,
    }


def response_text(domain, name: str, lang: str) -> str:
    for variant in domain["responses"][name]:
        conditions = variant.get("condition") or []
        if (lang == "fr" and not conditions) or any(c["value"] == lang for c in conditions):
            return variant["text"]
    raise KeyError((name, lang))


def sent_to(graph_api, to: str) -> List[Dict[str, Any]]:
    return [c["params"] for c in graph_api.calls("messages") if c["params"].get("to") == to]


def body_text(message: Dict[str, Any]) -> str:
    if message["type"] == "text":
        return message["text"]["body"]
    return message["interactive"]["body"]["text"]


def options_of(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    interactive = message.get("interactive") or {}
    if interactive.get("type") == "button":
        return [b["reply"] for b in interactive["action"]["buttons"]]
    if interactive.get("type") == "list":
        return [row for section in interactive["action"]["sections"] for row in section["rows"]]
    return []


# ---------------------------------------------------------------------------- signatures
def test_signature_checks():
    body = b'{"object": "whatsapp_business_account"}'
    good = sign(body)
    assert valid_signature(body, good, WHATSAPP_APP_SECRET)
    assert valid_signature(body, good.upper().replace("SHA256=", "sha256="), WHATSAPP_APP_SECRET)
    assert not valid_signature(body + b" ", good, WHATSAPP_APP_SECRET)  # body changed
    assert not valid_signature(body, sign(body, "other-secret"), WHATSAPP_APP_SECRET)
    assert not valid_signature(body, good[len("sha256=") :], WHATSAPP_APP_SECRET)  # no prefix
    assert not valid_signature(body, None, WHATSAPP_APP_SECRET)
    assert not valid_signature(body, "", WHATSAPP_APP_SECRET)
    assert not valid_signature(body, "sha256=", WHATSAPP_APP_SECRET)
    assert not valid_signature(body, sign(body, ""), "")  # no secret configured: nothing passes


@pytest.fixture
def channel(graph_api, channel_store):
    return WhatsAppInput(
        WHATSAPP_TOKEN,
        WHATSAPP_PHONE_ID,
        WHATSAPP_APP_SECRET,
        WHATSAPP_VERIFY_TOKEN,
        graph_api.base_url,
        store=channel_store,
        fair_use=FairUse("whatsapp", MemoryRateLimiter(3, 10.0)),
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {
                "hub.mode": "subscribe",
                "hub.verify_token": WHATSAPP_VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            },
            (200, "1158201444"),
        ),
        (
            {
                "hub.mode": ["subscribe"],
                "hub.verify_token": [WHATSAPP_VERIFY_TOKEN],
                "hub.challenge": ["42"],
            },
            (200, "42"),
        ),
        (
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            (403, "forbidden"),
        ),
        (
            {
                "hub.mode": "unsubscribe",
                "hub.verify_token": WHATSAPP_VERIFY_TOKEN,
                "hub.challenge": "1",
            },
            (403, "forbidden"),
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN}, (403, "forbidden")),
        ({}, (403, "forbidden")),
    ],
)
def test_webhook_verification(channel, args, expected):
    assert channel.verify(args) == expected


def test_verification_refused_without_a_configured_token(graph_api):
    channel = WhatsAppInput(WHATSAPP_TOKEN, WHATSAPP_PHONE_ID, WHATSAPP_APP_SECRET, "")
    assert (
        channel.verify({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})[0]
        == 403
    )


# ---------------------------------------------------------------------------- building messages
@pytest.fixture
async def sender(graph_api, channel_store):
    made = WhatsAppSender(
        WHATSAPP_TOKEN, WHATSAPP_PHONE_ID, graph_api.base_url, store=channel_store
    )
    yield made
    await made.close()


BUTTONS = [
    {"title": "Documents", "payload": '/procedure_detail{"detail":"documents"}'},
    {"title": "Frais", "payload": '/procedure_detail{"detail":"fees"}'},
    {"title": "Étapes et démarches à suivre", "payload": '/procedure_detail{"detail":"steps"}'},
    {"title": "Où / rendez-vous", "payload": '/procedure_detail{"detail":"where"}'},
    {"title": "Délai", "payload": '/procedure_detail{"detail":"delay"}'},
]


async def test_plain_text(sender):
    [message] = await sender.build("33600000000", "Bonjour")
    assert message == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "33600000000",
        "type": "text",
        "text": {"preview_url": False, "body": "Bonjour"},
    }


async def test_up_to_three_buttons_are_reply_buttons(sender):
    [message] = await sender.build("336", "Que voulez-vous savoir ?", BUTTONS[:3])
    assert message["type"] == "interactive" and message["interactive"]["type"] == "button"
    replies = options_of(message)
    assert [r["id"] for r in replies] == [b["payload"] for b in BUTTONS[:3]]
    assert replies[2]["title"] == "Étapes et démarches…" and len(replies[2]["title"]) <= 20
    assert message["interactive"]["body"]["text"] == "Que voulez-vous savoir ?"


async def test_more_options_become_a_list(sender):
    [message] = await sender.build("336", "Que voulez-vous savoir ?", BUTTONS)
    interactive = message["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Options"
    rows = options_of(message)
    assert [r["id"] for r in rows] == [b["payload"] for b in BUTTONS]
    assert all(len(r["title"]) <= 24 for r in rows)
    cut = [r for r in rows if r["id"].endswith('"steps"}')][0]
    assert cut["title"].endswith("…") and cut["description"] == "Étapes et démarches à suivre"
    assert "description" not in rows[0]


async def test_arabic_list_label(sender):
    [message] = await sender.build("336", "ماذا تريدون أن تعرفوا؟", BUTTONS)
    assert message["interactive"]["action"]["button"] == "الاختيارات"


async def test_more_than_ten_options_take_several_lists(sender):
    many = [
        {"title": f"Option numéro {i}", "payload": f'/choose{{"option":"{i}"}}'} for i in range(13)
    ]
    messages = await sender.build("336", "Choisissez", many)
    assert [len(options_of(m)) for m in messages] == [10, 3]
    assert [r["id"] for m in messages for r in options_of(m)] == [b["payload"] for b in many]


async def test_duplicate_titles_after_cutting_stay_unique(sender):
    similar = [
        {"title": "Consulat général de Bruxelles", "payload": "/a"},
        {"title": "Consulat général de Bordeaux", "payload": "/b"},
    ]
    [message] = await sender.build("336", "Lequel ?", similar)
    titles = [r["title"] for r in options_of(message)]
    assert len(set(titles)) == 2 and all(len(t) <= 20 for t in titles)


async def test_long_ids_are_replaced_by_stored_keys(sender, channel_store):
    long_payload = '/passport{"variant": "minor", "pad": "' + "x" * 300 + '"}'
    [buttons] = await sender.build("336", "?", [{"title": "Mineur", "payload": long_payload}])
    [reply] = options_of(buttons)
    assert (
        is_payload_key(reply["id"]) and channel_store.resolve_payload(reply["id"]) == long_payload
    )
    row_payload = '/passport{"variant": "minor", "pad": "' + "x" * 180 + '"}'  # > 200, < 256
    [listed] = await sender.build(
        "336", "?", [{"title": str(i), "payload": row_payload + str(i)} for i in range(4)]
    )
    assert all(is_payload_key(r["id"]) for r in options_of(listed))


async def test_long_text_with_buttons(sender):
    text = "\n\n".join(f"Paragraphe {i}. " + "détail " * 150 for i in range(8))
    messages = await sender.build("336", text, BUTTONS[:2])
    assert [m["type"] for m in messages[:-1]] == ["text"] * (len(messages) - 1)
    assert messages[-1]["type"] == "interactive"
    assert all(len(m["text"]["body"]) <= MAX_TEXT for m in messages[:-1])
    assert len(body_text(messages[-1])) <= MAX_INTERACTIVE_BODY
    assert " ".join(body_text(m) for m in messages).split() == text.split()


async def test_url_buttons_become_links(sender):
    [message] = await sender.build(
        "336", "Source", [{"title": "Site", "url": "https://www.consulat.ma"}]
    )
    assert message["text"]["body"] == "Source\nSite: https://www.consulat.ma"


# ---------------------------------------------------------------------------- sending, window
async def test_send_inside_the_window(sender, graph_api, channel_store):
    to = number()
    channel_store.record_inbound("whatsapp", to)
    ids = await sender.send_text(to, "Votre dossier est prêt.", BUTTONS[:1])
    [call] = [c for c in graph_api.calls("messages") if c["params"].get("to") == to]
    assert ids == [ids[0]] and ids[0].startswith("wamid.out.")
    assert call["authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert call["phone_number_id"] == WHATSAPP_PHONE_ID


async def test_outside_the_window_nothing_is_sent(graph_api, channel_db):
    from bot.storage.db import make_session_factory

    class Clock:
        now = dt.datetime(2025, 5, 1, 12, tzinfo=dt.timezone.utc)

        def __call__(self):
            return self.now

    clock = Clock()
    store = ChannelStore(make_session_factory(channel_db), clock=clock, secret="test-secret")
    sender = WhatsAppSender(WHATSAPP_TOKEN, WHATSAPP_PHONE_ID, graph_api.base_url, store=store)
    to, never = number(), number()
    store.record_inbound("whatsapp", to)
    clock.now += dt.timedelta(hours=24, minutes=1)
    with pytest.raises(OutsideServiceWindow, match="template"):
        await sender.send_text(to, "Votre dossier est prêt.")
    with pytest.raises(OutsideServiceWindow):
        await sender.send_text(never, "Bonjour")
    assert not sent_to(graph_api, to) and not sent_to(graph_api, never)
    await sender.close()


async def test_graph_api_errors(sender, graph_api, channel_store):
    to = number()
    channel_store.record_inbound("whatsapp", to)
    graph_api.fail_with = (
        400,
        {"message": "Re-engagement message", "type": "OAuthException", "code": 131047},
    )
    try:
        with pytest.raises(OutsideServiceWindow):
            await sender.send_text(to, "x")
        graph_api.fail_with = (
            400,
            {"message": "Invalid parameter", "type": "OAuthException", "code": 100},
        )
        with pytest.raises(WhatsAppApiError) as error:
            await sender.send_text(to, "x")
        assert error.value.code == 100 and error.value.status == 400
        await WhatsAppOutputChannel(sender).send_text_message(to, "x")  # logs, does not raise
    finally:
        graph_api.fail_with = None


async def test_wrong_token_is_an_api_error(graph_api, channel_store):
    to = number()
    channel_store.record_inbound("whatsapp", to)
    bad = WhatsAppSender("wrong", WHATSAPP_PHONE_ID, graph_api.base_url, store=channel_store)
    with pytest.raises(WhatsAppApiError) as error:
        await bad.send_text(to, "x")
    assert error.value.status == 401
    await bad.close()


# ---------------------------------------------------------------------------- reading webhooks
def test_read_webhook_kinds():
    someone = number()
    body = wa_body(
        wa_text(someone, "bonjour"),
        wa_button(someone, '/procedure_detail{"detail":"fees"}', "Frais"),
        wa_row(someone, "/help", "Aide"),
        wa_message(someone, "image", {"id": "m", "mime_type": "image/jpeg"}),
        wa_message(someone, "audio", {"id": "m", "mime_type": "audio/ogg", "voice": True}),
        wa_message(someone, "sticker", {"id": "m", "mime_type": "image/webp"}),
        wa_message(someone, "reaction", {"message_id": "wamid.x", "emoji": "👍"}),
        wa_message(someone, "button", {"payload": "/affirm", "text": "Oui"}),
        statuses=[status(someone)],
    )
    texts = [m.text for m in read_webhook(body, WHATSAPP_PHONE_ID)]
    assert texts == [
        "bonjour",
        '/procedure_detail{"detail":"fees"}',
        "/help",
        "/unsupported_media",
        "/unsupported_media",
        "/unsupported_media",
        None,  # reactions are ignored
        "/affirm",
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": "x"},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": 3}]}],
        },
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": 1}]}}]}],
        },
        wa_body(statuses=[status("336")]),
        wa_body(wa_text("336", "for another number"), phone_number_id="999"),
    ],
)
def test_read_webhook_leaves_out_what_is_not_a_user_message(data):
    assert read_webhook(data, WHATSAPP_PHONE_ID) == []


# ---------------------------------------------------------------------------- the webhook
class Collected:
    def __init__(self) -> None:
        self.messages: List[Any] = []

    async def __call__(self, message) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(
            message.sender_id, f"echo {len(self.messages)}"
        )


def signed(data: Any) -> tuple:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return body, {"X-Hub-Signature-256": sign(body)}


async def test_webhook_gives_rasa_text_and_payloads(channel, graph_api):
    rasa, someone = Collected(), number()
    body, headers = signed(wa_body(wa_text(someone, "salam"), wa_button(someone, "/help", "Aide")))
    assert await channel.process(body, headers, rasa) == (200, {"status": "ok", "handled": 2})
    assert [(m.text, m.sender_id, m.input_channel) for m in rasa.messages] == [
        ("salam", someone, "whatsapp"),
        ("/help", someone, "whatsapp"),
    ]
    assert [body_text(m) for m in sent_to(graph_api, someone)] == ["echo 1", "echo 2"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"X-Hub-Signature-256": "sha256=00"}, 403),
        ({"X-Hub-Signature-256": sign(b"other body")}, 403),
        ({"X-Hub-Signature-256": sign(b"x", "wrong-secret")}, 403),
    ],
)
async def test_bad_signatures_are_refused(channel, headers, status):
    rasa = Collected()
    body = json.dumps(wa_body(wa_text(number(), "hi"))).encode()
    assert (await channel.process(body, headers, rasa))[0] == status
    assert not rasa.messages


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[1]", 400),
        (b'{"object": "page"}', 200),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [null, 3, "x"]}]}', 200),
    ],
)
async def test_malformed_bodies_never_crash(channel, body, status):
    rasa = Collected()
    assert (await channel.process(*signed(body), rasa))[0] == status
    assert not rasa.messages


async def test_oversized_bodies_are_refused(channel):
    body = b"x" * (1024 * 1024 + 1)
    assert (await channel.process(body, {"X-Hub-Signature-256": sign(body)}, Collected()))[0] == 413


async def test_a_retried_message_is_handled_once(channel):
    rasa, someone = Collected(), number()
    message = wa_text(someone, "bonjour", msg_id=f"wamid.retry.{next_id()}")
    for _ in range(3):
        await channel.process(*signed(wa_body(message)), rasa)
    assert len(rasa.messages) == 1


async def test_statuses_are_acknowledged_and_ignored(channel, graph_api):
    rasa, someone = Collected(), number()
    assert await channel.process(*signed(wa_body(statuses=[status(someone)])), rasa) == (
        200,
        {"status": "ok", "handled": 0},
    )
    assert not rasa.messages and not sent_to(graph_api, someone)


async def test_inbound_time_is_kept_for_the_window(channel, channel_store):
    someone = number()
    assert channel_store.last_inbound("whatsapp", someone) is None
    await channel.process(*signed(wa_body(wa_text(someone, "salut"))), Collected())
    assert channel_store.in_service_window("whatsapp", someone)


async def test_long_payload_keys_and_their_fallback(channel, channel_store):
    rasa, someone = Collected(), number()
    payload = '/passport{"variant": "minor", "pad": "' + "x" * 300 + '"}'
    key = channel_store.payload_key(payload)
    unknown = "#p:BBBBBBBBBBBBBBBBBBBBBB"
    await channel.process(
        *signed(wa_body(wa_button(someone, key), wa_row(someone, unknown, "Les frais"))), rasa
    )
    assert [m.text for m in rasa.messages] == [payload, "Les frais"]


async def test_flood_gets_one_notice(channel, graph_api):
    rasa, flooder, other = Collected(), number(), number()
    for _ in range(6):
        await channel.process(*signed(wa_body(wa_text(flooder, "spam"))), rasa)
    texts = [body_text(m) for m in sent_to(graph_api, flooder)]
    assert texts == ["echo 1", "echo 2", "echo 3", NOTICES["fr"]]
    await channel.process(*signed(wa_body(wa_text(other, "salut"))), rasa)
    assert [m.sender_id for m in rasa.messages].count(other) == 1


def test_unconfigured_channel_refuses_everything():
    channel = WhatsAppInput.from_credentials(
        {"access_token": "", "phone_number_id": "", "app_secret": "", "verify_token": ""}
    )
    body = json.dumps(wa_body(wa_text("336", "x"))).encode()
    status, _ = asyncio.run(
        channel.process(body, {"X-Hub-Signature-256": sign(body, "")}, Collected())
    )
    assert status == 403 and channel.get_output_channel() is None
    assert channel.api_base_url == "https://graph.facebook.com/v19.0"


# ---------------------------------------------------------------------------- the real assistant
e2e = pytest.mark.e2e


@e2e
def test_meta_verification_on_the_real_server(channel_servers):
    url = f"{channel_servers.base_url}/webhooks/whatsapp/webhook"
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": WHATSAPP_VERIFY_TOKEN,
        "hub.challenge": "8765",
    }
    reply = httpx.get(url, params=good, timeout=10)
    assert (reply.status_code, reply.text) == (200, "8765")
    assert reply.headers["content-type"].startswith("text/plain")
    assert (
        httpx.get(url, params=dict(good, **{"hub.verify_token": "x"}), timeout=10).status_code
        == 403
    )


@e2e
def test_greeting_comes_back_as_a_list_and_a_choice_is_answered(channel_servers, graph_api, domain):
    someone = number()
    assert (
        post_whatsapp(
            channel_servers, wa_body(wa_text(someone, "Hello, I have a question please"))
        ).status_code
        == 200
    )
    [greeting] = sent_to(graph_api, someone)
    assert body_text(greeting) == response_text(domain, "utter_greet", "en")
    rows = options_of(greeting)
    expected = [b["payload"] for b in domain["responses"]["utter_greet"][0]["buttons"]]
    assert greeting["interactive"]["type"] == ("list" if len(expected) > 3 else "button")
    assert [r["id"] for r in rows] == expected
    assert all(len(r["title"]) <= 24 for r in rows)
    post_whatsapp(channel_servers, wa_body(wa_row(someone, "/help", rows[0]["title"])))
    messages = sent_to(graph_api, someone)
    assert len(messages) >= 2 and body_text(messages[1]) == response_text(
        domain, "utter_help", "en"
    )


@e2e
def test_procedure_answer_with_reply_buttons_and_a_press(channel_servers, graph_api):
    from bot.knowledge import default_kb

    someone = number()
    post_whatsapp(channel_servers, wa_body(wa_text(someone, "bghit njded lpaspor dyali 3afak")))
    [answer] = sent_to(graph_api, someone)
    entry = default_kb().get("passport_renewal")
    texts = " ".join(body_text(m) for m in sent_to(graph_api, someone))
    assert entry.text("ary_Latn").summary in texts
    ids = [o["id"] for o in options_of(answer)]
    assert '/procedure_detail{"detail":"fees"}' in ids
    post_whatsapp(
        channel_servers, wa_body(wa_button(someone, '/procedure_detail{"detail":"fees"}', "Ch7al"))
    )
    assert entry.text("ary_Latn").fees in body_text(sent_to(graph_api, someone)[-1])


@e2e
def test_image_gets_the_polite_answer_in_the_conversation_language(
    channel_servers, graph_api, domain
):
    someone, stranger = number(), number()
    post_whatsapp(
        channel_servers, wa_body(wa_text(someone, "السلام عليكم، أريد الاستفسار عن بعض الإجراءات"))
    )
    post_whatsapp(
        channel_servers,
        wa_body(wa_message(someone, "image", {"id": "m1", "mime_type": "image/jpeg"})),
    )
    assert body_text(sent_to(graph_api, someone)[-1]) == response_text(
        domain, "utter_unsupported_media", "ar"
    )
    post_whatsapp(
        channel_servers, wa_body(wa_message(stranger, "audio", {"id": "m2", "voice": True}))
    )
    assert [body_text(m) for m in sent_to(graph_api, stranger)] == [
        response_text(domain, "utter_unsupported_media", "fr")
    ]


@e2e
def test_retries_statuses_and_bad_requests(channel_servers, graph_api, domain):
    someone = number()
    message = wa_text(someone, "bonjour", msg_id=f"wamid.e2e.{next_id()}")
    for _ in range(2):
        assert post_whatsapp(channel_servers, wa_body(message)).status_code == 200
    assert len(sent_to(graph_api, someone)) == 1
    assert (
        post_whatsapp(channel_servers, wa_body(statuses=[status(someone)])).json()["handled"] == 0
    )
    assert len(sent_to(graph_api, someone)) == 1
    good = wa_body(wa_text(someone, "hello"))
    assert post_whatsapp(channel_servers, good, signature=False).status_code == 403
    assert post_whatsapp(channel_servers, good, signature="sha256=" + "0" * 64).status_code == 403
    assert post_whatsapp(channel_servers, b"{broken").status_code == 400
    assert post_whatsapp(channel_servers, b"x" * (1024 * 1024 + 5)).status_code == 413
    assert len(sent_to(graph_api, someone)) == 1  # nothing of the refused ones was processed
    post_whatsapp(channel_servers, good)  # a short greeting keeps the conversation's French
    assert body_text(sent_to(graph_api, someone)[-1]) == response_text(domain, "utter_greet", "fr")


@e2e
async def test_staff_notification_inside_and_outside_the_window(channel_servers, graph_api):
    """What the staff console will do: send through the sender, with the server's database."""
    from bot.storage.db import make_session_factory

    store = ChannelStore(
        make_session_factory(channel_servers.database_url), secret="channel-tests-secret"
    )
    sender = WhatsAppSender(WHATSAPP_TOKEN, WHATSAPP_PHONE_ID, graph_api.base_url, store=store)
    talked, silent = number(), number()
    await asyncio.to_thread(post_whatsapp, channel_servers, wa_body(wa_text(talked, "bonjour")))
    await sender.send_text(talked, "Votre réclamation a reçu une réponse.")
    assert body_text(sent_to(graph_api, talked)[-1]) == "Votre réclamation a reçu une réponse."
    with pytest.raises(OutsideServiceWindow):
        await sender.send_text(silent, "Votre réclamation a reçu une réponse.")
    assert not sent_to(graph_api, silent)
    await sender.close()


@e2e
def test_the_servers_log_has_no_phone_number_nor_text(channel_servers, graph_api):
    someone = number()
    post_whatsapp(channel_servers, wa_body(wa_text(someone, "mon adresse est 12 rue secrète")))
    assert sent_to(graph_api, someone)
    log = (channel_servers.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert someone not in log and "rue secrète" not in log and WHATSAPP_TOKEN not in log
