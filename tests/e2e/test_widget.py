"""The web widget in a real browser (Debian's Chromium via Playwright) against the real assistant.

A static server serves a test page (the widget's script tag pointing at the e2e Rasa server) and
``web/widget/``; every test gets a fresh browser context (fresh localStorage, so a fresh sender).
Screenshots are kept under ``test-artifacts/`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator, List

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.knowledge import default_kb
from bot.serve import start_web_server
from bot.settings import get_settings
from bot.storage.db import make_session_factory
from bot.storage.widget_models import WidgetSender

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
UI = yaml.safe_load((ROOT / "knowledge" / "ui.yml").read_text(encoding="utf-8"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 20_000  # ms: one answer of the assistant, generously
expect.set_options(timeout=TIMEOUT)

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Widget test page</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;padding:40px;background:#f6f8f7}}
h1{{color:#006233}}</style></head>
<body><h1>Consulat — page de test</h1>
<p>Une page quelconque qui embarque l'assistant avec une seule balise.</p>
<script src="/widget/mdm-widget.js" data-server="{server}" data-lang="fr" data-poll="1" defer>
</script>
</body></html>
"""


def response_text(name: str, lang: str) -> str:
    for variant in DOMAIN["responses"][name]:
        conditions = variant.get("condition") or []
        if (lang == "fr" and not conditions) or any(c["value"] == lang for c in conditions):
            return str(variant["text"])
    raise KeyError((name, lang))


@pytest.fixture(scope="module")
def site(servers, tmp_path_factory) -> Iterator[str]:
    """The test page and the widget over HTTP (another origin than Rasa: CORS is exercised)."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "index.html").write_text(PAGE.format(server=servers.base_url), encoding="utf-8")
    (folder / "widget").symlink_to(ROOT / "web" / "widget", target_is_directory=True)
    web = start_web_server(0, folder)
    try:
        yield f"http://127.0.0.1:{web.server_address[1]}/"
    finally:
        web.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT)
    yield context
    context.close()


@pytest.fixture
def page(context, site) -> Page:
    page = context.new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site)
    yield page
    assert errors == [], errors  # no JavaScript error in the widget


@pytest.fixture(scope="module")
def outbox(servers) -> WidgetSender:
    """Pushes into the e2e server's outbox, as the staff console would."""
    secret = servers.env.get("MDM_SECRET_KEY") or get_settings().secret_key
    return WidgetSender(make_session_factory(servers.database_url), secret=secret)


def open_widget(page: Page) -> None:
    launcher = page.locator(".mdm-launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".mdm-panel")).to_be_visible()
    # the first opening greets (in the page's language) with the menu as buttons
    expect(bot_messages(page).first).to_contain_text(response_text("utter_greet", "fr"))


def bot_messages(page: Page):
    return page.locator('.mdm-msg[data-from="bot"]')


def say(page: Page, text: str) -> None:
    before = bot_messages(page).count()
    box = page.locator(".mdm-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator('.mdm-msg[data-from="user"]').last).to_contain_text(text)
    expect(bot_messages(page)).not_to_have_count(before)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), animations="disabled")


def test_conversation_in_french_and_darija_with_buttons_and_links(page):
    requests: List[dict] = []
    page.on(
        "request",
        lambda r: requests.append(json.loads(r.post_data or "{}")) if r.method == "POST" else None,
    )
    open_widget(page)
    expect(page.locator(".mdm-input")).to_be_focused()
    entry = default_kb().get("passport_renewal")

    say(page, "je veux renouveler mon passeport")
    answer = bot_messages(page).last
    expect(answer).to_contain_text(entry.text("fr").summary)
    # the official source is a real, safe link
    link = answer.locator("a.mdm-link").first
    expect(link).to_have_attribute("href", re.compile(r"^https://www\.consulat\.ma"))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile("noopener"))

    # a button sends its payload and shows its title as the user's message
    answer.locator(".mdm-chip", has_text=UI["fr"]["fees"]).click()
    expect(page.locator('.mdm-msg[data-from="user"]').last).to_contain_text(UI["fr"]["fees"])
    expect(bot_messages(page).last).to_contain_text(entry.text("fr").fees)
    assert '/procedure_detail{"detail":"fees"}' in [r["message"] for r in requests]

    say(page, "bghit njded lpaspor dyali 3afak")
    expect(bot_messages(page).last).to_contain_text(entry.text("ary_Latn").summary)
    screenshot(page, "widget-desktop-fr-darija.png")

    # every message went to the widget channel with a 128-bit sender and the chosen language
    senders = {r["sender"] for r in requests}
    assert len(senders) == 1 and re.fullmatch(r"[0-9a-f]{32}", senders.pop())
    assert all(r["metadata"] == {"language": "fr"} for r in requests)


def test_arabic_script_is_laid_out_right_to_left(page):
    requests: List[dict] = []
    page.on(
        "request",
        lambda r: requests.append(json.loads(r.post_data or "{}")) if r.method == "POST" else None,
    )
    open_widget(page)
    panel = page.locator(".mdm-panel")
    expect(panel).to_have_attribute("dir", "ltr")

    page.locator(".mdm-lang").select_option("ary")
    expect(panel).to_have_attribute("dir", "rtl")
    expect(panel).to_have_attribute("lang", "ary")
    expect(bot_messages(page).last).to_contain_text(response_text("utter_language_changed", "ary"))
    assert requests[-1] == {
        "sender": requests[0]["sender"],
        "message": '/change_language{"language": "ary"}',
        "metadata": {"language": "ary"},
    }

    say(page, "بغيت نجدد الباسبور ديالي")
    entry = default_kb().get("passport_renewal")
    answer = bot_messages(page).last
    expect(answer).to_contain_text(entry.text("ary").summary)
    direction = "el => getComputedStyle(el).direction"
    assert answer.evaluate(direction) == "rtl"
    assert answer.locator(".mdm-bubble").evaluate(direction) == "rtl"
    assert page.locator('.mdm-msg[data-from="user"]').last.evaluate(direction) == "rtl"
    # the empty box follows the interface; typed text its own script
    assert page.locator(".mdm-input").evaluate(direction) == "rtl"
    page.locator(".mdm-input").fill("salam")
    assert page.locator(".mdm-input").evaluate(direction) == "ltr"
    page.locator(".mdm-input").fill("")
    # the source link inside the Arabic answer stays left to right
    assert answer.locator("a.mdm-link").first.evaluate(direction) == "ltr"
    # the interface speaks Darija too
    expect(page.locator(".mdm-send")).to_have_attribute("aria-label", "صيفط")
    screenshot(page, "widget-desktop-ary-rtl.png")


def test_phone_gets_a_full_screen_panel(browser, site):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="ar-MA",
    )
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(site)
        open_widget(page)
        panel = page.locator(".mdm-panel")
        # the panel slides in (scale .98 -> 1): measure it once the animation has ended
        panel.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
        box = panel.bounding_box()
        assert box is not None
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
        expect(page.locator(".mdm-launcher")).to_be_hidden()  # the header's close button instead
        page.locator(".mdm-lang").select_option("ar")
        expect(bot_messages(page).last).to_contain_text(
            response_text("utter_language_changed", "ar")
        )
        say(page, "أريد تجديد جواز السفر")
        expect(bot_messages(page).last).to_contain_text(
            default_kb().get("passport_renewal").text("ar").summary
        )
        screenshot(page, "widget-phone-ar.png")
        page.locator(".mdm-close").click()
        expect(page.locator(".mdm-launcher")).to_be_visible()
        screenshot(page, "widget-phone-closed.png")
    finally:
        context.close()


def test_keyboard_open_escape_close_and_focus(page):
    launcher = page.locator(".mdm-launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".mdm-input")).to_be_focused()
    log = page.locator(".mdm-log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.locator(".mdm-panel")).to_have_attribute(
        "aria-label", "Assistant Marocains du Monde"
    )
    # every control has a name
    for selector in (".mdm-lang", ".mdm-close", ".mdm-reset", ".mdm-send", ".mdm-input"):
        control = page.locator(selector)
        name = control.get_attribute("aria-label") or control.evaluate(
            "el => el.labels && el.labels.length ? el.labels[0].textContent : ''"
        )
        assert name.strip(), selector
    # visible focus: a keyboard user sees where they are
    page.keyboard.press("Shift+Tab")
    outline = page.evaluate(
        "() => { const a = document.querySelector('#mdm-widget').shadowRoot.activeElement;"
        " const s = getComputedStyle(a); return [a.className, s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[1] == "solid" and outline[2] != "0px", outline
    page.keyboard.press("Escape")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".mdm-panel")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_transcript_and_sender_survive_a_reload(page):
    open_widget(page)
    say(page, "Bonjour, j'ai une question")
    sender = page.evaluate("MDMWidget.sender")
    texts = page.locator(".mdm-msg").all_text_contents()
    page.reload()
    expect(page.locator(".mdm-panel")).to_be_visible()  # it was open: it stays open
    expect(page.locator(".mdm-msg")).to_have_count(len(texts))
    assert page.locator(".mdm-msg").all_text_contents() == texts
    assert page.evaluate("MDMWidget.sender") == sender
    # and the conversation goes on where it was
    say(page, "passeport")
    expect(bot_messages(page).last.locator(".mdm-chip").first).to_be_visible()


def test_a_message_sent_offline_is_delivered_when_back_online(page, context):
    open_widget(page)
    context.set_offline(True)
    box = page.locator(".mdm-input")
    box.fill("je veux renouveler mon passeport")
    box.press("Enter")
    status = page.locator(".mdm-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Hors ligne")
    pending = page.locator('.mdm-msg[data-from="user"]').last
    expect(pending).to_have_attribute("data-state", "pending")
    expect(pending.locator(".mdm-note")).to_be_visible()
    screenshot(page, "widget-offline.png")
    bots = bot_messages(page).count()
    page.wait_for_timeout(2500)  # a few retries fail meanwhile
    assert bot_messages(page).count() == bots
    context.set_offline(False)
    expect(bot_messages(page).last).to_contain_text(
        default_kb().get("passport_renewal").text("fr").summary
    )
    expect(status).to_be_hidden()
    expect(pending).not_to_have_attribute("data-state", "pending")
    assert bot_messages(page).count() == bots + 1  # delivered once


def test_staff_message_is_pushed_to_the_open_widget(page, outbox):
    open_widget(page)
    sender = page.evaluate("MDMWidget.sender")
    outbox.send(
        sender,
        {
            "text": "Bonjour, ici Samira du consulat : votre rendez-vous du 12 est confirmé.",
            "buttons": [{"title": "Merci", "payload": "/thank"}],
        },
        author="staff",
    )
    staff = page.locator('.mdm-msg[data-from="staff"]')
    expect(staff).to_contain_text("votre rendez-vous du 12 est confirmé")
    expect(staff.locator(".mdm-tag")).to_have_text("Message d'un conseiller")
    # shown once, even after more polls and a reload
    page.wait_for_timeout(2500)
    expect(staff).to_have_count(1)
    page.reload()
    expect(page.locator('.mdm-msg[data-from="staff"]')).to_have_count(1)
    # a message pushed while the panel is closed shows as unread on the launcher
    page.locator(".mdm-close").click()
    outbox.send(sender, "Votre passeport est prêt.", author="system")
    expect(page.locator(".mdm-badge")).to_have_text("1")
    expect(page.locator(".mdm-launcher")).to_have_attribute("aria-label", re.compile("1"))
    page.locator(".mdm-launcher").click()
    expect(page.locator('.mdm-msg[data-from="system"]')).to_contain_text(
        "Votre passeport est prêt."
    )
    expect(page.locator(".mdm-badge")).to_be_hidden()
    screenshot(page, "widget-staff-push.png")


def test_html_in_messages_is_shown_as_text(page, outbox):
    open_widget(page)
    sender = page.evaluate("MDMWidget.sender")
    evil = '<img src=x onerror="window.__pwned=1"> <b>gras</b> javascript:alert(1)'
    outbox.send(
        sender,
        {
            "text": evil + ' https://example.org/"><img src=x onerror="window.__pwned=2">',
            "buttons": [{"title": "<img src=x onerror=window.__pwned=3>", "payload": "/greet"}],
        },
    )
    staff = page.locator('.mdm-msg[data-from="staff"]')
    expect(staff).to_contain_text(evil)
    say(page, '<img src=x onerror="window.__pwned=4">')
    expect(page.locator('.mdm-msg[data-from="user"]').last).to_contain_text(
        '<img src=x onerror="window.__pwned=4">'
    )
    expect(staff.locator(".mdm-chip")).to_have_text("<img src=x onerror=window.__pwned=3>")
    shadow_images = page.evaluate(
        "() => document.querySelector('#mdm-widget').shadowRoot.querySelectorAll('img, b').length"
    )
    assert shadow_images == 0
    links = staff.locator("a")
    expect(links).to_have_count(1)  # javascript: is not a link; the URL stops at the quote
    expect(links).to_have_attribute("href", "https://example.org/")
    assert page.evaluate("window.__pwned") is None
