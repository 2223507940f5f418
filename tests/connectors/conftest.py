"""Fixtures of the channel tests: fake Bot and Graph APIs, a channel store, and a real Rasa.

``channel_servers`` runs the real action server and Rasa (``credentials.channels.yml``: REST,
Telegram and WhatsApp) with the Telegram and WhatsApp API addresses pointed at the local fakes,
and a low fair-use limit (6 messages per 30 s per sender) so a flood is cheap to test.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any, Dict, Iterator

import httpx
import pytest

from tests.connectors.fakes import FakeBotApi, FakeGraphApi
from tests.e2e import conftest as e2e_conftest
from tests.e2e.conftest import Servers

TELEGRAM_TOKEN = "123456:TEST-token_abc"
TELEGRAM_SECRET = "test-secret_token-1"
WHATSAPP_TOKEN = "EAAG-test-token"
WHATSAPP_PHONE_ID = "1098765"
WHATSAPP_APP_SECRET = "app-secret-for-tests"
WHATSAPP_VERIFY_TOKEN = "verify-me-please"
RATE_LIMIT = 6
RATE_WINDOW = 30

#: The session's model (tests/e2e/conftest.py), made a fixture of this folder too.
e2e_trained_model = e2e_conftest.trained_model

_ids = itertools.count(int(time.time()) % 100_000 * 1000)


def next_id() -> int:
    """A fresh id (chat ids, update ids), unique within the session."""
    return next(_ids)


@pytest.fixture(scope="session")
def bot_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi(TELEGRAM_TOKEN).start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def graph_api() -> Iterator[FakeGraphApi]:
    api = FakeGraphApi(WHATSAPP_TOKEN).start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def channel_db(tmp_path_factory) -> str:
    """A migrated SQLite database for the connector unit tests."""
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('channels') / 'mdm.db'}"
    upgrade(url)
    return url


@pytest.fixture
def channel_store(channel_db):
    from bot.storage.channel_store import ChannelStore
    from bot.storage.db import make_session_factory

    return ChannelStore(make_session_factory(channel_db), secret="test-secret")


@pytest.fixture(scope="session")
def channel_servers(tmp_path_factory, bot_api, graph_api, e2e_trained_model) -> Iterator[Servers]:
    """The assistant running for real with the Telegram and WhatsApp channels.

    Uses ``trained_model`` of tests/e2e/conftest.py (imported as ``e2e_trained_model``): the
    current model, retrained into a temporary folder when the data changed since.
    """
    env: Dict[str, str] = {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": bot_api.base_url,
        "WHATSAPP_ACCESS_TOKEN": WHATSAPP_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_ID,
        "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
        "WHATSAPP_API_BASE_URL": graph_api.base_url,
        "RATE_LIMIT_MESSAGES": str(RATE_LIMIT),
        "RATE_LIMIT_WINDOW_SECONDS": str(RATE_WINDOW),
        "RATE_LIMIT_REDIS_URL": "",
        "MDM_SECRET_KEY": "channel-tests-secret",
    }
    running = Servers(
        tmp_path_factory.mktemp("channel-servers"),
        e2e_trained_model,
        extra_env=env,
        credentials="credentials.channels.yml",
    ).start()
    try:
        yield running
    finally:
        running.stop()


def post_telegram(servers: Servers, update: Any, secret: str = TELEGRAM_SECRET, **kw: Any):
    """POST an update to the running Rasa server's Telegram webhook."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    headers.update(kw.pop("headers", {}))
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return httpx.post(
        f"{servers.base_url}/webhooks/telegram/webhook",
        content=body,
        headers={"content-type": "application/json", **headers},
        timeout=60,
    )


def sign(body: bytes, secret: str = WHATSAPP_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_whatsapp(servers: Servers, payload: Any, signature: Any = True, **kw: Any):
    """POST a webhook body to the running Rasa server's WhatsApp webhook (signed by default)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if signature is True:
        headers["X-Hub-Signature-256"] = sign(body)
    elif signature:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(
        f"{servers.base_url}/webhooks/whatsapp/webhook", content=body, headers=headers, timeout=60
    )
