"""The console refuses what it must: no session, wrong role, missing CSRF, script in text."""

import datetime as dt

import pytest
from sqlalchemy import update

from bot.console.auth import MAX_FAILED_LOGINS
from bot.storage.db import session_scope
from bot.storage.handoff_models import StaffMember

PAGES = [
    "/",
    "/queue",
    "/tickets",
    "/dashboard",
    "/audit",
    "/staff",
    "/conversations/H-0000-0000",
    "/tickets/MDM-0000-0000",
    "/dashboard.csv",
]
APIS = ["/api/queue", "/api/conversations/H-0000-0000/events"]
POSTS = [
    "/logout",
    "/queue/next",
    "/conversations/H-0000-0000/reply",
    "/conversations/H-0000-0000/take",
    "/conversations/H-0000-0000/handback",
    "/conversations/H-0000-0000/close",
    "/conversations/H-0000-0000/transfer",
    "/tickets/MDM-0000-0000/status",
    "/tickets/MDM-0000-0000/note",
    "/tickets/MDM-0000-0000/reply",
]
SUPERVISOR_ONLY = ["/dashboard", "/dashboard.csv", "/audit", "/staff"]


async def test_nothing_without_a_session(console):
    for path in PAGES:
        response = await console.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    for path in APIS:
        assert (await console.client.get(path)).status_code == 401, path
    for path in POSTS:
        assert (await console.client.post(path, data={"text": "x"})).status_code == 401, path


async def test_agents_cannot_open_supervisor_pages(console):
    await console.login("adam")
    for path in SUPERVISOR_ONLY:
        assert (await console.client.get(path)).status_code == 403, path
    assert (await console.client.get("/queue")).status_code == 200
    assert ("adam", "forbidden", "/dashboard") in console.audit()
    console.client.cookies.clear()
    await console.login("sara")
    for path in SUPERVISOR_ONLY:
        assert (await console.client.get(path)).status_code == 200, path


async def test_csrf_is_required_on_every_post(console):
    ref = console.svc.handoffs.escalate(
        sender_id="u1", channel="telegram", language="fr"
    ).handoff.ref
    await console.login("lina")
    path = f"/conversations/{ref}/reply"
    assert (await console.client.post(path, data={"text": "bonjour"})).status_code == 403
    assert (
        await console.client.post(path, data={"text": "bonjour", "csrf": "forged"})
    ).status_code == 403
    token = await console.csrf()
    # right token, but sent from another site
    foreign = await console.client.post(
        path, data={"text": "bonjour", "csrf": token}, headers={"Origin": "http://evil.test"}
    )
    assert foreign.status_code == 403
    assert console.sender.sent == []
    ok = await console.client.post(
        path, data={"text": "bonjour", "csrf": token}, headers={"Origin": "http://console.test"}
    )
    assert ok.status_code == 303
    assert console.sender.sent == [("u1", "bonjour", None)]
    # the header works too (the page's script uses it)
    api = await console.client.post(f"/conversations/{ref}/take", headers={"X-CSRF-Token": token})
    assert api.status_code == 303
    actions = [a for _, a, _ in console.audit()]
    assert actions.count("csrf_refused") == 3


async def test_login_form_needs_its_own_csrf_token(console):
    response = await console.client.post(
        "/login", data={"username": "lina", "password": "correct horse battery staple"}
    )
    assert response.status_code == 403
    assert "mdm_console" not in response.cookies
    as_json = await console.client.post("/login", json={"username": "lina"})
    assert as_json.status_code == 403


async def test_lock_out_after_repeated_failures(console):
    for _ in range(MAX_FAILED_LOGINS):
        response = await console.login("lina", "wrong password!!")
        assert response.headers["location"].startswith("/login?failed=1")
    # the right password is refused now, with the same answer
    locked = await console.login("lina")
    assert locked.headers["location"].startswith("/login?failed=1")
    assert (await console.client.get("/queue")).status_code == 303
    with session_scope(console.svc.factory) as session:
        session.execute(
            update(StaffMember)
            .where(StaffMember.username == "lina")
            .values(locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
        )
    assert (await console.login("lina")).headers["location"] == "/queue"
    failed = [u for u, a, _ in console.audit() if a == "login_failed"]
    assert failed == ["lina"] * (MAX_FAILED_LOGINS + 1)


async def test_cookies_and_security_headers(console):
    login = await console.login("lina")
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    page = await console.client.get("/queue")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # only the external same-origin script
    assert '<script src="/static/console.js" defer></script>' in page.text


async def test_secure_cookies_behind_https(console):
    console.svc.https = True
    page = await console.client.get("/login")
    assert "Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_logout_ends_the_session(console):
    await console.login("lina")
    cookie = console.client.cookies.get("mdm_console")
    assert (await console.post("/logout")).status_code == 303
    console.client.cookies.set("mdm_console", cookie)
    assert (await console.client.get("/api/queue")).status_code == 401


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_user_text_is_shown_as_text(console):
    console.tracker.user("u-xss", XSS)
    ref = console.svc.handoffs.escalate(
        sender_id="u-xss", channel="telegram", language="fr"
    ).handoff.ref
    await console.login("lina")
    page = await console.client.get(f"/conversations/{ref}")
    assert page.status_code == 200
    assert XSS not in page.text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        in page.text
    )
    api = await console.client.get(f"/api/conversations/{ref}/events")
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["lines"][0]["text"] == XSS  # data, inserted with textContent by the page


@pytest.mark.parametrize("target", ["//evil.test/x", "https://evil.test", "/\\evil.test"])
async def test_no_open_redirect_after_login(console, target):
    page = await console.client.get("/login", params={"next": target})
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = await console.client.post(
        "/login",
        data={
            "csrf": token,
            "username": "lina",
            "password": "correct horse battery staple",
            "next": target,
        },
    )
    assert response.headers["location"] == "/"
