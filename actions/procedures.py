"""Answers about procedures, all taken from the knowledge base (``bot.knowledge``)."""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import conversation_language, latest_entity, latest_intent, send
from bot.knowledge import DETAIL_FIELDS, Entry, default_kb
from bot.knowledge.render import render_detail, render_summary, variant_buttons
from bot.knowledge.search import default_search, rank_entries

#: How much better the best variant must score (its specific part and its words) than the
#: next one to answer without asking which case the user means.
CLEAR_WINNER_RATIO = 1.2


def pick_variant(entries: List[Entry], text: str, variant: Optional[str]) -> Optional[Entry]:
    """The entry among ``entries`` that the user means, or None if it is unclear.

    Args:
        entries: The entries of one intent (several when the intent has variants).
        text: What the user wrote.
        variant: A variant chosen explicitly (button payload), if any.
    """
    if len(entries) == 1:
        return entries[0]
    if variant:
        for entry in entries:
            if entry.variant == variant:
                return entry
    hits = rank_entries(default_search(), text, [e.id for e in entries])
    if not hits:
        return None
    if len(hits) == 1:
        return hits[0].entry
    # Variants of one intent share the intent's probability: only the specific part differs.
    # The entry model is sure of itself even on "help with my passport", so the user's own
    # words must point to the same variant too; otherwise one question is cheaper than a
    # wrong answer.
    by_specific = sorted(hits, key=lambda h: h.specific, reverse=True)
    by_words = sorted(hits, key=lambda h: h.lexical, reverse=True)
    best = by_specific[0]
    if (
        best.entry.id == by_words[0].entry.id
        and best.specific >= CLEAR_WINNER_RATIO * by_specific[1].specific
        and best.lexical > 0
        and best.lexical >= CLEAR_WINNER_RATIO * by_words[1].lexical
    ):
        return best.entry
    return None


class ActionAnswerProcedure(Action):
    """Answer a procedure or support intent from its knowledge-base entry."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_answer_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Summary and detail buttons; or one question when the case is unclear."""
        lang = conversation_language(tracker)
        intent = latest_intent(tracker) or ""
        entries = default_kb().for_intent(intent)
        if not entries:
            dispatcher.utter_message(response="utter_no_entry")
            return []
        text = (tracker.latest_message or {}).get("text") or ""
        # A button payload names the intent, not the case: only a variant entity decides then.
        entry = pick_variant(
            entries, "" if text.startswith("/") else text, latest_entity(tracker, "variant")
        )
        if entry is None:
            dispatcher.utter_message(
                response="utter_ask_procedure_variant",
                buttons=variant_buttons(entries, lang, intent),
            )
            return []
        send(dispatcher, render_summary(entry, lang))
        if entry.urgent:
            # Urgent topics go to a person at once, with high priority (actions/handoff.py).
            return [SlotSet("kb_entry", entry.id), FollowupAction("action_handoff")]
        return [SlotSet("kb_entry", entry.id)]


class ActionAnswerDetail(Action):
    """Answer a follow-up ("and the fees?") about the entry explained last."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_answer_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """The asked detail of ``kb_entry``, or the summary when no detail was named."""
        lang = conversation_language(tracker)
        entry_id = tracker.get_slot("kb_entry")
        entry = default_kb().get(entry_id) if entry_id else None
        if entry is None:
            dispatcher.utter_message(response="utter_ask_which_procedure")
            return []
        detail = latest_entity(tracker, "detail")
        if detail in DETAIL_FIELDS:
            send(dispatcher, render_detail(entry, lang, detail))
        else:
            send(dispatcher, render_summary(entry, lang))
        return []
