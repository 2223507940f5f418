"""The dashboard's figures, from Rasa's tracker store and our tables, and their CSV export.

* conversations per day by channel and by language: a conversation-day is one sender
  writing on one day; channel and detected variety of their first message that day;
* top intents and the fallback rate (``nlu_fallback`` share of user messages);
* handoffs: how many, their share of conversations, waiting time (escalation to an agent
  taking it) and time to the first staff reply;
* tickets opened and resolved (first ``answered`` or ``closed``) per day, resolution time;
* ratings: count, average, distribution.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.handoff.transcript import TrackerReader
from bot.storage.db import session_scope
from bot.storage.handoff_models import Handoff, Rating
from bot.storage.models import Ticket, TicketEvent

RESOLVED = ("answered", "closed")


@dataclass
class Dashboard:
    """Figures over the last ``days`` days."""

    days: List[str]
    by_channel: Dict[str, Dict[str, int]] = field(default_factory=dict)
    by_language: Dict[str, Dict[str, int]] = field(default_factory=dict)
    conversations: int = 0
    messages: int = 0
    top_intents: List[Tuple[str, int]] = field(default_factory=list)
    fallback_rate: float = 0.0
    handoffs: int = 0
    handoff_rate: float = 0.0
    handoffs_by_day: Dict[str, Dict[str, int]] = field(default_factory=dict)
    wait_minutes_avg: Optional[float] = None
    wait_minutes_median: Optional[float] = None
    first_reply_minutes_avg: Optional[float] = None
    tickets_by_day: Dict[str, Dict[str, int]] = field(default_factory=dict)
    tickets_opened: int = 0
    tickets_resolved: int = 0
    resolution_days_avg: Optional[float] = None
    ratings: Dict[int, int] = field(default_factory=dict)
    rating_avg: Optional[float] = None


def _day(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).date().isoformat()


def _minutes(deltas: List[dt.timedelta]) -> Tuple[Optional[float], Optional[float]]:
    if not deltas:
        return None, None
    values = [d.total_seconds() / 60 for d in deltas]
    return round(statistics.mean(values), 1), round(statistics.median(values), 1)


def compute(
    reader: TrackerReader, factory: sessionmaker, days: int = 30, now: Optional[dt.datetime] = None
) -> Dashboard:
    """Compute the dashboard over the last ``days`` days (UTC days, today included)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    first_day = (now - dt.timedelta(days=days - 1)).date()
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.timezone.utc)
    day_list = [(first_day + dt.timedelta(days=i)).isoformat() for i in range(days)]
    board = Dashboard(days=day_list)

    seen: set = set()
    intents: Counter = Counter()
    by_channel: Dict[str, Counter] = defaultdict(Counter)
    by_language: Dict[str, Counter] = defaultdict(Counter)
    fallbacks = 0
    for sender, line in reader.user_rows(since):
        board.messages += 1
        if line.intent:
            intents[line.intent] += 1
        if line.intent == "nlu_fallback":
            fallbacks += 1
        day = _day(line.at)
        if (sender, day) not in seen:
            seen.add((sender, day))
            by_channel[day][line.channel or "?"] += 1
            by_language[day][line.language or "?"] += 1
    board.conversations = len(seen)
    board.by_channel = {d: dict(c) for d, c in by_channel.items()}
    board.by_language = {d: dict(c) for d, c in by_language.items()}
    board.top_intents = intents.most_common(10)
    board.fallback_rate = round(fallbacks / board.messages, 3) if board.messages else 0.0

    with session_scope(factory, readonly=True) as session:
        handoffs = list(
            session.execute(select(Handoff).where(Handoff.created_at >= since)).scalars()
        )
        tickets = list(session.execute(select(Ticket).where(Ticket.created_at >= since)).scalars())
        resolutions = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.at)
            .where(TicketEvent.new_status.in_(RESOLVED))
            .order_by(TicketEvent.id)
        ).all()
        created = dict(session.execute(select(Ticket.id, Ticket.created_at)).all())
        ratings = list(session.execute(select(Rating.rating).where(Rating.at >= since)).scalars())

    board.handoffs = len(handoffs)
    board.handoff_rate = (
        round(board.handoffs / board.conversations, 3) if board.conversations else 0.0
    )
    per_day: Dict[str, Counter] = defaultdict(Counter)
    for h in handoffs:
        per_day[_day(h.created_at)][h.priority] += 1
    board.handoffs_by_day = {d: dict(c) for d, c in per_day.items()}
    board.wait_minutes_avg, board.wait_minutes_median = _minutes(
        [h.taken_at - h.created_at for h in handoffs if h.taken_at]
    )
    board.first_reply_minutes_avg, _ = _minutes(
        [h.first_reply_at - h.created_at for h in handoffs if h.first_reply_at]
    )

    tickets_by_day: Dict[str, Counter] = defaultdict(Counter)
    for t in tickets:
        tickets_by_day[_day(t.created_at)]["opened"] += 1
    first_resolution: Dict[int, dt.datetime] = {}
    for ticket_id, at in resolutions:
        first_resolution.setdefault(ticket_id, at)
    durations = []
    for ticket_id, at in first_resolution.items():
        if at >= since:
            tickets_by_day[_day(at)]["resolved"] += 1
            if ticket_id in created:
                durations.append((at - created[ticket_id]).total_seconds() / 86400)
    board.tickets_by_day = {d: dict(c) for d, c in tickets_by_day.items()}
    board.tickets_opened = sum(c["opened"] for c in tickets_by_day.values())
    board.tickets_resolved = sum(c["resolved"] for c in tickets_by_day.values())
    board.resolution_days_avg = round(statistics.mean(durations), 1) if durations else None

    board.ratings = {n: 0 for n in range(1, 6)}
    for r in ratings:
        board.ratings[int(r)] += 1
    board.rating_avg = round(statistics.mean(ratings), 2) if ratings else None
    return board


def to_csv(board: Dashboard) -> str:
    """The dashboard as CSV: ``metric,dimension,day,value`` (long format, one figure a row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "dimension", "day", "value"])
    for name, table in (
        ("conversations_by_channel", board.by_channel),
        ("conversations_by_language", board.by_language),
        ("handoffs_by_priority", board.handoffs_by_day),
        ("tickets", board.tickets_by_day),
    ):
        for day in board.days:
            for key, value in sorted(table.get(day, {}).items()):
                writer.writerow([name, key, day, value])
    for intent, n in board.top_intents:
        writer.writerow(["top_intent", intent, "", n])
    for rating, n in board.ratings.items():
        writer.writerow(["ratings", rating, "", n])
    for name in (
        "conversations",
        "messages",
        "fallback_rate",
        "handoffs",
        "handoff_rate",
        "wait_minutes_avg",
        "wait_minutes_median",
        "first_reply_minutes_avg",
        "tickets_opened",
        "tickets_resolved",
        "resolution_days_avg",
        "rating_avg",
    ):
        value = getattr(board, name)
        writer.writerow([name, "", "", "" if value is None else value])
    return out.getvalue()
