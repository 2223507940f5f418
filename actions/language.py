"""The conversation language: chosen every turn, switched on request."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.common import latest_entity, latest_intent
from bot.language.choice import choose_language, hint_from_metadata

#: Ticket forms (actions/tickets.py): their answers do not change the conversation language.
_TICKET_FORMS = {"complaint_form", "suggestion_form", "ticket_info_form"}


def answering_ticket_form(tracker: Tracker) -> bool:
    """Whether the latest message answers a question of a ticket form."""
    return tracker.active_loop_name in _TICKET_FORMS and bool(tracker.get_slot("requested_slot"))


class ValidateSlotMappings(ValidationAction):
    """``action_validate_slot_mappings``: fills custom-mapped slots after every message."""

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Decide the ``language`` slot from the message's verdict, request and channel hint."""
        message = tracker.latest_message or {}
        requested = (
            latest_entity(tracker, "language")
            if latest_intent(tracker) == "change_language"
            else None
        )
        current = tracker.get_slot("language")
        if requested is None and current and answering_ticket_form(tracker):
            # A description, an address, a number or a one-word choice typed for a ticket
            # form says little about the variety the user wants (descriptions are often in
            # French, "القنصلية" is Darija and MSA alike): keep it until they ask to switch.
            return {"language": current}
        verdict = message.get("language") or {}
        if verdict.get("code") == "other" and not verdict.get("ambiguous"):
            # A language we do not speak: say which ones we do, then go on in French.
            dispatcher.utter_message(response="utter_unsupported_language")
        language = choose_language(
            tracker.get_slot("language"),
            message.get("language"),
            hint=hint_from_metadata(message.get("metadata")),
            requested=requested,
        )
        return {"language": language}

    async def extract_kb_entry(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """``kb_entry`` is set by the answering actions only: keep it as it is."""
        return {}


class ActionChangeLanguage(Action):
    """Confirm a language switch, or show the language menu when none was named."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answer in the (possibly new) conversation language."""
        if latest_entity(tracker, "language"):
            dispatcher.utter_message(response="utter_language_changed")
        else:
            dispatcher.utter_message(response="utter_ask_language")
        return []
