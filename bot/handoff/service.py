"""Escalated conversations: creation, queue order and routing, and the agents' actions.

:class:`HandoffService` takes a session factory (:mod:`bot.storage.db`), like the ticket
service, so tests and tools can point it at any database. Each method is one transaction.

Queue order: high priority first, then the longest waiting. The position a user is told is
their rank in that order among waiting conversations. Agents see the same queue, but those
in their languages first, then those on their topics (:meth:`HandoffService.queue`), and
"next" gives them the first of that order (:meth:`HandoffService.next_for`).

Privacy: ``recipient_id`` (the channel's raw id, for pushing replies) is only kept while the
handoff is open; closing or handing back erases it. ``sender_id`` stays, as it does in Rasa's
tracker store, so supervisors can read the transcript of a closed handoff. Logs carry
references and codes only.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.storage.db import session_scope
from bot.storage.handoff_models import (
    OPEN_HANDOFF_STATUSES,
    Handoff,
    Rating,
    StaffMember,
)
from bot.storage.models import utcnow
from bot.tickets.refs import ALPHABET

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

#: Prefix of handoff references (ticket references start with ``MDM-``).
REF_PREFIX = "H"


def new_handoff_ref() -> str:
    """Draw a random handoff reference ``H-XXXX-XXXX`` (Crockford base 32, 40 bits)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{REF_PREFIX}-{body[:4]}-{body[4:]}"


class HandoffError(Exception):
    """An agent's action is not possible; ``code`` says why (for messages and tests)."""

    def __init__(self, code: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {ref}")
        self.code = code
        self.ref = ref


@dataclass(frozen=True)
class Escalation:
    """What :meth:`HandoffService.escalate` did.

    Attributes:
        handoff: The open handoff of the conversation (new or existing).
        position: Rank in the queue (1 = next), 0 when an agent already has it.
        created: False when the conversation was already escalated.

    """

    handoff: Handoff
    position: int
    created: bool


def _sort_key(handoff: Handoff) -> tuple:
    return (handoff.priority != "high", handoff.created_at, handoff.id)


def routing_key(handoff: Handoff, languages: Sequence[str], topics: Sequence[str]) -> tuple:
    """Order of the queue for an agent: urgent, their languages, their topics, oldest.

    Args:
        handoff: A waiting handoff.
        languages: The agent's varieties.
        topics: The agent's topics (empty: any).

    Returns:
        A sort key; smaller comes first.

    """
    return (
        handoff.priority != "high",
        bool(languages) and handoff.language not in languages,
        bool(topics) and (handoff.topic or "") not in topics,
        handoff.created_at,
        handoff.id,
    )


class HandoffService:
    """Operations on handoffs.

    Args:
        session_factory: A session factory (:func:`bot.storage.db.get_session_factory`).
        clock: Returns the current aware UTC time (tests pass a fake clock).

    """

    def __init__(self, session_factory: sessionmaker, *, clock: Clock = utcnow) -> None:
        self._factory = session_factory
        self._clock = clock

    def now(self) -> dt.datetime:
        """The service's current time (UTC)."""
        return self._clock().astimezone(dt.timezone.utc)

    # ------------------------------------------------------------------ the assistant

    def escalate(
        self,
        *,
        sender_id: str,
        channel: str,
        language: str,
        user_key: str | None = None,
        recipient_id: str | None = None,
        topic: str | None = None,
        priority: str = "normal",
        reason: str = "asked",
    ) -> Escalation:
        """Put a conversation in the queue, or return its open handoff.

        A second request while one is open creates nothing; an urgent one raises the
        priority of the open handoff.

        Args:
            sender_id: Rasa's conversation id.
            channel: Input channel name.
            language: Conversation variety.
            user_key: Pseudonym of the user.
            recipient_id: The channel's id of the user (defaults to ``sender_id``).
            topic: Knowledge entry or intent the conversation is about.
            priority: ``normal`` or ``high``.
            reason: ``asked``, ``fallback`` or ``urgent``.

        Returns:
            The escalation.

        """
        for _attempt in range(5):
            now = self.now()
            try:
                with session_scope(self._factory) as session:
                    existing = session.execute(
                        select(Handoff)
                        .where(
                            Handoff.sender_id == sender_id,
                            Handoff.status.in_(OPEN_HANDOFF_STATUSES),
                        )
                        .order_by(Handoff.id.desc())
                        .with_for_update()
                    ).scalar_one_or_none()
                    if existing is not None:
                        if priority == "high" and existing.priority != "high":
                            existing.priority = "high"
                            existing.reason = reason
                        if topic and not existing.topic:
                            existing.topic = topic[:64]
                        session.flush()
                        handoff, created = existing, False
                    else:
                        handoff = Handoff(
                            ref=new_handoff_ref(),
                            sender_id=sender_id,
                            recipient_id=recipient_id or sender_id,
                            user_key=user_key,
                            channel=channel[:32],
                            language=language,
                            topic=topic[:64] if topic else None,
                            priority=priority,
                            reason=reason,
                            status="waiting",
                            created_at=now,
                            last_user_at=now,
                        )
                        session.add(handoff)
                        session.flush()
                        created = True
                    position = self._position(session, handoff)
            except IntegrityError:
                continue  # a reference collision: draw again
            logger.info(
                "handoff %s %s: channel=%s language=%s priority=%s reason=%s position=%d",
                handoff.ref,
                "created" if created else "repeated",
                channel,
                language,
                handoff.priority,
                reason,
                position,
            )
            return Escalation(handoff=handoff, position=position, created=created)
        raise RuntimeError("no free handoff reference")

    def _position(self, session, handoff: Handoff) -> int:  # type: ignore[no-untyped-def]
        if handoff.status != "waiting":
            return 0
        waiting = list(
            session.execute(select(Handoff).where(Handoff.status == "waiting")).scalars()
        )
        waiting.sort(key=_sort_key)
        return 1 + next(i for i, h in enumerate(waiting) if h.id == handoff.id)

    def position(self, ref: str) -> int:
        """Rank of a waiting handoff in the queue (1 = next), 0 if it is not waiting."""
        with session_scope(self._factory, readonly=True) as session:
            handoff = self._get(session, ref)
            return self._position(session, handoff)

    def open_for_sender(self, sender_id: str) -> Handoff | None:
        """The open handoff of a conversation, if any."""
        with session_scope(self._factory, readonly=True) as session:
            return session.execute(
                select(Handoff)
                .where(Handoff.sender_id == sender_id, Handoff.status.in_(OPEN_HANDOFF_STATUSES))
                .order_by(Handoff.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    def add_rating(self, *, rating: int, channel: str, language: str, user_key: str | None) -> None:
        """Store a user's 1-5 mark of the conversation.

        Raises:
            ValueError: If ``rating`` is not 1 to 5.

        """
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError("rating must be 1..5")
        with session_scope(self._factory) as session:
            session.add(
                Rating(
                    at=self.now(),
                    rating=rating,
                    channel=channel[:32],
                    language=language,
                    user_key=user_key,
                )
            )
        logger.info("rating %d recorded (channel=%s language=%s)", rating, channel, language)

    def erase_user(self, sender_id: str, user_key: str | None) -> int:
        """Forget who a user is ("delete my data"): unlink their handoffs and ratings.

        The conversation ids, channel ids and pseudonyms become NULL (an open handoff is
        closed, since nobody could answer it); priority, language, topic and timings stay
        for the statistics.

        Args:
            sender_id: Rasa's conversation id.
            user_key: The user's pseudonym, if known.

        Returns:
            The number of handoffs unlinked.

        """
        now = self.now()
        with session_scope(self._factory) as session:
            query = select(Handoff).where(Handoff.sender_id == sender_id)
            if user_key:
                query = select(Handoff).where(
                    (Handoff.sender_id == sender_id) | (Handoff.user_key == user_key)
                )
            handoffs = list(session.execute(query.with_for_update()).scalars())
            for handoff in handoffs:
                if handoff.status in OPEN_HANDOFF_STATUSES:
                    handoff.status = "closed"
                    handoff.closed_at = now
                handoff.sender_id = None
                handoff.recipient_id = None
                handoff.user_key = None
            if user_key:
                for rating in session.execute(
                    select(Rating).where(Rating.user_key == user_key)
                ).scalars():
                    rating.user_key = None
        logger.info("handoff data erased: %d handoffs unlinked", len(handoffs))
        return len(handoffs)

    # ------------------------------------------------------------------ the console

    @staticmethod
    def _get(session, ref: str, *, for_update: bool = False) -> Handoff:  # type: ignore[no-untyped-def]
        query = select(Handoff).where(Handoff.ref == ref)
        if for_update:
            query = query.with_for_update()
        handoff = session.execute(query).scalar_one_or_none()
        if handoff is None:
            raise HandoffError("not_found", ref)
        return handoff

    def get(self, ref: str) -> Handoff | None:
        """A handoff by reference, or None."""
        with session_scope(self._factory, readonly=True) as session:
            try:
                return self._get(session, ref)
            except HandoffError:
                return None

    def queue(
        self,
        *,
        statuses: Iterable[str] = OPEN_HANDOFF_STATUSES,
        language: str | None = None,
        topic: str | None = None,
        priority: str | None = None,
        channel: str | None = None,
        min_wait: dt.timedelta | None = None,
        agent: StaffMember | None = None,
        limit: int = 200,
    ) -> List[Handoff]:
        """Handoffs matching the filters, in routing order for ``agent`` (or queue order).

        Args:
            statuses: Statuses to show (open ones by default).
            language: Only this variety.
            topic: Only this topic.
            priority: Only this priority.
            channel: Only this channel.
            min_wait: Only those created at least this long ago.
            agent: Order for this agent (their languages and topics first).
            limit: Most rows.

        Returns:
            The handoffs.

        """
        query = select(Handoff).where(Handoff.status.in_(list(statuses)))
        if language:
            query = query.where(Handoff.language == language)
        if topic:
            query = query.where(Handoff.topic == topic)
        if priority:
            query = query.where(Handoff.priority == priority)
        if channel:
            query = query.where(Handoff.channel == channel)
        if min_wait is not None:
            query = query.where(Handoff.created_at <= self.now() - min_wait)
        with session_scope(self._factory, readonly=True) as session:
            rows = list(session.execute(query.order_by(Handoff.id.desc()).limit(limit)).scalars())
        languages = agent.language_list if agent is not None else []
        topics = agent.topic_list if agent is not None else []
        rows.sort(key=lambda h: routing_key(h, languages, topics))
        return rows

    def next_for(self, agent: StaffMember) -> Handoff | None:
        """The waiting handoff ``agent`` should take next, if any."""
        rows = self.queue(statuses=("waiting",), agent=agent, limit=1000)
        return rows[0] if rows else None

    def counts(self) -> Dict[str, int]:
        """Live counts: ``waiting``, ``active``, ``high`` (open, high priority)."""
        with session_scope(self._factory, readonly=True) as session:
            rows = session.execute(
                select(Handoff.status, Handoff.priority, func.count(Handoff.id))
                .where(Handoff.status.in_(OPEN_HANDOFF_STATUSES))
                .group_by(Handoff.status, Handoff.priority)
            ).all()
        counts = {"waiting": 0, "active": 0, "high": 0}
        for status, priority, n in rows:
            counts[status] += n
            if priority == "high":
                counts["high"] += n
        return counts

    def take(self, ref: str, staff_id: int) -> Handoff:
        """Assign a waiting (or someone else's, for a supervisor's take-over) handoff.

        Raises:
            HandoffError: ``not_found``, or ``closed`` when it already ended.

        """
        with session_scope(self._factory) as session:
            handoff = self._get(session, ref, for_update=True)
            if handoff.status not in OPEN_HANDOFF_STATUSES:
                raise HandoffError("closed", ref)
            handoff.status = "active"
            handoff.assigned_to = staff_id
            handoff.taken_at = handoff.taken_at or self.now()
            session.flush()
        logger.info("handoff %s taken by staff %d", ref, staff_id)
        return handoff

    def transfer(self, ref: str, to_staff_id: Optional[int]) -> Handoff:
        """Give a handoff to another agent, or put it back in the queue (``None``).

        Raises:
            HandoffError: ``not_found``, ``closed``, or ``no_such_agent``.

        """
        with session_scope(self._factory) as session:
            handoff = self._get(session, ref, for_update=True)
            if handoff.status not in OPEN_HANDOFF_STATUSES:
                raise HandoffError("closed", ref)
            if to_staff_id is None:
                handoff.status = "waiting"
                handoff.assigned_to = None
            else:
                target = session.get(StaffMember, to_staff_id)
                if target is None or not target.active:
                    raise HandoffError("no_such_agent", ref)
                handoff.status = "active"
                handoff.assigned_to = to_staff_id
            session.flush()
        logger.info("handoff %s transferred to %s", ref, to_staff_id or "the queue")
        return handoff

    def replied(self, ref: str) -> None:
        """Note a staff reply (first reply time, for the waiting-time figures)."""
        with session_scope(self._factory) as session:
            handoff = self._get(session, ref, for_update=True)
            handoff.first_reply_at = handoff.first_reply_at or self.now()

    def user_seen(self, ref: str, at: dt.datetime) -> None:
        """Note the time of the last user message seen in the transcript."""
        with session_scope(self._factory) as session:
            handoff = self._get(session, ref, for_update=True)
            if handoff.last_user_at is None or at > handoff.last_user_at:
                handoff.last_user_at = at

    def finish(self, ref: str, status: str) -> Handoff:
        """Close (``closed``) or hand back to the bot (``returned``); erases ``recipient_id``.

        Returns:
            The handoff as it was before the erasure of its ids (so the caller can still
            notify the user).

        Raises:
            HandoffError: ``not_found`` or ``closed``.

        """
        if status not in ("closed", "returned"):
            raise ValueError(status)
        with session_scope(self._factory) as session:
            handoff = self._get(session, ref, for_update=True)
            if handoff.status not in OPEN_HANDOFF_STATUSES:
                raise HandoffError("closed", ref)
            before = Handoff(
                ref=handoff.ref,
                sender_id=handoff.sender_id,
                recipient_id=handoff.recipient_id,
                channel=handoff.channel,
                language=handoff.language,
                status=handoff.status,
            )
            handoff.status = status
            handoff.closed_at = self.now()
            handoff.recipient_id = None
        logger.info("handoff %s %s", ref, status)
        return before
