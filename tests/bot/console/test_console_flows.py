"""What staff do in the console, with a fake Rasa API and a fake Telegram sender."""

import csv
import io

from bot.storage.db import session_scope
from bot.storage.handoff_models import Rating
from bot.tickets.pseudonym import user_key_for
from bot.tickets.service import TicketService


def escalate(console, sender, channel="telegram", language="fr", **kw):
    return console.svc.handoffs.escalate(
        sender_id=sender, channel=channel, language=language, recipient_id=sender, **kw
    ).handoff.ref


async def test_take_reply_transfer_hand_back_and_audit(console):
    console.tracker.user("4242", "je veux parler à quelqu'un", intent="human_handoff")
    ref = escalate(console, "4242", topic="passport_renewal")
    await console.login("lina")
    queue = await console.client.get("/api/queue")
    assert [r["ref"] for r in queue.json()["rows"]] == [ref]
    assert queue.json()["counts"]["waiting"] == 1

    assert (await console.post(f"/conversations/{ref}/take")).status_code == 303
    reply = await console.post(f"/conversations/{ref}/reply", {"text": "Bonjour, je suis Lina."})
    assert reply.headers["location"].endswith("notice=replied")
    assert console.sender.sent == [("4242", "Bonjour, je suis Lina.", None)]
    assert (
        "append",
        "4242",
        [{"event": "bot", "text": "Bonjour, je suis Lina.", "metadata": {"staff": "Lina"}}],
    ) in console.rasa.calls

    adam = next(m.id for m in console.svc.staff.members() if m.username == "adam")
    assert (
        await console.post(f"/conversations/{ref}/transfer", {"to": str(adam)})
    ).status_code == 303
    assert console.svc.handoffs.get(ref).assigned_to == adam
    # not Lina's any more: she may not hand it back
    refused = await console.post(f"/conversations/{ref}/handback")
    assert refused.headers["location"].endswith("notice=not_yours")

    console.client.cookies.clear()
    await console.login("adam")
    back = await console.post(f"/conversations/{ref}/handback")
    assert back.headers["location"].endswith("notice=handed_back")
    assert ("append", "4242", [{"event": "resume"}]) in console.rasa.calls
    assert ("execute", "4242", "utter_handoff_ended") in console.rasa.calls
    # then the bot listens: the dialogue rules only match a message after action_listen
    assert console.rasa.calls[-1] == (
        "append",
        "4242",
        [{"event": "action", "name": "action_listen"}],
    )
    # the bot's "I'm back, rate us" message reaches the user with its buttons
    assert console.sender.sent[-1][1] == "[utter_handoff_ended]"
    assert console.sender.sent[-1][2][0]["payload"] == '/rate{"rating": 5}'
    handoff = console.svc.handoffs.get(ref)
    assert handoff.status == "returned" and handoff.recipient_id is None

    console.client.cookies.clear()
    await console.login("sara")
    audit = [(u, a, t) for u, a, t in console.audit() if a not in ("login",)]
    assert audit == [
        ("lina", "take", ref),
        ("lina", "reply", ref),
        ("lina", "transfer", ref),
        ("adam", "hand_back", ref),
    ]
    page = await console.client.get("/audit")
    assert "hand_back" in page.text and ref in page.text


async def test_rest_has_no_push_and_the_page_says_so(console):
    ref = escalate(console, "rest-user", channel="rest")
    await console.login("lina")
    page = await console.client.get(f"/conversations/{ref}")
    assert "Canal REST" in page.text
    reply = await console.post(f"/conversations/{ref}/reply", {"text": "Bonjour"})
    assert reply.headers["location"].endswith("notice=no_push")
    assert console.sender.sent == []
    # still in the transcript, so the conversation's history is complete
    assert any(c[0] == "append" and c[1] == "rest-user" for c in console.rasa.calls)


async def test_failed_delivery_is_reported_and_not_recorded(console):
    ref = escalate(console, "4242")
    console.sender.fail = True
    await console.login("lina")
    reply = await console.post(f"/conversations/{ref}/reply", {"text": "Bonjour"})
    assert reply.headers["location"].endswith("notice=failed")
    assert not [c for c in console.rasa.calls if c[0] == "append" and c[2][0]["event"] == "bot"]


async def test_close_resumes_the_bot_without_message(console):
    ref = escalate(console, "4242")
    await console.login("lina")
    done = await console.post(f"/conversations/{ref}/close")
    assert done.headers["location"].endswith("notice=closed")
    assert ("append", "4242", [{"event": "resume"}]) in console.rasa.calls
    assert not [c for c in console.rasa.calls if c[0] == "execute"]
    assert console.svc.handoffs.get(ref).status == "closed"
    again = await console.post(f"/conversations/{ref}/reply", {"text": "encore"})
    assert again.headers["location"].endswith("notice=closed_already")


async def test_take_next_routes_by_language(console):
    fr = escalate(console, "a", language="fr")
    ar = escalate(console, "b", language="ar")
    await console.login("adam")  # speaks ar, ary
    taken = await console.post("/queue/next")
    assert taken.headers["location"].startswith(f"/conversations/{ar}")
    console.client.cookies.clear()
    await console.login("lina")  # speaks fr
    taken = await console.post("/queue/next")
    assert taken.headers["location"].startswith(f"/conversations/{fr}")
    empty = await console.post("/queue/next")
    assert empty.headers["location"].endswith("notice=queue_empty")


async def test_transcript_shows_intent_language_and_suggestion(console):
    console.tracker.user("4242", "بغيت نجدد الباسبور ديالي", intent="passport", lang="ary")
    console.tracker.add(
        "4242",
        "bot",
        text="تجديد الباسبور",
        data={"buttons": [{"title": "الوراق", "payload": "/x"}]},
    )
    console.tracker.add("4242", "pause")
    ref = escalate(console, "4242", language="ary")
    await console.login("lina")
    page = await console.client.get(f"/conversations/{ref}")
    assert "passport 0.91" in page.text and ">ary<" in page.text
    assert 'dir="auto"' in page.text
    assert "الوراق" in page.text  # the buttons the user saw
    assert "Assistant en pause" in page.text
    assert "Suggestions" in page.text and 'class="insert"' in page.text
    later = await console.client.get(f"/api/conversations/{ref}/events", params={"after": 1})
    assert [line["kind"] for line in later.json()["lines"]] == ["bot", "pause"]


async def test_ticket_status_change_notifies_the_user_in_their_language(console):
    tickets = TicketService(console.svc.factory)
    console.tracker.user("777", "salam", lang="ary_Latn")
    ticket = tickets.create(
        kind="complaint",
        category="consular",
        language="ary_Latn",
        channel="telegram",
        description="Rendez-vous annulé deux fois au consulat",
        consent=True,
        user_key=user_key_for("telegram", "777"),
    )
    await console.login("lina")
    page = await console.client.get(f"/tickets/{ticket.ref}")
    assert page.status_code == 200 and "Échéance" in page.text
    changed = await console.post(f"/tickets/{ticket.ref}/status", {"status": "in_progress"})
    assert changed.headers["location"].endswith("notice=status_changed")
    recipient, text, _ = console.sender.sent[-1]
    assert recipient == "777"
    assert ticket.ref in text and text.startswith("L7ala dyal talab dyalk")
    await console.post(f"/tickets/{ticket.ref}/note", {"note": "Appeler le consulat lundi"})
    await console.post(f"/tickets/{ticket.ref}/reply", {"text": "Votre rendez-vous est fixé."})
    assert console.sender.sent[-1][1].endswith("Votre rendez-vous est fixé.")
    assert len(console.sender.sent) == 2  # the internal note was not sent
    stored = tickets.get(ticket.ref)
    assert [e.kind for e in stored.events] == ["created", "status_change", "note", "staff_reply"]
    assert stored.status == "answered"
    actions = [a for _, a, t in console.audit() if t == ticket.ref]
    assert actions == ["ticket_status", "ticket_note", "ticket_reply"]


async def test_overdue_tickets_are_highlighted(console):
    import datetime as dt

    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=61)
    tickets = TicketService(console.svc.factory, clock=lambda: old)
    late = tickets.create(
        kind="complaint",
        category="other",
        language="fr",
        channel="rest",
        description="Aucune réponse depuis deux mois",
        consent=True,
        user_key=user_key_for("rest", "x"),
    )
    await console.login("lina")
    page = await console.client.get("/tickets", params={"overdue": "1"})
    assert late.ref in page.text and 'class="overdue"' in page.text
    # REST tickets cannot be notified: said, not pretended
    changed = await console.post(f"/tickets/{late.ref}/status", {"status": "closed"})
    assert changed.headers["location"].endswith("notice=no_push")


async def test_dashboard_and_csv(console):
    console.tracker.user("a", "bonjour", intent="greet", channel="telegram")
    console.tracker.user("a", "qsdf", intent="nlu_fallback", channel="telegram")
    console.tracker.user("b", "salam", intent="greet", lang="ary", channel="widget")
    escalate(console, "a")
    with session_scope(console.svc.factory) as session:
        session.add(Rating(rating=4, channel="telegram", language="fr"))
    await console.login("sara")
    page = await console.client.get("/dashboard")
    assert page.status_code == 200 and page.text.count("<svg") == 6
    assert "<b>2</b>" in page.text  # conversations
    export = await console.client.get("/dashboard.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    figures = {r["metric"]: r["value"] for r in rows if not r["dimension"]}
    assert figures["conversations"] == "2" and figures["handoffs"] == "1"
    assert float(figures["fallback_rate"]) == round(1 / 3, 3)
    assert figures["rating_avg"] == "4"
    assert {r["dimension"] for r in rows if r["metric"] == "conversations_by_channel"} == {
        "telegram",
        "widget",
    }
    assert ("sara", "export_csv", None) in console.audit()


async def test_arabic_interface_is_right_to_left(console):
    await console.login("adam")
    switched = await console.client.get("/lang/ar", params={"next": "/queue"})
    assert switched.headers["location"] == "/queue"
    page = await console.client.get("/queue")
    assert '<html lang="ar" dir="rtl">' in page.text and "قائمة الانتظار" in page.text
