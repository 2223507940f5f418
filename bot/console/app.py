"""The staff console's web app (Sanic): pages, JSON for live updates, and the staff actions.

Security model (tested in ``tests/bot/console/``):

* every page and API needs a session (``401`` for APIs and POSTs, redirect to the log-in
  page for pages); supervisor pages answer ``403`` to agents;
* every POST carries the session's CSRF token (form field ``csrf`` or ``X-CSRF-Token``) and,
  when the browser sends one, an ``Origin`` equal to the console's; else ``403``;
* cookies are HttpOnly, SameSite=Strict, and Secure when ``MDM_CONSOLE_HTTPS`` is set;
* responses carry a strict CSP (no inline script or style, nothing from another origin),
  ``X-Frame-Options: DENY``, ``nosniff``, ``no-referrer`` and ``Cache-Control: no-store``;
* templates autoescape; the live views build the DOM with ``textContent``;
* every staff action is written to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from pathlib import Path
from typing import Any, Callable, Coroutine, Dict, List, Optional
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.console import notify
from bot.console.auth import Staff, StaffStore, same_token
from bot.console.i18n import UI_LANGUAGES, translator
from bot.handoff.rasa_api import RasaAPI, RasaAPIError
from bot.handoff.service import HandoffError, HandoffService
from bot.handoff.transcript import TrackerReader
from bot.settings import LANGUAGES, RTL_LANGUAGES, get_settings
from bot.storage.db import session_scope
from bot.storage.handoff_models import (
    HANDOFF_STATUSES,
    OPEN_HANDOFF_STATUSES,
    PRIORITIES,
)
from bot.storage.models import STATUSES, Ticket

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "mdm_console"
LOGIN_COOKIE = "mdm_console_login"
LANG_COOKIE = "mdm_console_lang"
#: Longest staff message.
REPLY_MAX = 4000
#: Knowledge entries scoring less (hybrid search score, 0-1) are not suggested: the same bar
#: as the "did you mean" of actions/fallback.py.
SUGGESTION_MIN_SCORE = 0.3
#: Statuses a ticket is still waiting for the administration in (overdue after 60 days).
PENDING_TICKET = ("open", "in_progress")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: Result codes that may be shown after a redirect (anything else is ignored).
NOTICES = frozenset(
    {
        "taken",
        "replied",
        "transferred",
        "closed",
        "handed_back",
        "status_changed",
        "note_added",
        "ticket_replied",
        "no_push",
        "failed",
        "no_recipient",
        "rasa_down",
        "not_yours",
        "closed_already",
        "empty",
        "queue_empty",
        "invalid",
        "too_long",
        "sent",
        "nothing_to_do",
    }
)

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


class Services:
    """What the handlers use; built once per app (tests pass their own)."""

    def __init__(
        self,
        factory: sessionmaker,
        reader: TrackerReader,
        rasa: RasaAPI,
        https: bool = False,
        senders: Optional[notify.SenderLookup] = None,
    ) -> None:
        from bot.tickets.service import TicketService  # noqa: PLC0415

        self.factory = factory
        self.reader = reader
        self.rasa = rasa
        self.https = https
        # No senders: nothing can be pushed (as on REST); see bot/console/__main__.py.
        self.senders: notify.SenderLookup = senders or (lambda channel: None)
        self.staff = StaffStore(factory)
        self.handoffs = HandoffService(factory)
        self.tickets = TicketService(factory)


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["RTL_LANGUAGES"] = RTL_LANGUAGES
    return env


def _minutes_since(at: Optional[dt.datetime], now: dt.datetime) -> int:
    return int((now - at).total_seconds() // 60) if at else 0


def _safe_next(target: Optional[str]) -> str:
    """Only same-site paths are followed after a redirect (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def create_app(
    services: Optional[Services] = None,
    name: str = "mdm_console",
    senders: Optional[notify.SenderLookup] = None,
) -> Sanic:
    """Build the console app.

    Args:
        services: Database, tracker reader, Rasa client and senders; from the settings
            (and ``senders``) when None.
        name: Sanic app name (unique per process).
        senders: The channel senders, when ``services`` is None.

    Returns:
        The Sanic app (run it with ``app.run``).

    """
    if services is None:
        from bot.storage.db import get_session_factory  # noqa: PLC0415

        settings = get_settings()
        services = Services(
            get_session_factory(),
            TrackerReader(),
            RasaAPI(),
            https=settings.console_https,
            senders=senders,
        )
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 256 * 1024
    app.config.FORWARDED_SECRET = None
    app.ctx.services = services
    templates = _templates()
    app.static("/static", str(HERE / "static"), name="console_static")
    svc = services

    # ------------------------------------------------------------------ helpers

    def ui_lang(request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "fr")
        return lang if lang in UI_LANGUAGES else "fr"

    def render(
        request: Request, template: str, http_status: int = 200, **context: Any
    ) -> HTTPResponse:
        lang = ui_lang(request)
        notice = request.args.get("notice")
        html = templates.get_template(template).render(
            t=translator(lang),
            ui_lang=lang,
            ui_dir="rtl" if lang == "ar" else "ltr",
            staff=getattr(request.ctx, "staff", None),
            path=request.path,
            notice=notice if notice in NOTICES else None,
            **context,
        )
        return response.html(html, status=http_status)

    def set_cookie(resp: HTTPResponse, name: str, value: str, max_age: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if svc.https:
            cookie["secure"] = True

    def origin_ok(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            # Browsers send Origin on POST; "null" only from sandboxed or privacy contexts,
            # where the CSRF token still protects us.
            return True
        return urlsplit(origin).netloc == request.host

    def redirect(path: str, **notice: str) -> HTTPResponse:
        query = f"?{urlencode(notice)}" if notice else ""
        return response.redirect(path + query, status=303)

    def requires(role: Optional[str] = None) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                staff = svc.staff.resolve(request.cookies.get(SESSION_COOKIE))
                is_api = request.path.startswith("/api/") or request.method != "GET"
                if staff is None:
                    if is_api:
                        return response.json({"error": "unauthenticated"}, status=401)
                    return response.redirect(
                        "/login?" + urlencode({"next": request.path}), status=303
                    )
                request.ctx.staff = staff
                if role == "supervisor" and not staff.is_supervisor:
                    svc.staff.audit(staff.id, staff.username, "forbidden", request.path[:64])
                    if is_api:
                        return response.json({"error": "forbidden"}, status=403)
                    return render(request, "error.html", http_status=403, code=403)
                if request.method == "POST":
                    token = request.headers.get("x-csrf-token") or (
                        request.form.get("csrf") if request.form else None
                    )
                    if not same_token(staff.csrf_token, token) or not origin_ok(request):
                        svc.staff.audit(staff.id, staff.username, "csrf_refused", request.path[:64])
                        return response.json({"error": "csrf"}, status=403)
                return await handler(request, *args, **kwargs)

            return wrapped

        return decorate

    def form_text(request: Request, name: str) -> str:
        value = request.form.get(name) if request.form else None
        return (value or "").replace("\r\n", "\n").strip()

    # ------------------------------------------------------------------ headers

    @app.middleware("response")
    async def security_headers(request: Request, resp: HTTPResponse) -> None:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.path.startswith("/static/"):
            resp.headers["Cache-Control"] = "no-store"
        if svc.https:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000"

    # ------------------------------------------------------------------ log-in

    @app.get("/login")
    async def login_page(request: Request) -> HTTPResponse:
        import secrets  # noqa: PLC0415

        token = secrets.token_urlsafe(24)
        resp = render(
            request,
            "login.html",
            login_csrf=token,
            next=_safe_next(request.args.get("next")),
            failed=request.args.get("failed") == "1",
        )
        set_cookie(resp, LOGIN_COOKIE, token, 600)
        return resp

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        form = request.form or {}
        if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")) or not (
            origin_ok(request)
        ):
            return response.json({"error": "csrf"}, status=403)
        username = form_text(request, "username")[:64]
        staff_id = svc.staff.authenticate(username, form.get("password") or "")
        if staff_id is None:
            svc.staff.audit(None, username.lower() or "?", "login_failed")
            return redirect("/login", failed="1", next=_safe_next(form.get("next")))
        svc.staff.audit(staff_id, username.lower(), "login")
        resp = response.redirect(_safe_next(form.get("next")), status=303)
        set_cookie(resp, SESSION_COOKIE, svc.staff.open_session(staff_id), 12 * 3600)
        del resp.cookies[LOGIN_COOKIE]
        return resp

    @app.post("/logout")
    @requires()
    async def logout(request: Request) -> HTTPResponse:
        staff: Staff = request.ctx.staff
        svc.staff.close_session(request.cookies.get(SESSION_COOKIE))
        svc.staff.audit(staff.id, staff.username, "logout")
        resp = response.redirect("/login", status=303)
        del resp.cookies[SESSION_COOKIE]
        return resp

    @app.get("/lang/<code:str>")
    async def switch_language(request: Request, code: str) -> HTTPResponse:
        resp = response.redirect(_safe_next(request.args.get("next")), status=303)
        if code in UI_LANGUAGES:
            resp.cookies[LANG_COOKIE] = code
            resp.cookies[LANG_COOKIE]["path"] = "/"
            resp.cookies[LANG_COOKIE]["samesite"] = "Strict"
            resp.cookies[LANG_COOKIE]["max-age"] = 365 * 86400
        return resp

    @app.get("/")
    @requires()
    async def home(request: Request) -> HTTPResponse:
        return response.redirect("/queue", status=303)

    # ------------------------------------------------------------------ queue

    def queue_filters(request: Request) -> Dict[str, Any]:
        args = request.args
        status = args.get("status") or "open"
        wait = args.get("wait") or ""
        return {
            "status": status if status in HANDOFF_STATUSES + ("open", "all") else "open",
            "language": args.get("language") if args.get("language") in LANGUAGES else "",
            "topic": (args.get("topic") or "")[:64],
            "priority": args.get("priority") if args.get("priority") in PRIORITIES else "",
            "channel": (args.get("channel") or "")[:32],
            "wait": wait if wait.isdigit() and len(wait) < 6 else "",
        }

    def queue_rows(request: Request, filters: Dict[str, Any]) -> List[Dict[str, Any]]:
        staff: Staff = request.ctx.staff
        statuses = {
            "open": OPEN_HANDOFF_STATUSES,
            "all": HANDOFF_STATUSES,
        }.get(filters["status"], (filters["status"],))
        rows = svc.handoffs.queue(
            statuses=statuses,
            language=filters["language"] or None,
            topic=filters["topic"] or None,
            priority=filters["priority"] or None,
            channel=filters["channel"] or None,
            min_wait=dt.timedelta(minutes=int(filters["wait"])) if filters["wait"] else None,
            agent=staff.as_member(),
        )
        names = svc.staff.names()
        now = svc.handoffs.now()
        return [
            {
                "ref": h.ref,
                "status": h.status,
                "priority": h.priority,
                "language": h.language,
                "topic": h.topic or "",
                "channel": h.channel,
                "reason": h.reason,
                "waiting": _minutes_since(h.created_at, h.closed_at or now),
                "assigned": names.get(h.assigned_to, "") if h.assigned_to else "",
                "mine": h.assigned_to == staff.id,
                "match": h.language in staff.languages,
            }
            for h in rows
        ]

    @app.get("/queue")
    @requires()
    async def queue_page(request: Request) -> HTTPResponse:
        filters = queue_filters(request)
        return render(
            request,
            "queue.html",
            rows=queue_rows(request, filters),
            counts=svc.handoffs.counts(),
            filters=filters,
            statuses=HANDOFF_STATUSES,
            priorities=PRIORITIES,
        )

    @app.get("/api/queue")
    @requires()
    async def queue_api(request: Request) -> HTTPResponse:
        filters = queue_filters(request)
        return response.json(
            {"counts": svc.handoffs.counts(), "rows": queue_rows(request, filters)}
        )

    @app.post("/queue/next")
    @requires()
    async def take_next(request: Request) -> HTTPResponse:
        staff: Staff = request.ctx.staff
        handoff = svc.handoffs.next_for(staff.as_member())
        if handoff is None:
            return redirect("/queue", notice="queue_empty")
        return await _take(request, handoff.ref)

    # ------------------------------------------------------------------ conversations

    def load(ref: str) -> Any:
        handoff = svc.handoffs.get(ref)
        if handoff is None:
            return None
        return handoff

    def may_act(staff: Staff, handoff: Any) -> bool:
        """Agents act on conversations that are theirs or waiting; supervisors on any."""
        return staff.is_supervisor or handoff.assigned_to in (None, staff.id)

    def suggestions(lines: List[Any], lang: str) -> List[Dict[str, str]]:
        from bot.knowledge.search import default_search  # noqa: PLC0415

        for line in reversed(lines):
            if line.kind == "user" and line.text and not line.text.startswith("/"):
                hits = default_search().search(line.text, k=3)
                return [
                    {
                        "id": hit.entry.id,
                        "title": hit.entry.text(lang).title,
                        "summary": hit.entry.text(lang).summary,
                        "score": f"{hit.score:.1f}",
                    }
                    for hit in hits
                    if hit.score >= SUGGESTION_MIN_SCORE
                ]
        return []

    @app.get("/conversations/<ref:str>")
    @requires()
    async def conversation_page(request: Request, ref: str) -> HTTPResponse:
        handoff = load(ref)
        if handoff is None:
            return render(request, "error.html", http_status=404, code=404)
        lines = svc.reader.transcript(handoff.sender_id) if handoff.sender_id else []
        agents = [m for m in svc.staff.members() if m.active]
        names = {int(m.id): m.display_name for m in agents}
        return render(
            request,
            "conversation.html",
            h=handoff,
            lines=lines,
            last_id=lines[-1].id if lines else 0,
            suggestions=suggestions(lines, handoff.language),
            agents=agents,
            assigned=names.get(handoff.assigned_to, "") if handoff.assigned_to else "",
            can_push=svc.senders(handoff.channel) is not None,
            is_open=handoff.status in OPEN_HANDOFF_STATUSES,
            may_act=may_act(request.ctx.staff, handoff),
        )

    @app.get("/api/conversations/<ref:str>/events")
    @requires()
    async def conversation_events(request: Request, ref: str) -> HTTPResponse:
        handoff = load(ref)
        if handoff is None:
            return response.json({"error": "not_found"}, status=404)
        after = request.args.get("after") or "0"
        after_id = int(after) if after.isdigit() and len(after) < 19 else 0
        lines = (
            svc.reader.transcript(handoff.sender_id, after=after_id) if handoff.sender_id else []
        )
        return response.json(
            {"status": handoff.status, "lines": [line.as_json() for line in lines]}
        )

    async def _take(request: Request, ref: str) -> HTTPResponse:
        staff: Staff = request.ctx.staff
        handoff = load(ref)
        if handoff is None:
            return render(request, "error.html", http_status=404, code=404)
        if not may_act(staff, handoff):
            return redirect(f"/conversations/{ref}", notice="not_yours")
        try:
            svc.handoffs.take(ref, staff.id)
        except HandoffError:
            return redirect(f"/conversations/{ref}", notice="closed_already")
        # Paused when escalated; this only re-pauses after a Rasa session expiry.
        with contextlib.suppress(RasaAPIError):
            await svc.rasa.pause(handoff.sender_id)
        svc.staff.audit(staff.id, staff.username, "take", ref)
        return redirect(f"/conversations/{ref}", notice="taken")

    @app.post("/conversations/<ref:str>/take")
    @requires()
    async def take(request: Request, ref: str) -> HTTPResponse:
        return await _take(request, ref)

    @app.post("/conversations/<ref:str>/reply")
    @requires()
    async def reply(request: Request, ref: str) -> HTTPResponse:
        staff: Staff = request.ctx.staff
        handoff = load(ref)
        if handoff is None:
            return render(request, "error.html", http_status=404, code=404)
        text = form_text(request, "text")
        back = f"/conversations/{ref}"
        if not text:
            return redirect(back, notice="empty")
        if len(text) > REPLY_MAX:
            return redirect(back, notice="too_long")
        if handoff.status not in OPEN_HANDOFF_STATUSES:
            return redirect(back, notice="closed_already")
        if not may_act(staff, handoff):
            return redirect(back, notice="not_yours")
        if handoff.status == "waiting":
            svc.handoffs.take(ref, staff.id)
            svc.staff.audit(staff.id, staff.username, "take", ref)
        result = await notify.deliver(
            svc.senders, handoff.channel, handoff.recipient_id or "", text
        )
        if result == notify.FAILED:
            svc.staff.audit(staff.id, staff.username, "reply", ref, delivery=result)
            return redirect(back, notice="failed")
        try:
            await svc.rasa.pause(handoff.sender_id)
            await svc.rasa.record_staff_message(handoff.sender_id, text, staff.display_name)
        except RasaAPIError:
            svc.staff.audit(staff.id, staff.username, "reply", ref, delivery=result, rasa="down")
            return redirect(back, notice="rasa_down")
        svc.handoffs.replied(ref)
        svc.staff.audit(staff.id, staff.username, "reply", ref, delivery=result, length=len(text))
        return redirect(back, notice="replied" if result == notify.SENT else result)

    @app.post("/conversations/<ref:str>/transfer")
    @requires()
    async def transfer(request: Request, ref: str) -> HTTPResponse:
        staff: Staff = request.ctx.staff
        handoff = load(ref)
        back = f"/conversations/{ref}"
        if handoff is None:
            return render(request, "error.html", http_status=404, code=404)
        if not may_act(staff, handoff):
            return redirect(back, notice="not_yours")
        target = form_text(request, "to")
        to_id = int(target) if target.isdigit() and len(target) < 10 else None
        try:
            svc.handoffs.transfer(ref, to_id)
        except HandoffError as exc:
            return redirect(back, notice="closed_already" if exc.code == "closed" else "invalid")
        svc.staff.audit(staff.id, staff.username, "transfer", ref, to=to_id or "queue")
        return redirect("/queue", notice="transferred")

    async def _finish(request: Request, ref: str, status: str) -> HTTPResponse:
        staff: Staff = request.ctx.staff
        handoff = load(ref)
        back = f"/conversations/{ref}"
        if handoff is None:
            return render(request, "error.html", http_status=404, code=404)
        if handoff.status not in OPEN_HANDOFF_STATUSES:
            return redirect(back, notice="closed_already")
        if not may_act(staff, handoff):
            return redirect(back, notice="not_yours")
        # The bot takes over again in both cases: a closed handoff must not leave the
        # user talking to nobody. Hand back also says so and asks for a rating.
        delivery = "none"
        try:
            await svc.rasa.resume(handoff.sender_id)
            if status == "returned":
                messages = await svc.rasa.execute(handoff.sender_id, "utter_handoff_ended")
                for message in messages:
                    delivery = await notify.deliver(
                        svc.senders,
                        handoff.channel,
                        handoff.recipient_id or "",
                        str(message.get("text") or ""),
                        buttons=message.get("buttons"),
                    )
            await svc.rasa.listen(handoff.sender_id)
        except RasaAPIError:
            svc.staff.audit(staff.id, staff.username, status, ref, rasa="down")
            return redirect(back, notice="rasa_down")
        svc.handoffs.finish(ref, status)
        action = "hand_back" if status == "returned" else "close"
        svc.staff.audit(staff.id, staff.username, action, ref, delivery=delivery)
        return redirect(back, notice="handed_back" if status == "returned" else "closed")

    @app.post("/conversations/<ref:str>/close")
    @requires()
    async def close(request: Request, ref: str) -> HTTPResponse:
        return await _finish(request, ref, "closed")

    @app.post("/conversations/<ref:str>/handback")
    @requires()
    async def hand_back(request: Request, ref: str) -> HTTPResponse:
        return await _finish(request, ref, "returned")

    # ------------------------------------------------------------------ tickets

    @app.get("/tickets")
    @requires()
    async def tickets_page(request: Request) -> HTTPResponse:
        status = request.args.get("status") or ""
        overdue_only = request.args.get("overdue") == "1"
        now = svc.handoffs.now()
        query = select(Ticket).order_by(Ticket.due_at, Ticket.id)
        if status in STATUSES:
            query = query.where(Ticket.status == status)
        if overdue_only:
            query = query.where(Ticket.due_at < now, Ticket.status.in_(PENDING_TICKET))
        with session_scope(svc.factory, readonly=True) as session:
            tickets = list(session.execute(query.limit(500)).scalars())
        return render(
            request,
            "tickets.html",
            tickets=tickets,
            now=now,
            statuses=STATUSES,
            status=status if status in STATUSES else "",
            overdue_only=overdue_only,
            pending=PENDING_TICKET,
        )

    @app.get("/tickets/<ref:str>")
    @requires()
    async def ticket_page(request: Request, ref: str) -> HTTPResponse:
        ticket = svc.tickets.get(ref)
        if ticket is None:
            return render(request, "error.html", http_status=404, code=404)
        return render(
            request,
            "ticket.html",
            ticket=ticket,
            now=svc.handoffs.now(),
            statuses=STATUSES,
            pending=PENDING_TICKET,
            can_push=svc.senders(ticket.channel) is not None,
        )

    async def _notify_ticket(ticket: Any, text: str) -> str:
        code, sender = await notify.notify_ticket_owner(
            svc.reader, svc.senders, ticket.channel, ticket.user_key, text
        )
        if sender and code == notify.SENT:
            # Also in the transcript, so the conversation shows what the user got.
            with contextlib.suppress(RasaAPIError):
                await svc.rasa.append(
                    sender, [{"event": "bot", "text": text, "metadata": {"staff": "tickets"}}]
                )
        return code

    @app.post("/tickets/<ref:str>/status")
    @requires()
    async def ticket_status(request: Request, ref: str) -> HTTPResponse:
        from bot.tickets.errors import TicketError  # noqa: PLC0415

        staff: Staff = request.ctx.staff
        back = f"/tickets/{ref}"
        new_status = form_text(request, "status")
        note = form_text(request, "note")
        ticket = svc.tickets.get(ref)
        if ticket is None:
            return render(request, "error.html", http_status=404, code=404)
        if new_status == ticket.status:
            return redirect(back, notice="nothing_to_do")
        try:
            svc.tickets.set_status(ticket.ref, new_status, note=note or None)
        except (TicketError, ValueError):
            return redirect(back, notice="invalid")
        kind = "status_changed_note" if note else "status_changed"
        text = notify.ticket_message(kind, ticket.language, ticket.ref, new_status, note)
        code = await _notify_ticket(ticket, text)
        svc.staff.audit(
            staff.id,
            staff.username,
            "ticket_status",
            ticket.ref,
            old=ticket.status,
            new=new_status,
            delivery=code,
        )
        return redirect(back, notice="status_changed" if code == notify.SENT else code)

    @app.post("/tickets/<ref:str>/note")
    @requires()
    async def ticket_note(request: Request, ref: str) -> HTTPResponse:
        from bot.tickets.errors import TicketError  # noqa: PLC0415

        staff: Staff = request.ctx.staff
        back = f"/tickets/{ref}"
        note = form_text(request, "note")
        ticket = svc.tickets.get(ref)
        if ticket is None:
            return render(request, "error.html", http_status=404, code=404)
        if not note:
            return redirect(back, notice="empty")
        try:
            svc.tickets.set_status(ticket.ref, ticket.status, note=note)
        except (TicketError, ValueError):
            return redirect(back, notice="invalid")
        svc.staff.audit(staff.id, staff.username, "ticket_note", ticket.ref, length=len(note))
        return redirect(back, notice="note_added")

    @app.post("/tickets/<ref:str>/reply")
    @requires()
    async def ticket_reply(request: Request, ref: str) -> HTTPResponse:
        from bot.tickets.errors import TicketError  # noqa: PLC0415

        staff: Staff = request.ctx.staff
        back = f"/tickets/{ref}"
        text = form_text(request, "text")
        ticket = svc.tickets.get(ref)
        if ticket is None:
            return render(request, "error.html", http_status=404, code=404)
        if not text:
            return redirect(back, notice="empty")
        try:
            svc.tickets.reply(ticket.ref, text)
        except (TicketError, ValueError):
            return redirect(back, notice="invalid")
        message = notify.ticket_message("reply", ticket.language, ticket.ref, text=text)
        code = await _notify_ticket(ticket, message)
        svc.staff.audit(
            staff.id, staff.username, "ticket_reply", ticket.ref, delivery=code, length=len(text)
        )
        return redirect(back, notice="ticket_replied" if code == notify.SENT else code)

    # ------------------------------------------------------------------ supervisors

    @app.get("/dashboard")
    @requires("supervisor")
    async def dashboard(request: Request) -> HTTPResponse:
        from bot.console import charts, stats  # noqa: PLC0415

        days = request.args.get("days") or "30"
        n = int(days) if days.isdigit() and 1 <= int(days) <= 365 else 30
        # A few seconds on a large tracker store: off the event loop, other staff keep working.
        board = await asyncio.to_thread(stats.compute, svc.reader, svc.factory, n)
        t = translator(ui_lang(request))

        def named(table: Dict[str, Dict[str, int]], prefix: str) -> Dict[str, Dict[str, int]]:
            return {d: {t(prefix + k): v for k, v in row.items()} for d, row in table.items()}

        svgs = {
            "channel": charts.stacked_bars(board.days, board.by_channel, t("chart_channel")),
            "language": charts.stacked_bars(board.days, board.by_language, t("chart_language")),
            "handoffs": charts.stacked_bars(
                board.days, named(board.handoffs_by_day, "priority_"), t("chart_handoffs")
            ),
            "tickets": charts.stacked_bars(
                board.days, named(board.tickets_by_day, "series_"), t("chart_tickets")
            ),
            "intents": charts.horizontal_bars(board.top_intents, t("chart_intents")),
            "ratings": charts.horizontal_bars(
                [(f"{k} ★", v) for k, v in board.ratings.items()], t("chart_ratings")
            ),
        }
        return render(request, "dashboard.html", board=board, svgs=svgs, days=n)

    @app.get("/dashboard.csv")
    @requires("supervisor")
    async def dashboard_csv(request: Request) -> HTTPResponse:
        from bot.console import stats  # noqa: PLC0415

        staff: Staff = request.ctx.staff
        board = await asyncio.to_thread(stats.compute, svc.reader, svc.factory, 30)
        svc.staff.audit(staff.id, staff.username, "export_csv")
        return response.text(
            stats.to_csv(board),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="mdm-dashboard.csv"'},
        )

    @app.get("/audit")
    @requires("supervisor")
    async def audit_page(request: Request) -> HTTPResponse:
        return render(request, "audit.html", entries=svc.staff.audit_log())

    @app.get("/staff")
    @requires("supervisor")
    async def staff_page(request: Request) -> HTTPResponse:
        return render(request, "staff.html", members=svc.staff.members())

    return app
