"""Complaint and suggestion tickets: creation, follow-up, staff updates, erasure, throttling.

All database access of the assistant's ticket features goes through :class:`TicketService`.
It takes a session factory (see :mod:`bot.storage.db`), so tests and tools can point it at
any database::

    from bot.storage.db import make_session_factory
    from bot.tickets.service import TicketService

    service = TicketService(make_session_factory())          # DATABASE_URL
    ticket = service.create(kind="complaint", category="consular", ...)

Ownership: users are identified by a pseudonymous ``user_key`` (see
:mod:`bot.tickets.pseudonym`). Anyone holding a reference learns its status and the time
of its last update; only the owner sees the description and the history.

Look-up throttling: after a failed look-up (unknown or malformed reference) call
:meth:`TicketService.record_failed_lookup`; before the next look-up, wait (or ask the user
to wait) :meth:`TicketService.lookup_delay` seconds.

Privacy: logs carry references, codes and lengths, never descriptions, messages or contact
details; exceptions carry field names and reason codes, never values.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from dataclasses import dataclass
from typing import Callable, List, Tuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.storage.db import session_scope
from bot.storage.models import (
    AUTHORS,
    DESCRIPTION_MAX,
    FailedLookup,
    Ticket,
    TicketEvent,
    utcnow,
)
from bot.tickets.errors import (
    NOT_ALLOWED,
    REQUIRED,
    UNCHANGED,
    InvalidInput,
    NotOwner,
    RefCollision,
    TicketClosed,
    TicketNotFound,
)
from bot.tickets.refs import new_ref, normalize_ref
from bot.tickets.validation import (
    clean_text,
    validate_category,
    validate_channel,
    validate_contact,
    validate_description,
    validate_kind,
    validate_language,
    validate_service,
    validate_status,
    validate_text,
    validate_user_key,
)

logger = logging.getLogger(__name__)

#: Time the administration has to answer.
DUE_AFTER = dt.timedelta(days=60)
#: Statuses in which users can no longer add information or cancel.
FINAL_STATUSES = frozenset({"closed", "cancelled"})
#: Event kinds hidden from the ticket's owner (internal staff notes).
INTERNAL_EVENT_KINDS = frozenset({"note"})
#: Fresh references drawn before giving up on collisions.
MAX_REF_ATTEMPTS = 8

#: Failed look-ups are counted over this window.
LOOKUP_WINDOW = dt.timedelta(minutes=10)
#: Failed look-ups allowed in the window without any delay.
FREE_FAILED_LOOKUPS = 3
#: Delay after the first failure over the free ones, doubled at each further failure.
LOOKUP_BASE_DELAY = 2.0
#: Longest delay, in seconds.
LOOKUP_MAX_DELAY = 300.0

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class EventView:
    """One history entry as shown to a ticket's owner.

    Attributes:
        at: When (UTC).
        kind: Event kind (see :data:`bot.storage.models.EVENT_KINDS`).
        author: ``user``, ``staff`` or ``system``.
        old_status: Status before, for status changes.
        new_status: Status after, for status changes.
        text: Message, if any (None once erased).

    """

    at: dt.datetime
    kind: str
    author: str
    old_status: str | None
    new_status: str | None
    text: str | None


@dataclass(frozen=True)
class StatusView:
    """What a look-up returns.

    Everybody gets ``ref``, ``status`` and ``updated_at``; the other fields are filled only
    for the owner (``is_owner``) or staff, and are None/empty otherwise.

    Attributes:
        ref: Canonical reference.
        status: Current status.
        updated_at: Last update (UTC).
        is_owner: The caller's key matches the ticket's (or the view is for staff).
        kind: ``complaint`` or ``suggestion``.
        category: Category code.
        service: Consulate or service concerned.
        created_at: Creation time (UTC).
        due_at: Answer expected before (UTC).
        description: The description (None once erased).
        contact_kind: ``chat``, ``email`` or ``phone`` (the contact itself is not shown).
        history: Events, oldest first, internal notes excluded.

    """

    ref: str
    status: str
    updated_at: dt.datetime
    is_owner: bool = False
    kind: str | None = None
    category: str | None = None
    service: str | None = None
    created_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    description: str | None = None
    contact_kind: str | None = None
    history: Tuple[EventView, ...] = ()


@dataclass(frozen=True)
class TicketSummary:
    """One line of a user's ticket list.

    Attributes:
        ref: Canonical reference.
        kind: ``complaint`` or ``suggestion``.
        category: Category code.
        service: Consulate or service concerned.
        status: Current status.
        created_at: Creation time (UTC).
        updated_at: Last update (UTC).
        due_at: Answer expected before (UTC).

    """

    ref: str
    kind: str
    category: str
    service: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    due_at: dt.datetime


@dataclass(frozen=True)
class ErasureCounts:
    """What :meth:`TicketService.erase_user_data` did.

    Attributes:
        tickets: Tickets whose personal data was erased.
        events: History entries whose text was erased.
        failed_lookups: Throttling records deleted.

    """

    tickets: int
    events: int
    failed_lookups: int


def _same_key(stored: str | None, given: str | None) -> bool:
    """Constant-time comparison of user keys; a missing key never matches."""
    if not stored or not given:
        return False
    return hmac.compare_digest(stored.encode(), given.encode())


def _length(text: str | None) -> int:
    return len(text) if text else 0


class TicketService:
    """Operations on tickets, each in its own transaction.

    Args:
        session_factory: A session factory, e.g. :func:`bot.storage.db.make_session_factory`.
        clock: Returns the current aware UTC time (tests pass a fake clock).
        ref_factory: Draws a new reference (tests pass a colliding one).

    """

    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        clock: Clock = utcnow,
        ref_factory: Callable[[], str] = new_ref,
    ) -> None:
        self._factory = session_factory
        self._clock = clock
        self._ref_factory = ref_factory

    # ------------------------------------------------------------------ helpers

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("clock must return an aware datetime")
        return now.astimezone(dt.timezone.utc)

    @staticmethod
    def _find(session: Session, ref: str, *, for_update: bool = False) -> Ticket | None:
        query = select(Ticket).where(Ticket.ref == ref)
        if for_update:
            query = query.with_for_update()
        return session.execute(query).scalar_one_or_none()

    def _owned(self, session: Session, ref: str, user_key: str) -> Ticket:
        """Load a ticket for a change by its owner, locking its row."""
        canonical = normalize_ref(ref)
        if canonical is None:
            raise TicketNotFound(None)
        ticket = self._find(session, canonical, for_update=True)
        if ticket is None:
            raise TicketNotFound(canonical)
        if not _same_key(ticket.user_key, user_key):
            raise NotOwner(canonical)
        return ticket

    def _staff_ticket(self, session: Session, ref: str) -> Ticket:
        canonical = normalize_ref(ref)
        if canonical is None:
            raise TicketNotFound(None)
        ticket = self._find(session, canonical, for_update=True)
        if ticket is None:
            raise TicketNotFound(canonical)
        return ticket

    @staticmethod
    def _events(session: Session, ticket: Ticket) -> List[TicketEvent]:
        query = (
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
        return list(session.execute(query).scalars())

    def _view(self, session: Session, ticket: Ticket, detailed: bool) -> StatusView:
        if not detailed:
            return StatusView(ref=ticket.ref, status=ticket.status, updated_at=ticket.updated_at)
        history = tuple(
            EventView(
                at=e.at,
                kind=e.kind,
                author=e.author,
                old_status=e.old_status,
                new_status=e.new_status,
                text=e.text,
            )
            for e in self._events(session, ticket)
            if e.kind not in INTERNAL_EVENT_KINDS
        )
        return StatusView(
            ref=ticket.ref,
            status=ticket.status,
            updated_at=ticket.updated_at,
            is_owner=True,
            kind=ticket.kind,
            category=ticket.category,
            service=ticket.service,
            created_at=ticket.created_at,
            due_at=ticket.due_at,
            description=ticket.description,
            contact_kind=ticket.contact_kind,
            history=history,
        )

    def _ref_exists(self, ref: str) -> bool:
        with session_scope(self._factory, readonly=True) as session:
            return self._find(session, ref) is not None

    # ------------------------------------------------------------------ users

    def create(
        self,
        *,
        kind: str,
        category: str,
        description: str,
        user_key: str,
        language: str,
        channel: str,
        consent: bool,
        contact_kind: str = "chat",
        contact: str | None = None,
        service: str | None = None,
    ) -> Ticket:
        """Validate and store a new ticket with a fresh unique reference.

        All text is stored as plain text, verbatim after trimming and removal of control
        characters (HTML or SQL in it is neither interpreted nor escaped). A description
        over 5,000 characters is **rejected** (``InvalidInput("description", "too_long")``),
        never truncated. If the drawn reference is already taken, another one is drawn.

        Args:
            kind: ``complaint`` or ``suggestion``.
            category: One of :data:`bot.storage.models.CATEGORIES`.
            description: The user's text: at least 3 words, at most 5,000 characters.
            user_key: Pseudonymous key of the user (64 hex characters).
            language: Language variety of the conversation (:data:`bot.settings.LANGUAGES`).
            channel: Channel name (``rest``, ``socketio``...).
            consent: The user agreed to the storage; must be True.
            contact_kind: ``chat`` (answer in the conversation), ``email`` or ``phone``.
            contact: E-mail address or phone number (``+`` and 8-15 digits; spaces and
                dashes are removed); must be empty for ``chat``.
            service: Consulate or service concerned (optional, at most 200 characters).

        Returns:
            The stored ticket (detached from its session; its ``events`` are loaded).

        Raises:
            InvalidInput: An argument was refused (see ``field`` and ``reason``).
            RefCollision: No free reference after several draws (should never happen).

        """
        kind = validate_kind(kind)
        category = validate_category(category)
        description = validate_description(description)
        user_key = validate_user_key(user_key)
        language = validate_language(language)
        channel = validate_channel(channel)
        contact = validate_contact(contact_kind, contact)
        service = validate_service(service)
        if consent is not True:
            raise InvalidInput("consent", REQUIRED)

        for attempt in range(1, MAX_REF_ATTEMPTS + 1):
            ref = self._ref_factory()
            now = self._now()
            ticket = Ticket(
                ref=ref,
                kind=kind,
                category=category,
                service=service,
                description=description,
                language=language,
                channel=channel,
                user_key=user_key,
                contact_kind=contact_kind,
                contact=contact,
                consent=True,
                status="open",
                created_at=now,
                updated_at=now,
                due_at=now + DUE_AFTER,
            )
            ticket.events.append(
                TicketEvent(at=now, kind="created", new_status="open", author="user")
            )
            try:
                with session_scope(self._factory) as session:
                    session.add(ticket)
            except IntegrityError:
                if not self._ref_exists(ref):
                    raise
                logger.warning("ticket reference collision (attempt %d), drawing again", attempt)
                continue
            logger.info(
                "ticket %s created: kind=%s category=%s language=%s channel=%s "
                "contact_kind=%s description_len=%d service_len=%d",
                ticket.ref,
                kind,
                category,
                language,
                channel,
                contact_kind,
                len(description),
                _length(service),
            )
            return ticket
        raise RefCollision(f"no free reference after {MAX_REF_ATTEMPTS} attempts")

    def status(self, ref: str, user_key: str | None = None) -> StatusView | None:
        """Look a ticket up.

        Anybody gets the status and the time of the last update; the owner (matching
        ``user_key``) also gets the details and the history.

        Args:
            ref: Reference as typed by the user (normalised with
                :func:`bot.tickets.refs.normalize_ref`).
            user_key: The caller's key, or None.

        Returns:
            The view, or None when the reference is malformed or unknown (then call
            :meth:`record_failed_lookup`).

        """
        canonical = normalize_ref(ref)
        if canonical is None:
            logger.info("ticket look-up: malformed reference (length %d)", _length(ref))
            return None
        with session_scope(self._factory, readonly=True) as session:
            ticket = self._find(session, canonical)
            if ticket is None:
                logger.info("ticket look-up: %s not found", canonical)
                return None
            owner = _same_key(ticket.user_key, user_key)
            logger.info("ticket look-up: %s found (owner=%s)", canonical, owner)
            return self._view(session, ticket, detailed=owner)

    def add_info(self, ref: str, user_key: str, text: str) -> StatusView:
        """Add a message from the owner to an open ticket.

        The status does not change (staff see the message in the history); the last update
        time does.

        Args:
            ref: The ticket's reference.
            user_key: The caller's key; must be the owner's.
            text: The message: at least one word, at most 5,000 characters (longer is
                rejected, not truncated).

        Returns:
            The owner's view of the ticket after the change.

        Raises:
            InvalidInput: ``field="text"``: empty, no words, or too long.
            TicketNotFound: Unknown or malformed reference.
            NotOwner: The ticket belongs to someone else.
            TicketClosed: The ticket is closed or cancelled.

        """
        text = validate_text(text, "text", min_words=1, max_length=DESCRIPTION_MAX)
        with session_scope(self._factory) as session:
            ticket = self._owned(session, ref, user_key)
            if ticket.status in FINAL_STATUSES:
                raise TicketClosed(ticket.ref, ticket.status)
            now = self._now()
            session.add(
                TicketEvent(
                    ticket_id=ticket.id, at=now, kind="user_message", text=text, author="user"
                )
            )
            ticket.updated_at = now
            session.flush()
            logger.info("ticket %s: user message added (len %d)", ticket.ref, len(text))
            return self._view(session, ticket, detailed=True)

    def cancel(self, ref: str, user_key: str) -> StatusView:
        """Cancel a ticket at its owner's request.

        Args:
            ref: The ticket's reference.
            user_key: The caller's key; must be the owner's.

        Returns:
            The owner's view of the cancelled ticket.

        Raises:
            TicketNotFound: Unknown or malformed reference.
            NotOwner: The ticket belongs to someone else.
            TicketClosed: The ticket is already closed or cancelled.

        """
        with session_scope(self._factory) as session:
            ticket = self._owned(session, ref, user_key)
            if ticket.status in FINAL_STATUSES:
                raise TicketClosed(ticket.ref, ticket.status)
            now = self._now()
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="cancelled",
                    old_status=ticket.status,
                    new_status="cancelled",
                    author="user",
                )
            )
            ticket.status = "cancelled"
            ticket.updated_at = now
            session.flush()
            logger.info("ticket %s cancelled by its owner", ticket.ref)
            return self._view(session, ticket, detailed=True)

    def list_for_user(self, user_key: str, *, limit: int = 50) -> List[TicketSummary]:
        """List a user's tickets, newest first.

        Args:
            user_key: The user's key.
            limit: Most tickets returned.

        Returns:
            The summaries (empty for an unknown or invalid key).

        """
        if not user_key:
            return []
        with session_scope(self._factory, readonly=True) as session:
            query = (
                select(Ticket)
                .where(Ticket.user_key == user_key)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .limit(limit)
            )
            return [
                TicketSummary(
                    ref=t.ref,
                    kind=t.kind,
                    category=t.category,
                    service=t.service,
                    status=t.status,
                    created_at=t.created_at,
                    updated_at=t.updated_at,
                    due_at=t.due_at,
                )
                for t in session.execute(query).scalars()
            ]

    def erase_user_data(self, user_key: str) -> ErasureCounts:
        """Erase a user's personal data ("forget me"), keeping anonymous statistics.

        For each of the user's tickets: description, contact and service become NULL,
        every history text becomes NULL, the ticket is unlinked from ``user_key`` and a
        ``data_erased`` event is recorded. Kind, category, status, language, channel and
        dates are kept. The user's throttling records are deleted. Calling it again
        does nothing.

        Args:
            user_key: The user's key.

        Returns:
            How many tickets, event texts and throttling records were affected.

        """
        if not user_key:
            return ErasureCounts(0, 0, 0)
        now = self._now()
        with session_scope(self._factory) as session:
            ids = list(
                session.execute(
                    select(Ticket.id).where(Ticket.user_key == user_key).with_for_update()
                ).scalars()
            )
            events = 0
            if ids:
                events = session.execute(
                    update(TicketEvent)
                    .where(TicketEvent.ticket_id.in_(ids), TicketEvent.text.is_not(None))
                    .values(text=None)
                    .execution_options(synchronize_session=False)
                ).rowcount
                session.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(ids))
                    .values(
                        description=None,
                        contact=None,
                        service=None,
                        user_key=None,
                        erased_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                session.add_all(
                    TicketEvent(ticket_id=i, at=now, kind="data_erased", author="user") for i in ids
                )
            lookups = session.execute(
                delete(FailedLookup)
                .where(FailedLookup.user_key == user_key)
                .execution_options(synchronize_session=False)
            ).rowcount
        logger.info(
            "user data erased: %d tickets, %d event texts, %d failed look-ups",
            len(ids),
            events,
            lookups,
        )
        return ErasureCounts(tickets=len(ids), events=events, failed_lookups=lookups)

    # ------------------------------------------------------------------ throttling

    def record_failed_lookup(self, user_key: str) -> None:
        """Remember that a user looked up a reference that does not exist.

        Records older than the counting window are purged at the same time.

        Args:
            user_key: The user's key.

        """
        if not user_key:
            return
        now = self._now()
        with session_scope(self._factory) as session:
            session.execute(
                delete(FailedLookup)
                .where(FailedLookup.at < now - LOOKUP_WINDOW)
                .execution_options(synchronize_session=False)
            )
            session.add(FailedLookup(user_key=user_key, at=now))
        logger.info("failed ticket look-up recorded")

    @staticmethod
    def penalty(failures: int) -> float:
        """Delay imposed after ``failures`` failed look-ups within the window.

        Args:
            failures: Failed look-ups in the last 10 minutes.

        Returns:
            0 up to 3 failures, then 2, 4, 8... seconds, at most 300.

        """
        if failures <= FREE_FAILED_LOOKUPS:
            return 0.0
        exponent = min(failures - FREE_FAILED_LOOKUPS - 1, 16)
        return float(min(LOOKUP_BASE_DELAY * 2**exponent, LOOKUP_MAX_DELAY))

    def lookup_delay(self, user_key: str) -> float:
        """Seconds the user must wait before the next ticket look-up.

        Counts the failed look-ups of the last 10 minutes: none of the first 3 imposes a
        wait; after that the penalty (:meth:`penalty`) grows with each failure and is
        counted from the last failure, so the wait shrinks as time passes.

        Args:
            user_key: The user's key.

        Returns:
            Seconds to wait, 0.0 when a look-up is allowed now.

        """
        if not user_key:
            return 0.0
        now = self._now()
        with session_scope(self._factory, readonly=True) as session:
            count, last = session.execute(
                select(func.count(FailedLookup.id), func.max(FailedLookup.at)).where(
                    FailedLookup.user_key == user_key, FailedLookup.at >= now - LOOKUP_WINDOW
                )
            ).one()
        penalty = self.penalty(int(count or 0))
        if penalty == 0.0 or last is None:
            return 0.0
        if isinstance(last, str):  # SQLite returns max() of a DATETIME column as text
            last = dt.datetime.fromisoformat(last)
        if last.tzinfo is None:
            last = last.replace(tzinfo=dt.timezone.utc)
        remaining = (last + dt.timedelta(seconds=penalty) - now).total_seconds()
        return max(0.0, remaining)

    # ------------------------------------------------------------------ staff

    def get(self, ref: str) -> Ticket | None:
        """Load a ticket with its full history, for staff tools (contact included).

        Args:
            ref: The reference.

        Returns:
            The detached ticket with ``events`` loaded, or None.

        """
        canonical = normalize_ref(ref)
        if canonical is None:
            return None
        with session_scope(self._factory, readonly=True) as session:
            query = (
                select(Ticket).where(Ticket.ref == canonical).options(selectinload(Ticket.events))
            )
            return session.execute(query).scalar_one_or_none()

    def set_status(
        self, ref: str, new_status: str, note: str | None = None, author: str = "staff"
    ) -> StatusView:
        """Change a ticket's status, or add an internal note, on behalf of staff.

        With a status different from the current one, a ``status_change`` event is stored,
        with ``note`` as its text (the owner sees it in the history). With the same status
        and a note, an internal ``note`` event is stored (hidden from the owner). A
        cancelled ticket cannot change any more.

        Args:
            ref: The reference.
            new_status: One of :data:`bot.storage.models.STATUSES`.
            note: Optional text (plain text, at most 5,000 characters).
            author: ``staff`` or ``system``.

        Returns:
            The full view of the ticket after the change.

        Raises:
            InvalidInput: Bad status, author or note; or ``status``/``unchanged`` for the
                same status without a note.
            TicketNotFound: Unknown or malformed reference.
            TicketClosed: The ticket was cancelled.

        """
        new_status = validate_status(new_status)
        if author not in AUTHORS or author == "user":
            raise InvalidInput("author", NOT_ALLOWED)
        text = None
        if clean_text(note):
            text = validate_text(note, "note", min_words=1, max_length=DESCRIPTION_MAX)
        with session_scope(self._factory) as session:
            ticket = self._staff_ticket(session, ref)
            old_status = ticket.status
            if old_status == "cancelled":
                raise TicketClosed(ticket.ref, old_status)
            if new_status == old_status and text is None:
                raise InvalidInput("status", UNCHANGED)
            now = self._now()
            changed = new_status != old_status
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="status_change" if changed else "note",
                    old_status=old_status if changed else None,
                    new_status=new_status if changed else None,
                    text=text,
                    author=author,
                )
            )
            if changed:
                ticket.status = new_status
                ticket.updated_at = now
            session.flush()
            logger.info(
                "ticket %s: %s -> %s by %s (note len %d)",
                ticket.ref,
                old_status,
                new_status,
                author,
                _length(text),
            )
            return self._view(session, ticket, detailed=True)

    def reply(
        self, ref: str, text: str, *, author: str = "staff", new_status: str = "answered"
    ) -> StatusView:
        """Record an answer to the user (visible in their history) and update the status.

        Args:
            ref: The reference.
            text: The answer (plain text, at most 5,000 characters).
            author: ``staff`` or ``system``.
            new_status: Status after the answer, ``answered`` by default.

        Returns:
            The full view of the ticket after the change.

        Raises:
            InvalidInput: Bad text, status or author.
            TicketNotFound: Unknown or malformed reference.
            TicketClosed: The ticket was cancelled.

        """
        text = validate_text(text, "text", min_words=1, max_length=DESCRIPTION_MAX)
        new_status = validate_status(new_status)
        if author not in AUTHORS or author == "user":
            raise InvalidInput("author", NOT_ALLOWED)
        with session_scope(self._factory) as session:
            ticket = self._staff_ticket(session, ref)
            if ticket.status == "cancelled":
                raise TicketClosed(ticket.ref, ticket.status)
            now = self._now()
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="staff_reply",
                    old_status=ticket.status,
                    new_status=new_status,
                    text=text,
                    author=author,
                )
            )
            old_status = ticket.status
            ticket.status = new_status
            ticket.updated_at = now
            session.flush()
            logger.info(
                "ticket %s: reply by %s (len %d), %s -> %s",
                ticket.ref,
                author,
                len(text),
                old_status,
                new_status,
            )
            return self._view(session, ticket, detailed=True)
