"""Staff accounts, log-in with lock-out, server-side sessions, CSRF tokens and the audit log.

* Passwords: Argon2id (``argon2-cffi``); an unknown user name still costs one verification,
  so timing does not tell which names exist.
* Lock-out: :data:`MAX_FAILED_LOGINS` failures in a row lock the account for
  :data:`LOCKOUT`; the answer is the same as for a wrong password.
* Sessions: a random token in an HttpOnly cookie; the database keeps only its SHA-256, with
  an idle timeout and an absolute lifetime.
* CSRF: each session has a random token that every state-changing request must carry (form
  field ``csrf`` or header ``X-CSRF-Token``); the log-in form uses a double-submit cookie.
* Audit: :meth:`StaffStore.audit` writes who did what on which reference (codes only).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.settings import LANGUAGES
from bot.storage.db import session_scope
from bot.storage.handoff_models import ROLES, AuditEntry, StaffMember, StaffSession
from bot.storage.models import utcnow

logger = logging.getLogger(__name__)

#: Failed log-ins in a row before the account is locked.
MAX_FAILED_LOGINS = 5
#: How long a locked account stays locked.
LOCKOUT = dt.timedelta(minutes=15)
#: A session ends after this long without a request...
SESSION_IDLE = dt.timedelta(hours=2)
#: ... and in any case after this long.
SESSION_MAX = dt.timedelta(hours=12)
#: Shortest accepted password.
MIN_PASSWORD = 12

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A staff account could not be created; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member, as pages see them.

    Attributes:
        id: Account id.
        username: Login name.
        display_name: Shown name.
        role: ``agent`` or ``supervisor``.
        languages: Varieties handled.
        topics: Topics handled.
        csrf_token: The session's CSRF token.

    """

    id: int
    username: str
    display_name: str
    role: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    csrf_token: str

    @property
    def is_supervisor(self) -> bool:
        """Supervisors may see the dashboard, the audit log and the staff list."""
        return self.role == "supervisor"

    def as_member(self) -> StaffMember:
        """A detached model with the routing fields (for :meth:`HandoffService.queue`)."""
        return StaffMember(
            id=self.id, languages=",".join(self.languages), topics=",".join(self.topics)
        )


def token_hash(token: str) -> str:
    """SHA-256 hex of a session token (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(expected: Optional[str], given: Optional[str]) -> bool:
    """Constant-time comparison; missing tokens never match."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class StaffStore:
    """Accounts, sessions and audit log on a database.

    Args:
        session_factory: A session factory (:func:`bot.storage.db.get_session_factory`).
        clock: Returns the current aware UTC time.
        hasher: Argon2 parameters for new hashes (argon2-cffi's defaults: RFC 9106's low-memory
            profile); tests pass cheaper ones. Each hash carries its own parameters.

    """

    def __init__(
        self,
        session_factory: sessionmaker,
        clock: Any = utcnow,
        hasher: Optional[PasswordHasher] = None,
    ) -> None:
        self._factory = session_factory
        self._clock = clock
        self._hasher = hasher or _hasher

    def _now(self) -> dt.datetime:
        return self._clock().astimezone(dt.timezone.utc)

    # ------------------------------------------------------------------ accounts

    def create(
        self,
        username: str,
        password: str,
        *,
        role: str = "agent",
        display_name: Optional[str] = None,
        languages: Optional[List[str]] = None,
        topics: Optional[List[str]] = None,
    ) -> int:
        """Create an account.

        Args:
            username: 2-64 characters of ``a-z 0-9 . _ -`` (lowercased).
            password: At least :data:`MIN_PASSWORD` characters.
            role: ``agent`` or ``supervisor``.
            display_name: Shown name (the user name when empty).
            languages: Varieties handled (subset of :data:`bot.settings.LANGUAGES`).
            topics: Intents or knowledge entries handled (empty: any).

        Returns:
            The new account's id.

        Raises:
            AccountError: ``username``, ``password``, ``role``, ``language`` or ``exists``.

        """
        username = (username or "").strip().lower()
        if not _USERNAME.fullmatch(username):
            raise AccountError("username")
        if len(password or "") < MIN_PASSWORD:
            raise AccountError("password")
        if role not in ROLES:
            raise AccountError("role")
        languages = [x.strip() for x in (languages or []) if x.strip()]
        if any(x not in LANGUAGES for x in languages):
            raise AccountError("language")
        topics = [x.strip() for x in (topics or []) if x.strip()]
        member = StaffMember(
            username=username,
            display_name=(display_name or username).strip()[:128],
            password_hash=self._hasher.hash(password),
            role=role,
            languages=",".join(languages),
            topics=",".join(topics)[:512],
            active=True,
            failed_logins=0,
            created_at=self._now(),
        )
        try:
            with session_scope(self._factory) as session:
                session.add(member)
                session.flush()
                staff_id = int(member.id)
        except IntegrityError:
            raise AccountError("exists") from None
        logger.info("staff account %d created (role %s)", staff_id, role)
        return staff_id

    def members(self) -> List[StaffMember]:
        """Every account, by name."""
        with session_scope(self._factory, readonly=True) as session:
            return list(
                session.execute(select(StaffMember).order_by(StaffMember.username)).scalars()
            )

    def authenticate(self, username: str, password: str) -> Optional[int]:
        """Check a log-in; count failures and lock the account after too many.

        Args:
            username: The typed name.
            password: The typed password.

        Returns:
            The account id, or None (wrong name or password, locked or disabled account:
            the caller must not tell which).

        """
        username = (username or "").strip().lower()[:64]
        now = self._now()
        with session_scope(self._factory) as session:
            member = session.execute(
                select(StaffMember).where(StaffMember.username == username).with_for_update()
            ).scalar_one_or_none()
            if member is None:
                with contextlib.suppress(VerificationError, InvalidHashError):
                    self._hasher.verify(_DUMMY_HASH, password or "")
                return None
            locked = member.locked_until is not None and member.locked_until > now
            try:
                ok: bool = self._hasher.verify(member.password_hash, password or "")
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if ok and not locked and member.active:
                member.failed_logins = 0
                member.locked_until = None
                member.last_login_at = now
                if self._hasher.check_needs_rehash(member.password_hash):
                    member.password_hash = self._hasher.hash(password)
                return int(member.id)
            if not locked:
                member.failed_logins = (member.failed_logins or 0) + 1
                if member.failed_logins >= MAX_FAILED_LOGINS:
                    member.locked_until = now + LOCKOUT
                    member.failed_logins = 0
                    logger.warning("staff account %d locked after failed log-ins", member.id)
            return None

    # ------------------------------------------------------------------ sessions

    def open_session(self, staff_id: int) -> str:
        """Start a session; return the token for the cookie (the database keeps its hash)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with session_scope(self._factory) as session:
            session.execute(
                delete(StaffSession)
                .where(StaffSession.expires_at < now)
                .execution_options(synchronize_session=False)
            )
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    staff_id=staff_id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + SESSION_MAX,
                )
            )
        return token

    def resolve(self, token: Optional[str]) -> Optional[Staff]:
        """The staff member of a session cookie, or None (unknown, idle or expired)."""
        if not token or len(token) > 128:
            return None
        now = self._now()
        with session_scope(self._factory) as session:
            row = session.execute(
                select(StaffSession, StaffMember)
                .join(StaffMember, StaffMember.id == StaffSession.staff_id)
                .where(StaffSession.token_hash == token_hash(token))
            ).one_or_none()
            if row is None:
                return None
            sess, member = row
            if (
                sess.expires_at <= now
                or sess.last_seen_at + SESSION_IDLE <= now
                or not member.active
            ):
                session.delete(sess)
                return None
            if now - sess.last_seen_at > dt.timedelta(minutes=1):
                sess.last_seen_at = now  # not on every poll: fewer writes
            return Staff(
                id=int(member.id),
                username=str(member.username),
                display_name=str(member.display_name),
                role=str(member.role),
                languages=tuple(member.language_list),
                topics=tuple(member.topic_list),
                csrf_token=str(sess.csrf_token),
            )

    def close_session(self, token: Optional[str]) -> None:
        """End a session (log-out)."""
        if not token:
            return
        with session_scope(self._factory) as session:
            session.execute(
                delete(StaffSession)
                .where(StaffSession.token_hash == token_hash(token))
                .execution_options(synchronize_session=False)
            )

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        staff_id: Optional[int],
        username: str,
        action: str,
        target: Optional[str] = None,
        **detail: Any,
    ) -> None:
        """Record a staff action.

        Args:
            staff_id: Who (None for a failed log-in).
            username: The name used.
            action: What, as a short code.
            target: On what (reference, user name).
            **detail: Codes only (statuses, delivery results), never message text.

        """
        with session_scope(self._factory) as session:
            session.add(
                AuditEntry(
                    at=self._now(),
                    staff_id=staff_id,
                    username=(username or "?")[:64],
                    action=action[:32],
                    target=target[:64] if target else None,
                    detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
                )
            )

    def audit_log(self, limit: int = 500) -> List[AuditEntry]:
        """The latest audit entries, newest first."""
        with session_scope(self._factory, readonly=True) as session:
            return list(
                session.execute(
                    select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
                ).scalars()
            )

    def names(self) -> Dict[int, str]:
        """Display names by account id."""
        return {int(m.id): str(m.display_name) for m in self.members()}
