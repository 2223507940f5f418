"""Two-step fallback: suggest likely topics first, offer a person on the second miss."""

from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import conversation_language, previous_action
from bot.knowledge.render import payload
from bot.knowledge.search import default_search

#: Suggestions below this search score (0-1) are noise rather than a likely topic.
MIN_SUGGESTION_SCORE = 0.2


class ActionFallbackSuggest(Action):
    """On a low-confidence message: "did you mean…?" with knowledge-base matches as buttons."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_fallback_suggest"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Suggest, or offer a person after two misses in a row."""
        if previous_action(tracker) == self.name():
            dispatcher.utter_message(response="utter_offer_human")
            return []
        lang = conversation_language(tracker)
        text = (tracker.latest_message or {}).get("text") or ""
        buttons: List[Dict[str, str]] = []
        for hit in default_search().search(text, k=3):
            if hit.score < MIN_SUGGESTION_SCORE:
                continue
            entry = hit.entry
            entities = {"variant": entry.variant} if entry.variant else {}
            buttons.append(
                {"title": entry.text(lang).title, "payload": payload(entry.intents[0], **entities)}
            )
        if buttons:
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_rephrase")
        return []
