"""Tables of the human handoff and the staff console.

They live on the same ``metadata`` as the ticket tables (:mod:`bot.storage.models`), so one
Alembic history migrates everything; ``migrations/env.py`` imports this module for that.

* ``staff``, ``staff_sessions``: console accounts (Argon2 hashes, never passwords) and their
  server-side sessions (only a SHA-256 of the cookie's token is stored).
* ``audit_log``: one row per staff action (who, what, on which reference); never message text.
* ``handoffs``: conversations escalated to a person, with their queue state. ``recipient_id``
  is the channel's raw id of the user, needed to push staff replies; it is erased when the
  handoff is closed or handed back (``user_key``, a pseudonym, stays for statistics).
* ``ratings``: the 1-5 marks users give at the end of a conversation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)

from bot.storage.models import Base, UTCDateTime, _in, utcnow

#: Console roles: agents handle conversations and tickets, supervisors also see the
#: dashboard, the audit log and the staff list.
ROLES: tuple[str, ...] = ("agent", "supervisor")
#: Life of a handoff: waiting in the queue, taken by an agent, then closed or handed back.
HANDOFF_STATUSES: tuple[str, ...] = ("waiting", "active", "closed", "returned")
#: Statuses in which a handoff still belongs to the queue or to an agent.
OPEN_HANDOFF_STATUSES: tuple[str, ...] = ("waiting", "active")
#: Priorities, lowest first.
PRIORITIES: tuple[str, ...] = ("normal", "high")
#: Why the conversation was escalated.
REASONS: tuple[str, ...] = ("asked", "fallback", "urgent")


class StaffMember(Base):
    """A console account.

    Attributes:
        id: Surrogate key.
        username: Login name (unique, lowercase).
        display_name: Name shown to colleagues (never to users).
        password_hash: Argon2id hash.
        role: One of :data:`ROLES`.
        languages: Varieties the person handles, comma-separated (``fr,ary``); routing
            shows them conversations in these first.
        topics: Intents or knowledge entries the person handles, comma-separated; empty
            means any.
        active: False for a disabled account.
        failed_logins: Consecutive failed log-ins (reset by a successful one).
        locked_until: No log-in is accepted before this time.
        created_at: Creation time (UTC).
        last_login_at: Last successful log-in (UTC).

    """

    __tablename__ = "staff"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(128), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")
    languages = Column(String(64), nullable=False, default="")
    topics = Column(String(512), nullable=False, default="")
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime(), nullable=True)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at = Column(UTCDateTime(), nullable=True)

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    @property
    def language_list(self) -> list[str]:
        """The languages as a list."""
        return [x for x in (self.languages or "").split(",") if x]

    @property
    def topic_list(self) -> list[str]:
        """The topics as a list."""
        return [x for x in (self.topics or "").split(",") if x]

    def __repr__(self) -> str:
        return f"<StaffMember {self.id} {self.role}>"


class StaffSession(Base):
    """A logged-in browser.

    Attributes:
        id: Surrogate key.
        token_hash: SHA-256 (hex) of the random token held in the session cookie.
        staff_id: Who.
        csrf_token: Random token every state-changing request must carry.
        created_at: Log-in time (UTC).
        last_seen_at: Last request (UTC); idle sessions expire.
        expires_at: Absolute end of the session (UTC).

    """

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    staff_id = Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime(), nullable=False)


class AuditEntry(Base):
    """One staff action.

    Attributes:
        id: Surrogate key (also the order).
        at: When (UTC).
        staff_id: Who (NULL for failed log-ins of unknown names, or a deleted account).
        username: The name used, kept even if the account goes.
        action: What (``login``, ``reply``, ``hand_back``, ``ticket_status``...).
        target: On what (a handoff or ticket reference, a username), if anything.
        detail: Short JSON with codes (new status, transfer target, delivery result);
            never message text or contact details.

    """

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    staff_id = Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    username = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    target = Column(String(64), nullable=True)
    detail = Column(Text, nullable=True)


class Handoff(Base):
    """A conversation escalated to a person.

    Attributes:
        id: Surrogate key.
        ref: Public reference ``H-XXXX-XXXX`` given to the user.
        sender_id: Rasa's conversation id (tracker sender id), used to read the transcript
            and to talk to Rasa's API (kept, as in the tracker store).
        recipient_id: The channel's id of the user, for pushing replies; erased at the end.
        user_key: Pseudonym of the user (:mod:`bot.tickets.pseudonym`).
        channel: Input channel (``telegram``, ``whatsapp``, ``widget``, ``rest``...).
        language: Conversation variety when escalated.
        topic: What it is about: the knowledge entry or intent of the conversation.
        priority: One of :data:`PRIORITIES`.
        reason: One of :data:`REASONS`.
        status: One of :data:`HANDOFF_STATUSES`.
        assigned_to: The agent handling it.
        created_at: Escalation time (UTC).
        taken_at: When an agent took it (UTC).
        first_reply_at: First staff reply (UTC).
        closed_at: Closed or handed back (UTC).
        last_user_at: Last user message seen by the console (UTC), for "unread".

    """

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ref = Column(String(11), nullable=False, unique=True)
    sender_id = Column(String(128), nullable=True, index=True)
    recipient_id = Column(String(128), nullable=True)
    user_key = Column(String(64), nullable=True, index=True)
    channel = Column(String(32), nullable=False)
    language = Column(String(16), nullable=False)
    topic = Column(String(64), nullable=True)
    priority = Column(String(8), nullable=False, default="normal")
    reason = Column(String(16), nullable=False, default="asked")
    status = Column(String(16), nullable=False, default="waiting", index=True)
    assigned_to = Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    taken_at = Column(UTCDateTime(), nullable=True)
    first_reply_at = Column(UTCDateTime(), nullable=True)
    closed_at = Column(UTCDateTime(), nullable=True)
    last_user_at = Column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint(_in("status", HANDOFF_STATUSES), name="status"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("reason", REASONS), name="reason"),
        Index("ix_handoffs_created_at", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<Handoff {self.ref} {self.status} {self.priority}>"


class Rating(Base):
    """A user's 1-5 mark of a conversation.

    Attributes:
        id: Surrogate key.
        at: When (UTC).
        user_key: Pseudonym of who rated.
        channel: Input channel.
        language: Conversation variety.
        rating: 1 (bad) to 5 (excellent).

    """

    __tablename__ = "ratings"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    user_key = Column(String(64), nullable=True)
    channel = Column(String(32), nullable=False)
    language = Column(String(16), nullable=False)
    rating = Column(Integer, nullable=False)

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)
