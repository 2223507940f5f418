"""Reading Rasa's SQL tracker store (the ``events`` table): transcripts and figures.

Read-only. The URL is ``get_settings().tracker_db_url`` (``TRACKER_DB_*``). Rasa writes
one row per event with its JSON in ``data``; we only look at user and bot messages, slots
and pause/resume markers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.settings import get_settings
from bot.storage.db import make_engine

logger = logging.getLogger(__name__)

_metadata = MetaData()
#: Rasa's table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent), described for reading.
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

#: Event types a transcript shows.
SHOWN = ("user", "bot", "pause", "resume", "restart", "session_started")


@dataclass(frozen=True)
class Line:
    """One line of a transcript.

    Attributes:
        id: Row id in the events table (increasing; the console polls with it).
        kind: ``user``, ``bot``, ``staff``, ``pause``, ``resume``, ``restart``,
            ``session_started``.
        at: When (UTC).
        text: The message (plain text; shown escaped).
        intent: Detected intent of a user message.
        confidence: Its confidence.
        language: Detected variety of a user message.
        staff: Name of the staff member who wrote a ``staff`` line.
        buttons: Button titles of a bot message.
        channel: Input channel of a user message.

    """

    id: int
    kind: str
    at: dt.datetime
    text: str = ""
    intent: Optional[str] = None
    confidence: Optional[float] = None
    language: Optional[str] = None
    staff: Optional[str] = None
    buttons: Sequence[str] = field(default_factory=tuple)
    channel: Optional[str] = None

    def as_json(self) -> Dict[str, Any]:
        """A JSON-friendly dict (for the console's polling API)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "text": self.text,
            "intent": self.intent,
            "confidence": self.confidence,
            "language": self.language,
            "staff": self.staff,
            "buttons": list(self.buttons),
        }


def _when(timestamp: Optional[float]) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp or 0.0, tz=dt.timezone.utc)


def to_line(row_id: int, type_name: str, timestamp: Optional[float], data: str) -> Line:
    """Turn one events row into a transcript line."""
    try:
        event = json.loads(data or "{}")
    except json.JSONDecodeError:
        event = {}
    at = _when(timestamp)
    if type_name == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        language = parse.get("language") or {}
        return Line(
            id=row_id,
            kind="user",
            at=at,
            text=str(event.get("text") or ""),
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            language=language.get("code") if isinstance(language, dict) else None,
            channel=event.get("input_channel"),
        )
    if type_name == "bot":
        meta = event.get("metadata") or {}
        payload = event.get("data") or {}
        buttons = tuple(str(b.get("title", "")) for b in payload.get("buttons") or [])
        staff = meta.get("staff")
        return Line(
            id=row_id,
            kind="staff" if staff else "bot",
            at=at,
            text=str(event.get("text") or ""),
            staff=str(staff) if staff else None,
            buttons=buttons,
        )
    return Line(id=row_id, kind=type_name, at=at)


class TrackerReader:
    """Read-only access to Rasa's events table.

    Args:
        url: SQLAlchemy URL; ``get_settings().tracker_db_url`` when None.
        engine: An engine to use instead (tests).

    """

    def __init__(self, url: Optional[str] = None, engine: Optional[Engine] = None) -> None:
        self._engine = engine or make_engine(url or get_settings().tracker_db_url)

    def _rows(self, query: Any) -> List[Any]:
        try:
            with self._engine.connect() as conn:
                return list(conn.execute(query))
        except (OperationalError, ProgrammingError) as exc:
            # No conversation yet: Rasa creates the table on its first start.
            if "events" in str(exc) and (
                "no such table" in str(exc) or "does not exist" in str(exc)
            ):
                return []
            raise

    def transcript(self, sender_id: str, after: int = 0, limit: int = 2000) -> List[Line]:
        """The conversation's messages and markers, oldest first, after row ``after``."""
        query = (
            select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
            .where(
                EVENTS.c.sender_id == sender_id,
                EVENTS.c.type_name.in_(SHOWN),
                EVENTS.c.id > after,
            )
            .order_by(EVENTS.c.id)
            .limit(limit)
        )
        return [to_line(*row) for row in self._rows(query)]

    def user_rows(self, since: dt.datetime) -> List[tuple]:
        """``(sender_id, line)`` for every user message since ``since``."""
        query = (
            select(
                EVENTS.c.sender_id,
                EVENTS.c.id,
                EVENTS.c.type_name,
                EVENTS.c.timestamp,
                EVENTS.c.data,
            )
            .where(EVENTS.c.type_name == "user", EVENTS.c.timestamp >= since.timestamp())
            .order_by(EVENTS.c.id)
        )
        return [(row[0], to_line(row[1], row[2], row[3], row[4])) for row in self._rows(query)]

    def senders(self) -> List[str]:
        """Every conversation id in the store."""
        return [row[0] for row in self._rows(select(EVENTS.c.sender_id).distinct())]

    def language_of(self, sender_id: str) -> Optional[str]:
        """The latest value of the ``language`` slot of a conversation."""
        query = (
            select(EVENTS.c.data)
            .where(
                EVENTS.c.sender_id == sender_id,
                EVENTS.c.type_name == "slot",
                EVENTS.c.action_name == "language",
            )
            .order_by(EVENTS.c.id.desc())
            .limit(1)
        )
        rows = self._rows(query)
        if not rows:
            return None
        try:
            value = json.loads(rows[0][0]).get("value")
        except (json.JSONDecodeError, AttributeError):
            return None
        return str(value) if value else None
