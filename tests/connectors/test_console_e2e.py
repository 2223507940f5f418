"""The human handoff end to end: a Telegram user, the real assistant, the staff console in Chromium.

The channel tests' real action server and Rasa (``channel_servers``: Telegram pointed at the fake
Bot API of ``tests/connectors/fakes.py``, HTTP API behind a token), the console as
``python -m bot.console``, and staff in headless Chromium (Debian's ``/usr/bin/chromium``, driven
by Playwright). Screenshots go to ``results/console/`` for a human look.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from typing import Any, Dict, Iterator

import httpx
import pytest

from tests.connectors.conftest import TELEGRAM_SECRET, next_id
from tests.connectors.fakes import FakeBotApi
from tests.e2e.conftest import BIN, ROOT, Servers, free_port, wait_until_up

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough password"
SHOTS = ROOT / "results" / "console"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def update(chat_id: int, text: str) -> Dict[str, Any]:
    """A Telegram text message update from a French-speaking user."""
    return {
        "update_id": next_id(),
        "message": {
            "message_id": next_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Amina", "language_code": "fr"},
            "text": text,
        },
    }


def button_press(chat_id: int, data: str) -> Dict[str, Any]:
    """A Telegram callback query (an inline button pressed)."""
    return {
        "update_id": next_id(),
        "callback_query": {
            "id": f"cb-{next_id()}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Amina", "language_code": "fr"},
            "chat_instance": "42",
            "data": data,
            "message": {
                "message_id": next_id(),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "…",
            },
        },
    }


class World:
    """Everything the scenario needs."""

    def __init__(self, api: FakeBotApi, servers: Servers, console_url: str) -> None:
        self.api, self.servers, self.console_url = api, servers, console_url

    def telegram(self, chat_id: int, text: str, body: Dict[str, Any] | None = None) -> None:
        response = httpx.post(
            f"{self.servers.base_url}/webhooks/telegram/webhook",
            json=body or update(chat_id, text),
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=60,
        )
        assert response.status_code == 200, response.text

    def sent_to(self, chat_id: int) -> list:
        return [c["params"]["text"] for c in self.api.calls("sendMessage", chat_id=chat_id)]


@pytest.fixture(scope="module")
def world(tmp_path_factory, bot_api, channel_servers) -> Iterator[World]:
    """The console next to the channel tests' assistant, with two staff accounts."""
    workdir = tmp_path_factory.mktemp("console-e2e")
    servers, console = channel_servers, None
    try:
        port = free_port()
        console_env = dict(servers.env, RASA_URL=servers.base_url, MDM_CONSOLE_PORT=str(port))
        for username, role, languages in (("amal", "agent", "fr,ar"), ("sami", "supervisor", "fr")):
            subprocess.run(
                [
                    str(BIN / "mdm"),
                    "staff",
                    "create",
                    username,
                    "--role",
                    role,
                    "--languages",
                    languages,
                    "--name",
                    username.capitalize(),
                ],
                cwd=ROOT,
                env=dict(console_env, MDM_STAFF_PASSWORD=PASSWORD),
                check=True,
                capture_output=True,
            )
        console = subprocess.Popen(
            [sys.executable, "-m", "bot.console", "--port", str(port)],
            cwd=ROOT,
            env=console_env,
            stdout=open(workdir / "console.log", "wb"),  # noqa: SIM115 (open while it runs)
            stderr=subprocess.STDOUT,
        )
        wait_until_up(f"http://127.0.0.1:{port}/login", console, timeout=60)
        yield World(bot_api, servers, f"http://127.0.0.1:{port}")
    finally:
        if console is not None:
            console.terminate()
            console.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def login(browser, world: World, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{world.console_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{world.console_url}/queue")
    return page


def wait(condition, timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_handoff_from_telegram_through_the_console_and_back(world, browser):
    from bot.handoff.hours import parse_staff_hours
    from bot.storage.db import make_session_factory
    from bot.tickets.pseudonym import user_key
    from bot.tickets.service import TicketService

    SHOTS.mkdir(parents=True, exist_ok=True)
    chat = next_id()
    page = login(browser, world, "amal")
    waiting = int(page.locator("#count-waiting").inner_text())  # other tests share the database

    # 1. the user asks for a person on Telegram: told their place in the queue (or, outside
    #    staff hours, when someone will answer) and a reference; the bot pauses
    world.telegram(chat, "je voudrais parler à un conseiller s'il vous plaît")
    [told] = wait(lambda: world.sent_to(chat), what="the handoff message")
    ref = re.search(r"H-[0-9A-Z]{4}-[0-9A-Z]{4}", told).group(0)
    hours = parse_staff_hours(
        world.servers.env.get("MDM_STAFF_HOURS") or "Mon-Fri 09:00-17:00 Africa/Casablanca"
    )
    if hours.is_open(dt.datetime.now(dt.timezone.utc)):
        assert told.startswith("Je vous mets en relation") and "position " in told
    else:
        assert told.startswith("Notre équipe est absente") and f"({hours.tz.key})" in told

    # 2. the escalation appears in the console by itself (live queue)
    page.wait_for_selector(f"#queue-rows a:text('{ref}')", timeout=15_000)
    assert int(page.locator("#count-waiting").inner_text()) == waiting + 1
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    # 3. while paused the bot says nothing, and the message reaches the console
    before = len(world.sent_to(chat))
    page.click(f"#queue-rows a:text('{ref}')")
    page.wait_for_url(f"**/conversations/{ref}")
    world.telegram(chat, "<b>c'est urgent</b>, mon passeport expire demain")
    page.wait_for_selector("#lines li.msg.user >> text=mon passeport expire demain", timeout=15_000)
    assert page.locator("#lines li.msg.user b").count() == 0  # shown as text, not HTML
    assert len(world.sent_to(chat)) == before

    # 4. take it and reply: the user gets it on Telegram
    page.click("form[action$='/take'] button")
    page.wait_for_selector(".notice-taken")
    page.fill("#reply-text", "Bonjour, je m'occupe de votre dossier de passeport.")
    page.click("form.reply button[type=submit]")
    page.wait_for_selector(".notice-replied")
    wait(
        lambda: "Bonjour, je m'occupe de votre dossier de passeport." in world.sent_to(chat),
        what="staff reply on Telegram",
    )
    page.wait_for_selector("#lines li.msg.staff")
    page.screenshot(path=str(SHOTS / "conversation.png"), full_page=True)

    # 5. hand back: the user is told (with the rating buttons), the bot answers again
    page.click("form[action$='/handback'] button")
    page.wait_for_selector(".notice-handed_back")
    wait(
        lambda: [
            t for t in world.sent_to(chat) if t.startswith("La conversation avec notre équipe")
        ],
        what="hand-back message",
    )
    keyboard = world.api.calls("sendMessage", chat_id=chat)[-1]["params"]["reply_markup"]
    five = next(b for row in keyboard["inline_keyboard"] for b in row if b["text"] == "5 ★")
    # the user presses "5 ★": the mark is stored and they are thanked
    world.telegram(chat, "", body=button_press(chat, five["callback_data"]))
    wait(
        lambda: any(t.startswith("Merci pour votre note") for t in world.sent_to(chat)),
        what="thanks for the rating",
    )
    count = len(world.sent_to(chat))
    world.telegram(chat, "bonjour")
    wait(lambda: len(world.sent_to(chat)) > count, what="the bot's answer after hand back")
    assert world.sent_to(chat)[count].startswith("Bonjour")

    # 6. a ticket of this user: a status change notifies them on Telegram, in their language
    tickets = TicketService(make_session_factory(world.servers.database_url))
    ticket = tickets.create(
        kind="complaint",
        category="consular",
        language="fr",
        channel="telegram",
        description="Mon rendez-vous au consulat a été annulé deux fois",
        consent=True,
        user_key=user_key("telegram", str(chat), world.servers.env["MDM_SECRET_KEY"]),
    )
    page.goto(f"{world.console_url}/tickets/{ticket.ref}")
    page.select_option("form[action$='/status'] select[name=status]", "in_progress")
    page.click("form[action$='/status'] button[type=submit]")
    page.wait_for_selector(".notice-status_changed")
    wait(
        lambda: (
            f"Votre demande {ticket.ref} a changé de statut : En cours de traitement."
            in world.sent_to(chat)
        ),
        what="ticket notification",
    )
    page.screenshot(path=str(SHOTS / "ticket.png"), full_page=True)
    page.close()

    # 7. the supervisor sees it all in the audit log and the dashboard (Arabic interface)
    boss = login(browser, world, "sami")
    boss.goto(f"{world.console_url}/audit")
    for action in ("take", "reply", "hand_back", "ticket_status"):
        assert boss.locator(f"td:text-is('{action}')").count() >= 1, action
    boss.goto(f"{world.console_url}/lang/ar?next=/dashboard")
    assert boss.locator("html").get_attribute("dir") == "rtl"
    assert boss.locator("svg.chart").count() == 6
    assert boss.locator("ul.kpis li").last.locator("b").inner_text() == "5"  # the rating
    boss.screenshot(path=str(SHOTS / "dashboard-ar.png"), full_page=True)
    boss.goto(f"{world.console_url}/conversations/{ref}")
    assert boss.locator("#lines li.msg").count() >= 5
    boss.screenshot(path=str(SHOTS / "conversation-ar.png"), full_page=True)
    boss.close()


def test_rasa_api_needs_the_token(world):
    url = f"{world.servers.base_url}/conversations/someone/tracker"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, params={"token": "wrong"}, timeout=10).status_code == 401
    assert httpx.get(url, params={"token": world.servers.token}, timeout=10).status_code == 200
