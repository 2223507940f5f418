"""Session start: carry the conversation over, including a pause for a human handoff.

Rasa's default ``action_session_start`` opens a new session after ``session_expiration_time``
of silence and, by design, forgets that the conversation was paused. For us a pause means
"staff have this conversation" (``action_handoff``): a user who writes again two hours later
must not get the bot back while their request is still in the staff queue, and staff, not a
timer, hand the conversation back (the console's "return to the bot" or "close"). So this
action keeps the slots (``carry_over_slots_to_new_session``) and, when the session that ends
was paused, pauses the new one too. ``/restart`` still reaches the bot while paused.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

#: Rasa fills this slot itself at each session start; carrying it over would be stale.
_SESSION_METADATA_SLOT = "session_started_metadata"


def _carry_over(domain: DomainDict) -> bool:
    config: Dict[str, Any] = domain.get("session_config") or {}
    return bool(config.get("carry_over_slots_to_new_session", True))


class ActionSessionStart(Action):
    """Start a session like Rasa does, but keep a handoff's pause."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """``SessionStarted``, the slots, the pause if there was one, then listen."""
        events: List[EventType] = [SessionStarted()]
        if _carry_over(domain):
            events += [
                SlotSet(name, value)
                for name, value in tracker.slots.items()
                if name != _SESSION_METADATA_SLOT and value is not None
            ]
        if tracker.is_paused():
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events
