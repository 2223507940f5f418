"""Dashboard figures on SQLite and PostgreSQL, and the SVG charts."""

import datetime as dt

from bot.console import charts, stats
from bot.handoff.service import HandoffService
from bot.handoff.transcript import TrackerReader
from bot.storage.db import session_scope
from bot.storage.handoff_models import Rating, StaffMember
from bot.tickets.service import TicketService
from tests.bot.console.conftest import Tracker


def test_figures(session_factory, tmp_path, ticket_args):
    tracker = Tracker(f"sqlite:///{tmp_path / 'tracker.db'}")
    tracker.user("a", "bonjour", intent="greet", channel="telegram")
    tracker.user("a", "zzz", intent="nlu_fallback", channel="telegram")
    tracker.user("b", "salam", intent="greet", lang="ary", channel="whatsapp")
    tracker.user("c", "hello", intent="passport", lang="en", channel="widget")
    handoffs = HandoffService(session_factory)
    ref = handoffs.escalate(sender_id="a", channel="telegram", language="fr").handoff.ref
    handoffs.escalate(sender_id="b", channel="whatsapp", language="ary", priority="high")
    with session_scope(session_factory) as session:
        agent = StaffMember(
            username="amal",
            display_name="Amal",
            password_hash="-",
            role="agent",
            languages="fr",
            topics="",
            active=True,
            failed_logins=0,
        )
        session.add(agent)
        session.flush()
        agent_id = agent.id
    handoffs.take(ref, agent_id)
    tickets = TicketService(session_factory)
    one = tickets.create(**ticket_args())
    tickets.create(**ticket_args())
    tickets.reply(one.ref, "Votre dossier est traité.")
    with session_scope(session_factory) as session:
        session.add_all([Rating(rating=r, channel="telegram", language="fr") for r in (5, 4, 1)])
    board = stats.compute(TrackerReader(f"sqlite:///{tmp_path / 'tracker.db'}"), session_factory)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert board.days[-1] == today and len(board.days) == 30
    assert board.conversations == 3 and board.messages == 4
    assert board.by_channel[today] == {"telegram": 1, "whatsapp": 1, "widget": 1}
    assert board.by_language[today] == {"fr": 1, "ary": 1, "en": 1}
    assert board.top_intents[0] == ("greet", 2)
    assert board.fallback_rate == 0.25
    assert board.handoffs == 2 and board.handoff_rate == round(2 / 3, 3)
    assert board.handoffs_by_day[today] == {"normal": 1, "high": 1}
    assert board.wait_minutes_avg is not None and board.wait_minutes_avg >= 0
    assert board.tickets_by_day[today] == {"opened": 2, "resolved": 1}
    assert board.resolution_days_avg is not None
    assert board.ratings == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1} and board.rating_avg == round(10 / 3, 2)
    csv_text = stats.to_csv(board)
    assert csv_text.splitlines()[0] == "metric,dimension,day,value"
    assert f"conversations_by_channel,whatsapp,{today},1" in csv_text


def test_charts_escape_labels_and_scale():
    svg = charts.stacked_bars(
        ["2026-11-28", "2026-11-29"], {"2026-11-29": {"<b>x</b>": 3, "y": 1}}, "t<i>"
    )
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert 'aria-label="t&lt;i&gt;"' in svg
    bars = charts.horizontal_bars([("greet", 4), ("passport", 2)], "top")
    assert bars.count("<rect") == 2 and ">4</text>" in bars
    assert charts.horizontal_bars([], "empty").startswith("<svg")
