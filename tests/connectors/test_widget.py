"""The widget channel: REST-like webhook, outbox polling, output channel (no Rasa server)."""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any, List
from unittest import mock

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.storage.db import make_session_factory
from bot.storage.migrate import upgrade
from bot.storage.widget_models import WidgetSender
from connectors.rest import BadRequest
from connectors.widget import (
    WidgetInput,
    WidgetOutputChannel,
    check_sender,
    parse_outbox_query,
)

_app_names = itertools.count()


def new_sender() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="module")
def outbox(tmp_path_factory) -> WidgetSender:
    url = f"sqlite:///{tmp_path_factory.mktemp('widget') / 'mdm.db'}"
    upgrade(url)
    return WidgetSender(make_session_factory(url), secret="test-secret")


async def make_client(channel: WidgetInput, received: List[UserMessage]) -> httpx.AsyncClient:
    async def on_new_message(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_text_with_buttons(
            message.sender_id, f"echo: {message.text}", [{"title": "Oui", "payload": "/affirm"}]
        )

    app = Sanic(f"widget_test_{next(_app_names)}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/widget")
    # What Sanic does before serving (finalise the routers, "touch up" its HTTP class); in test
    # mode the touch-up can run once per app, as sanic-testing does.
    with mock.patch.object(Sanic, "test_mode", True):
        await app._startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://widget")


@pytest.fixture
async def client(outbox):
    received: List[UserMessage] = []
    client = await make_client(WidgetInput(outbox), received)
    client.received = received  # type: ignore[attr-defined]
    async with client:
        yield client


# --- input checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender", ["a" * 22, "0123456789abcdef0123456789abcdef", "Ab-_" * 8, "x" * 128]
)
def test_random_ids_are_accepted(sender):
    assert check_sender(sender) == sender


@pytest.mark.parametrize(
    "sender", [None, 42, "", "default", "a" * 21, "x" * 129, "a" * 21 + " ", "é" * 30, "a/b" * 10]
)
def test_guessable_or_odd_sender_ids_are_refused(sender):
    with pytest.raises(BadRequest, match="'sender'"):
        check_sender(sender)


def test_outbox_query_defaults_and_values():
    sender = new_sender()
    assert parse_outbox_query({"sender": [sender]}) == {"sender": sender, "after": 0, "limit": 50}
    assert parse_outbox_query({"sender": [sender], "after": ["17"], "limit": ["100"]}) == {
        "sender": sender,
        "after": 17,
        "limit": 100,
    }


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ({}, "'sender'"),
        ({"sender": ["short"]}, "'sender'"),
        ({"sender": ["a" * 22, "b" * 22]}, "more than once"),
        ({"after": ["-1"]}, "'after'"),
        ({"after": ["1e3"]}, "'after'"),
        ({"after": ["abc"]}, "'after'"),
        ({"after": ["٣"]}, "'after'"),  # an Arabic-Indic digit: isdigit() but not ASCII
        ({"after": ["9" * 20]}, "'after'"),
        ({"limit": ["0"]}, "'limit'"),
        ({"limit": ["101"]}, "'limit'"),
    ],
)
def test_bad_outbox_queries_are_refused(args, why):
    args = {"sender": [new_sender()], **args} if "sender" not in args and args else args
    with pytest.raises(BadRequest, match=why):
        parse_outbox_query(args)


# --- HTTP ---------------------------------------------------------------------------------


async def test_health(client):
    response = await client.get("/webhooks/widget/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_webhook_answers_like_rest_and_passes_metadata(client):
    sender = new_sender()
    body = {"sender": sender, "message": "salam", "metadata": {"language": "ary"}}
    response = await client.post("/webhooks/widget/webhook", json=body)
    assert response.status_code == 200
    assert response.json() == [
        {
            "recipient_id": sender,
            "text": "echo: salam",
            "buttons": [{"title": "Oui", "payload": "/affirm"}],
        }
    ]
    [message] = client.received
    assert message.input_channel == "widget"
    assert message.metadata == {"language": "ary"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        b'{"sender": "abc", "message": "x"}',  # guessable sender id
        json.dumps({"sender": "a" * 32, "message": 12}).encode(),
        json.dumps({"sender": "a" * 32, "message": "x", "metadata": "fr"}).encode(),
        json.dumps({"message": "x"}).encode(),  # REST's "default" sender is refused here
    ],
)
async def test_webhook_refuses_bad_bodies(client, raw):
    response = await client.post(
        "/webhooks/widget/webhook", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert client.received == []


async def test_outbox_returns_pushed_messages_in_order_after_the_cursor(client, outbox):
    alice, bob = new_sender(), new_sender()
    first = outbox.send(alice, "Bonjour de la part du consulat")
    outbox.send(bob, "pour bob")
    second = outbox.send(
        alice, {"text": "Un choix ?", "buttons": [{"title": "A", "payload": "/a"}]}
    )
    response = await client.get("/webhooks/widget/outbox", params={"sender": alice})
    assert response.status_code == 200
    data = response.json()
    assert [m["id"] for m in data["messages"]] == [first, second]
    assert data["messages"][0]["text"] == "Bonjour de la part du consulat"
    assert data["messages"][0]["author"] == "staff"
    assert data["messages"][1]["buttons"] == [{"title": "A", "payload": "/a"}]
    assert data["last_id"] == second
    later = await client.get("/webhooks/widget/outbox", params={"sender": alice, "after": first})
    assert [m["id"] for m in later.json()["messages"]] == [second]
    limited = await client.get("/webhooks/widget/outbox", params={"sender": alice, "limit": 1})
    assert [m["id"] for m in limited.json()["messages"]] == [first]
    assert limited.json()["last_id"] == first


async def test_unknown_sender_gets_an_empty_outbox(client, outbox):
    outbox.send(new_sender(), "someone else's")
    response = await client.get(
        "/webhooks/widget/outbox", params={"sender": new_sender(), "after": "5"}
    )
    assert response.status_code == 200
    assert response.json() == {"messages": [], "last_id": 5}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sender": "guessable"},
        {"sender": "a" * 32, "after": "x"},
        {"sender": "a" * 32, "limit": "0"},
    ],
)
async def test_outbox_refuses_bad_queries(client, params):
    response = await client.get("/webhooks/widget/outbox", params=params)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_outbox_unavailable_is_a_503_not_a_crash(tmp_path):
    unmigrated = WidgetSender(make_session_factory(f"sqlite:///{tmp_path / 'empty.db'}"))
    received: List[UserMessage] = []
    async with await make_client(WidgetInput(unmigrated), received) as client:
        response = await client.get("/webhooks/widget/outbox", params={"sender": new_sender()})
    assert response.status_code == 503
    assert response.json() == {"error": "outbox unavailable"}


async def test_fair_use_notice_then_silence(outbox):
    from bot.ratelimit import NOTICES, MemoryRateLimiter
    from connectors.common import FairUse

    received: List[UserMessage] = []
    fair_use = FairUse("widget", MemoryRateLimiter(limit=2, window=60))
    sender = new_sender()
    body = {"sender": sender, "message": "salam", "metadata": {"language": "en"}}
    async with await make_client(WidgetInput(outbox, fair_use), received) as client:
        answers = [
            (await client.post("/webhooks/widget/webhook", json=body)).json() for _ in range(4)
        ]
    assert [len(a) for a in answers[:2]] == [1, 1] and len(received) == 2
    assert answers[2] == [{"recipient_id": sender, "text": NOTICES["en"]}]
    assert answers[3] == []


# --- output channel -----------------------------------------------------------------------


async def test_output_channel_queues_bot_messages_in_the_outbox(outbox):
    alice = new_sender()
    channel = WidgetInput(outbox).get_output_channel()
    assert isinstance(channel, WidgetOutputChannel) and channel.name() == "widget"
    await channel.send_text_with_buttons(
        alice, "Rappel : votre rendez-vous", [{"title": "OK", "payload": "/affirm"}]
    )
    await channel.send_image_url(alice, "https://www.consulat.ma/logo.png")
    got: List[Any] = outbox.fetch(alice)
    assert [m["author"] for m in got] == ["bot", "bot"]
    assert got[0]["text"] == "Rappel : votre rendez-vous"
    assert got[0]["buttons"] == [{"title": "OK", "payload": "/affirm"}]
    assert got[1]["image"] == "https://www.consulat.ma/logo.png"
    assert all("recipient_id" not in m for m in got)


def test_channel_is_declared_in_credentials():
    from bot.settings import ROOT

    text = (ROOT / "credentials.yml").read_text(encoding="utf-8")
    assert "connectors.widget.WidgetInput:" in text
