"""Helpers shared by the action modules."""

from __future__ import annotations

from typing import Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge.render import Reply, safe_lang


def conversation_language(tracker: Tracker) -> str:
    """The conversation's variety (French until one is known)."""
    return safe_lang(tracker.get_slot("language"))


def latest_intent(tracker: Tracker) -> Optional[str]:
    """Name of the intent of the user's latest message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name")


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    """Value of the first ``entity`` in the latest message, if any."""
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == entity and item.get("value") not in (None, ""):
            return str(item["value"])
    return None


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """Send a rendered reply (text and buttons)."""
    if reply.buttons:
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
    else:
        dispatcher.utter_message(text=reply.text)


_NOT_A_TURN = {"action_listen", "action_extract_slots", "action_validate_slot_mappings"}


def previous_action(tracker: Tracker) -> Optional[Text]:
    """The bot's last action before the latest user message, if any."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action":
            name = event.get("name")
            if name not in _NOT_A_TURN:
                return str(name)
    return None
