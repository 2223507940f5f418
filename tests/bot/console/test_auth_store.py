"""StaffStore (accounts, lock-out, sessions, audit) on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from argon2 import PasswordHasher

from bot.console.auth import LOCKOUT, MAX_FAILED_LOGINS, AccountError, StaffStore, token_hash
from bot.storage.db import session_scope
from bot.storage.handoff_models import StaffMember, StaffSession

PASSWORD = "correct horse battery staple"


#: Cheap Argon2 parameters: the tests are about the logic, not the cost.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def store(session_factory, clock):
    return StaffStore(session_factory, clock=clock, hasher=FAST)


def test_passwords_are_argon2_hashed_and_checked(store, session_factory):
    staff_id = store.create("Amal", PASSWORD, languages=["fr", "ary"], topics=["passport_renewal"])
    with session_scope(session_factory, readonly=True) as session:
        member = session.get(StaffMember, staff_id)
        assert member.username == "amal"  # lowercased
        assert (
            member.password_hash.startswith("$argon2id$") and PASSWORD not in member.password_hash
        )
    # production parameters are argon2-cffi's defaults
    default = StaffStore(session_factory).create("sara", PASSWORD)
    with session_scope(session_factory, readonly=True) as session:
        assert "m=65536,t=3" in session.get(StaffMember, default).password_hash
        assert member.language_list == ["fr", "ary"]
    assert store.authenticate("amal", PASSWORD) == staff_id
    assert store.authenticate("AMAL ", PASSWORD) == staff_id
    assert store.authenticate("amal", PASSWORD + "x") is None
    assert store.authenticate("nobody", PASSWORD) is None


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("a", PASSWORD), "username"),
        (("amal!", PASSWORD), "username"),
        (("amal", "short"), "password"),
    ],
)
def test_bad_accounts_are_refused(store, args, code):
    with pytest.raises(AccountError) as err:
        store.create(*args)
    assert err.value.code == code


def test_role_language_and_duplicates_are_checked(store):
    with pytest.raises(AccountError, match="role"):
        store.create("amal", PASSWORD, role="admin")
    with pytest.raises(AccountError, match="language"):
        store.create("amal", PASSWORD, languages=["de"])
    store.create("amal", PASSWORD)
    with pytest.raises(AccountError, match="exists"):
        store.create("amal", PASSWORD)


def test_lock_out_then_unlock_after_the_delay(store, clock):
    staff_id = store.create("amal", PASSWORD)
    for _ in range(MAX_FAILED_LOGINS):
        assert store.authenticate("amal", "wrong password") is None
    assert store.authenticate("amal", PASSWORD) is None  # locked
    clock.advance(seconds=LOCKOUT.total_seconds() - 1)
    assert store.authenticate("amal", PASSWORD) is None
    clock.advance(seconds=2)
    assert store.authenticate("amal", PASSWORD) == staff_id
    # a success resets the count: four more failures do not lock
    for _ in range(MAX_FAILED_LOGINS - 1):
        store.authenticate("amal", "wrong password")
    assert store.authenticate("amal", PASSWORD) == staff_id


def test_sessions_store_only_a_hash_and_expire(store, session_factory, clock):
    staff_id = store.create("amal", PASSWORD, role="supervisor")
    token = store.open_session(staff_id)
    with session_scope(session_factory, readonly=True) as session:
        [row] = session.query(StaffSession).all()
        assert row.token_hash == token_hash(token) != token
    staff = store.resolve(token)
    assert staff.id == staff_id and staff.is_supervisor and len(staff.csrf_token) > 30
    assert store.resolve(token + "x") is None
    clock.advance(hours=1, minutes=59)
    assert store.resolve(token) is not None  # and this request keeps it alive
    clock.advance(hours=1, minutes=59)
    assert store.resolve(token) is not None
    clock.advance(hours=2, minutes=1)
    assert store.resolve(token) is None  # idle too long
    other = store.open_session(staff_id)
    store.close_session(other)
    assert store.resolve(other) is None


def test_sessions_end_after_twelve_hours_whatever_happens(store, clock):
    token = store.open_session(store.create("amal", PASSWORD))
    for _ in range(13):
        clock.advance(minutes=59)
        store.resolve(token)
    assert store.resolve(token) is None


def test_audit_keeps_codes(store, clock):
    staff_id = store.create("amal", PASSWORD)
    store.audit(staff_id, "amal", "reply", "H-AAAA-BBBB", delivery="sent", length=12)
    clock.advance(seconds=1)
    store.audit(None, "ghost", "login_failed")
    newest, oldest = store.audit_log()
    assert (newest.username, newest.action, newest.staff_id) == ("ghost", "login_failed", None)
    assert oldest.target == "H-AAAA-BBBB"
    assert oldest.detail == '{"delivery": "sent", "length": 12}'
    assert oldest.at < newest.at <= clock.now + dt.timedelta(seconds=1)
