"""An in-process console (Sanic over ASGI) on SQLite, with a fake Rasa API and fake senders."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import httpx
import pytest
from argon2 import PasswordHasher

from bot.console.app import Services, create_app
from bot.handoff.rasa_api import RasaAPI
from bot.handoff.transcript import EVENTS, TrackerReader, _metadata
from bot.storage.db import make_engine, make_session_factory

PASSWORD = "correct horse battery staple"


class FakeRasa(RasaAPI):
    """Records the API calls the console makes; answers like Rasa."""

    def __init__(self) -> None:
        super().__init__("http://rasa.invalid", "token")
        self.calls: List[tuple] = []
        self.paused: Dict[str, bool] = {}

    async def tracker(self, sender_id: str) -> Dict[str, Any]:
        return {"paused": self.paused.get(sender_id, True)}

    async def append(self, sender_id: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        self.calls.append(("append", sender_id, events))
        for event in events:
            if event["event"] in ("pause", "resume"):
                self.paused[sender_id] = event["event"] == "pause"
        return {}

    async def execute(self, sender_id: str, action: str) -> List[Dict[str, Any]]:
        self.calls.append(("execute", sender_id, action))
        return [
            {
                "recipient_id": sender_id,
                "text": f"[{action}]",
                "buttons": [{"title": "5 ★", "payload": '/rate{"rating": 5}'}],
            }
        ]


class FakeSender:
    """A channel sender that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: List[tuple] = []
        self.fail = False

    async def send_text(self, recipient_id: str, text: str, buttons: Any = None) -> None:
        if self.fail:
            raise ConnectionError("channel down")
        self.sent.append((recipient_id, text, buttons))


class Tracker:
    """Writes Rasa-like rows into an events table."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        _metadata.create_all(self.engine)

    def add(self, sender: str, kind: str, **data: Any) -> None:
        event = {"event": kind, **data}
        with self.engine.begin() as conn:
            conn.execute(
                EVENTS.insert().values(
                    sender_id=sender,
                    type_name=kind,
                    timestamp=time.time(),
                    intent_name=((data.get("parse_data") or {}).get("intent") or {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(event),
                )
            )

    def user(
        self,
        sender: str,
        text: str,
        intent: str = "passport",
        lang: str = "fr",
        channel: str = "telegram",
    ) -> None:
        self.add(
            sender,
            "user",
            text=text,
            input_channel=channel,
            parse_data={"intent": {"name": intent, "confidence": 0.91}, "language": {"code": lang}},
        )


class Console:
    def __init__(
        self,
        client: httpx.AsyncClient,
        svc: Services,
        rasa: FakeRasa,
        tracker: Tracker,
        sender: FakeSender,
    ) -> None:
        self.client, self.svc, self.rasa, self.tracker, self.sender = (
            client,
            svc,
            rasa,
            tracker,
            sender,
        )

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        page = await self.client.get("/login")
        token = csrf_of(page.text)
        return await self.client.post(
            "/login",
            data={"csrf": token, "username": username, "password": password, "next": "/queue"},
        )

    async def csrf(self, path: str = "/queue") -> str:
        return csrf_of((await self.client.get(path)).text)

    async def post(self, path: str, data: Dict[str, str] | None = None) -> httpx.Response:
        token = await self.csrf()
        return await self.client.post(path, data={"csrf": token, **(data or {})})

    def audit(self) -> List[tuple]:
        return [(e.username, e.action, e.target) for e in reversed(self.svc.staff.audit_log())]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def ready(app) -> None:
    """What Sanic's server does before the first request (``app._startup``).

    In test mode its "touch-up" of Sanic's own HTTP classes may run again for each app, as
    sanic-testing does (tests/connectors/test_widget.py starts its apps the same way).
    """
    from unittest import mock

    from sanic import Sanic

    with mock.patch.object(Sanic, "test_mode", True):
        await app._startup()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A migrated database with three accounts, copied by each test (Argon2 is slow)."""
    from bot.console.auth import StaffStore
    from bot.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("console-template") / "mdm.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    # cheap Argon2 parameters: these tests are about the console, not the hash cost
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    store = StaffStore(make_session_factory(engine), hasher=fast)
    store.create("sara", PASSWORD, role="supervisor", display_name="Sara", languages=["fr", "ar"])
    store.create("adam", PASSWORD, role="agent", display_name="Adam", languages=["ar", "ary"])
    store.create("lina", PASSWORD, role="agent", display_name="Lina", languages=["fr"])
    engine.dispose()  # the last connection to close folds the WAL into the file
    assert not path.with_name("mdm.db-wal").exists()
    return path


@pytest.fixture
async def console(tmp_path, template_db):
    shutil.copy(template_db, tmp_path / "mdm.db")
    url = f"sqlite:///{tmp_path / 'mdm.db'}"
    factory = make_session_factory(url)
    tracker = Tracker(f"sqlite:///{tmp_path / 'tracker.db'}")
    rasa = FakeRasa()
    sender = FakeSender()
    svc = Services(
        factory,
        TrackerReader(f"sqlite:///{tmp_path / 'tracker.db'}"),
        rasa,
        senders=lambda channel: sender if channel == "telegram" else None,
    )
    app = create_app(svc, name=f"console_{uuid.uuid4().hex[:8]}")
    await ready(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        yield Console(client, svc, rasa, tracker, sender)
