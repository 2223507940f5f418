"""Fair use on the REST channel of the real assistant (limit 6 messages per 30 s in these tests)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bot.ratelimit import NOTICES
from tests.connectors.conftest import RATE_LIMIT

pytestmark = pytest.mark.e2e


def say(servers, sender: str, text: str, metadata=None):
    body = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    reply = httpx.post(f"{servers.base_url}/webhooks/rest/webhook", json=body, timeout=60)
    assert reply.status_code == 200
    return reply.json()


def test_rest_flood_gets_one_notice_in_the_conversation_language_then_nothing(channel_servers):
    flooder, other = f"flood-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    answers = [
        say(channel_servers, flooder, "Hello, I have a question please") for _ in range(RATE_LIMIT)
    ]
    assert all(answer and answer[0]["text"] != NOTICES["en"] for answer in answers)
    assert say(channel_servers, flooder, "hello again") == [
        {"recipient_id": flooder, "text": NOTICES["en"]}
    ]
    assert say(channel_servers, flooder, "hello?") == []
    assert say(channel_servers, flooder, "anyone?") == []
    reply = say(channel_servers, other, "Bonjour, j'ai une question")
    assert reply and reply[0]["text"] not in NOTICES.values()


def test_rest_notice_follows_the_metadata_hint_for_a_new_conversation(channel_servers):
    flooder = f"flood-{uuid.uuid4().hex[:8]}"
    for _ in range(RATE_LIMIT):
        say(channel_servers, flooder, "/greet", metadata={"language": "ary_Latn"})
    [notice] = say(channel_servers, flooder, "/greet", metadata={"language": "ary_Latn"})
    assert notice["text"] == NOTICES["ary_Latn"]
