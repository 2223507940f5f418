"""Human handoff and ratings: thin adapters from Rasa to :mod:`bot.handoff`.

* ``action_handoff``: put the conversation in the staff queue (:class:`HandoffService`),
  tell the user their place in the queue and their reference (or, outside staff hours,
  when someone will answer), then pause the bot (``ConversationPaused``): Rasa keeps logging
  the user's messages, which the console shows, and answers nothing until staff hand the
  conversation back. Urgent topics (knowledge entries marked ``urgent``: emergencies,
  repatriation of remains) get high priority; ``action_answer_procedure`` escalates them
  at once.
* ``action_rate``: store the 1-5 mark sent by the rating buttons (or typed: "5/5").
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import conversation_language, latest_entity, latest_intent, previous_action
from bot.knowledge import default_kb
from bot.settings import get_settings
from bot.tickets.pseudonym import user_key_for

logger = logging.getLogger(__name__)

#: Intents whose conversations go first in the queue (their entries are marked urgent too).
URGENT_INTENTS = frozenset({"emergency", "repatriation_of_remains"})
_CHANNEL = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


def channel_of(tracker: Tracker) -> str:
    """The channel of the latest message (``rest`` when Rasa does not say)."""
    channel = tracker.get_latest_input_channel() or "rest"
    return channel if _CHANNEL.fullmatch(channel) else "rest"


def handoff_service():  # type: ignore[no-untyped-def]
    """The handoff service on the configured database, built on use (no import-time I/O)."""
    from bot.handoff.service import HandoffService  # noqa: PLC0415
    from bot.storage.db import get_session_factory  # noqa: PLC0415

    return HandoffService(get_session_factory())


def escalation_context(tracker: Tracker) -> tuple[Optional[str], str, str]:
    """What the conversation is about, its priority and why it is escalated.

    Returns:
        ``(topic, priority, reason)``: the knowledge entry (or intent) of the conversation,
        ``high`` for urgent topics, and ``urgent`` / ``fallback`` / ``asked``.
    """
    intent = latest_intent(tracker) or ""
    entry_id = tracker.get_slot("kb_entry")
    entry = default_kb().get(entry_id) if entry_id else None
    urgent = intent in URGENT_INTENTS or bool(entry is not None and entry.urgent)
    topic = entry.id if entry is not None else (intent if intent != "human_handoff" else None)
    if urgent:
        return topic, "high", "urgent"
    if previous_action(tracker) == "action_fallback_suggest":
        return topic, "normal", "fallback"
    return topic, "normal", "asked"


class ActionHandoff(Action):
    """Escalate the conversation to a person and pause the bot."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Queue, tell the user where they stand, pause."""
        from bot.handoff.hours import parse_staff_hours  # noqa: PLC0415

        lang = conversation_language(tracker)
        channel = channel_of(tracker)
        sender = str(tracker.sender_id)
        topic, priority, reason = escalation_context(tracker)
        service = handoff_service()
        try:
            escalation = service.escalate(
                sender_id=sender,
                channel=channel,
                language=lang,
                user_key=user_key_for(channel, sender),
                topic=topic,
                priority=priority,
                reason=reason,
            )
        except Exception:  # noqa: BLE001 - the user must get an answer whatever failed
            logger.exception("handoff could not be recorded")
            dispatcher.utter_message(response="utter_handoff")
            return []
        ref = escalation.handoff.ref
        settings = get_settings()
        try:
            hours = parse_staff_hours(settings.staff_hours)
        except ValueError:
            logger.error("MDM_STAFF_HOURS is invalid; treating staff as present")
            hours = None
        now = service.now()
        if hours is not None and not hours.is_open(now):
            opening = hours.next_opening(now)
            dispatcher.utter_message(
                response="utter_handoff_after_hours",
                ref=ref,
                opening=f"{opening:%d/%m/%Y %H:%M} ({hours.tz.key})",
            )
        elif escalation.created:
            dispatcher.utter_message(
                response="utter_handoff_queued", ref=ref, position=max(escalation.position, 1)
            )
        else:
            dispatcher.utter_message(
                response="utter_handoff_waiting", ref=ref, position=max(escalation.position, 1)
            )
        return [ConversationPaused()]


def rating_from(tracker: Tracker) -> Optional[int]:
    """The 1-5 mark of the latest message: the ``rating`` entity, else a lone digit 1-5."""
    raw = latest_entity(tracker, "rating")
    if raw is None:
        text = str((tracker.latest_message or {}).get("text") or "")
        digits = [
            int(unicodedata.decimal(ch))
            for ch in text
            if ch.isdecimal() and unicodedata.decimal(ch, -1) >= 0
        ]
        marks = [d for d in digits if 1 <= d <= 5]
        # "4/5", "4 sur 5": the first digit is the mark
        raw = str(marks[0]) if marks else None
    try:
        value = int(str(raw).strip()) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and 1 <= value <= 5 else None


class ActionRate(Action):
    """Store the user's mark of the conversation and thank them."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_rate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Record the mark (if valid), thank."""
        rating = rating_from(tracker)
        if rating is None:
            dispatcher.utter_message(response="utter_anything_else")
            return []
        channel = channel_of(tracker)
        try:
            handoff_service().add_rating(
                rating=rating,
                channel=channel,
                language=conversation_language(tracker),
                user_key=user_key_for(channel, str(tracker.sender_id)),
            )
        except Exception:  # noqa: BLE001 - a lost mark must not break the conversation
            logger.exception("rating could not be stored")
        dispatcher.utter_message(response="utter_rating_thanks")
        return []
