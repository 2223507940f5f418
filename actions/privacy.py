"""``delete_my_data``: erase the user's ticket data and this conversation's history.

What is erased (after the user confirmed, see ``data/rules/tickets.yml``):

* in our database (:meth:`bot.tickets.service.TicketService.erase_user_data`): the
  description, service and contact of every ticket of this user, the text of their
  history, the link between the tickets and the user's pseudonymous key, and the user's
  failed look-up records; their handoffs and ratings are unlinked from them
  (:meth:`bot.handoff.service.HandoffService.erase_user`);
* in Rasa: the conversation is restarted (``Restarted``, all slots emptied) and, with the
  tracker store of ``endpoints.yml`` (:class:`bot.storage.tracker_store.ErasableSQLTrackerStore`),
  every stored event of this conversation is deleted when Rasa saves this turn.

What is kept: anonymous statistics of the tickets (kind, category, status, language,
channel, dates) and their references, which no longer lead to the user. Not reached from
here: server logs, backups, and any other tracker store (with Rasa's plain SQL or in-memory
store, ``Restarted`` only hides the history from the conversation).
"""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import handoff_service
from actions.tickets import ticket_service, user_key_of

logger = logging.getLogger(__name__)


class ActionDeleteMyData(Action):
    """Erase what we hold about the user, then forget the conversation."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Erase ticket data, say what was erased, restart (the tracker store deletes)."""
        try:
            counts = ticket_service().erase_user_data(user_key_of(tracker))
            # Handoffs and ratings are unlinked from the user too (statistics stay).
            handoff_service().erase_user(tracker.sender_id, user_key_of(tracker))
        except Exception as error:  # noqa: BLE001 - database down: erase nothing, say so
            logger.error("user data not erased: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_data_delete_failed")
            return []
        dispatcher.utter_message(response="utter_data_deleted", tickets=counts.tickets)
        return [AllSlotsReset(), Restarted()]
