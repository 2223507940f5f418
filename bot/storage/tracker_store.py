"""Rasa's SQL tracker store, plus real erasure of a conversation ("delete my data").

Rasa keeps every event of a conversation (messages, slots, bot answers) in its tracker
store; a ``Restarted`` event only starts the conversation afresh *on top of* the stored
history. :class:`ErasableSQLTrackerStore` is the stock ``SQLTrackerStore`` except for one
thing: when it saves a tracker in which the erasure action (``action_delete_my_data``)
has just run and returned ``Restarted``, it first deletes **every stored event of that
sender** (all sessions), and stores nothing of that turn either. The next message of that
sender starts a brand-new conversation.

Doing it here, in the Rasa process, at save time, avoids the race an action server would
have: Rasa saves the turn's events right after the action returns, so rows deleted by the
action server would be written back.

Configure it in ``endpoints.yml``::

    tracker_store:
      type: bot.storage.tracker_store.ErasableSQLTrackerStore
      dialect: sqlite
      db: var/tracker.db

What it does not erase: copies outside the tracker store (an event broker, Rasa X/Studio,
server logs at DEBUG level, backups).
"""

from __future__ import annotations

import logging
from typing import Any, List, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, Event, Restarted
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

#: The action whose ``Restarted`` means "forget this conversation".
ERASE_ACTION = "action_delete_my_data"


def erasure_point(events: List[Event]) -> Optional[int]:
    """Index of the ``Restarted`` that the latest erasure action returned, if any.

    Args:
        events: A tracker's events, oldest first.

    Returns:
        The index of the ``Restarted`` event that follows the last ``ActionExecuted`` of
        :data:`ERASE_ACTION` (before any other action), or None.
    """
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION:
            for later in range(index + 1, len(events)):
                if isinstance(events[later], Restarted):
                    return later
                if isinstance(events[later], ActionExecuted):
                    return None
            return None
    return None


class ErasableSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that deletes a sender's whole history after the erasure action."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Same arguments as :class:`rasa.core.tracker_store.SQLTrackerStore`."""
        super().__init__(*args, **kwargs)

    def _stored_count(self, sender_id: str) -> int:
        with self.session_scope() as session:
            return int(
                self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            )

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of ``sender_id`` (all sessions).

        Args:
            sender_id: The conversation id.

        Returns:
            The number of deleted rows.
        """
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return int(deleted or 0)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save as usual, or erase the stored conversation if the user just asked to."""
        events = list(tracker.events)
        restart = erasure_point(events)
        if restart is None or restart < self._stored_count(tracker.sender_id):
            await super().save(tracker)
            return
        deleted = self.delete_conversation(tracker.sender_id)
        logger.info("conversation erased at the user's request (%d stored events)", deleted)
        # Nothing after the restart is kept either: the next message starts a new conversation.
