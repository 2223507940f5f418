"""Database fixtures shared by the tests of ``bot`` (storage, tickets...).

Every database test runs twice, on SQLite (a temporary file) and on PostgreSQL (a fresh
database created for the test and dropped afterwards). PostgreSQL is not optional: if the
server cannot be reached the PostgreSQL variant FAILS (``pytest.fail``), it is never
skipped. Point ``MDM_TEST_POSTGRES_URL`` at another server's maintenance database if needed
(default ``postgresql+psycopg2://postgres@127.0.0.1:5432/test``); deselect with
``-m "not postgres"`` when you knowingly run without it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from typing import Any, Callable, Dict, Iterator

import pytest
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "MDM_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)

#: Set on a test item whose PostgreSQL database could not be created.
PG_UNREACHABLE = pytest.StashKey[str]()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _pg_connect(url: str):
    import psycopg2

    parsed = make_url(url)
    conn = psycopg2.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.database or "postgres",
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Report an unreachable PostgreSQL as a FAILED test rather than a setup ERROR."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup" and report.failed and PG_UNREACHABLE in item.stash:
        report.when = "call"


@pytest.fixture
def postgres_url(request) -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped after the test.

    Fails the test (never skips it) when the server cannot be reached.
    """
    try:
        admin = _pg_connect(ADMIN_URL)
    except Exception as exc:  # noqa: BLE001 - any failure to connect must fail the test
        message = f"PostgreSQL unreachable at {make_url(ADMIN_URL).render_as_string(True)}: {exc}"
        request.node.stash[PG_UNREACHABLE] = message
        pytest.fail(message, pytrace=False)
    name = f"mdm_test_{secrets.token_hex(6)}"
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """URL of an SQLite file in a folder that does not exist yet."""
    return f"sqlite:///{tmp_path / 'var' / 'mdm.db'}"


@pytest.fixture(params=BACKENDS)
def db_url(request) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """The database of :func:`db_url`, migrated to head."""
    from bot.storage.migrate import upgrade

    upgrade(db_url)
    return db_url


@pytest.fixture
def engine(migrated_url: str):
    """An engine on the migrated database, disposed after the test."""
    from bot.storage.db import make_engine

    eng = make_engine(migrated_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    """A session factory on the migrated database."""
    from bot.storage.db import make_session_factory

    return make_session_factory(engine)


class FakeClock:
    """A settable clock for the ticket service: ``clock.advance(minutes=5)``."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting on 2025-03-01 09:30 UTC."""
    return FakeClock()


@pytest.fixture
def service(session_factory):
    """A ticket service on the migrated database, with the real clock."""
    from bot.tickets.service import TicketService

    return TicketService(session_factory)


@pytest.fixture
def clocked_service(session_factory, clock):
    """A ticket service on the migrated database, driven by :func:`clock`."""
    from bot.tickets.service import TicketService

    return TicketService(session_factory, clock=clock)


@pytest.fixture
def user_keys() -> Callable[[str], str]:
    """Make pseudonymous keys: ``user_keys("alice")``."""
    from bot.tickets.pseudonym import user_key

    return lambda name: user_key("rest", name, "test-secret")


@pytest.fixture
def ticket_args(user_keys) -> Callable[..., Dict[str, Any]]:
    """Valid ``TicketService.create`` arguments, overridable: ``ticket_args(category=...)``."""

    def make(**overrides: Any) -> Dict[str, Any]:
        args: Dict[str, Any] = {
            "kind": "complaint",
            "category": "consular",
            "description": "Mon rendez-vous au consulat a été annulé deux fois.",
            "user_key": user_keys("alice"),
            "language": "fr",
            "channel": "rest",
            "consent": True,
            "contact_kind": "chat",
            "contact": None,
            "service": "Consulat général de Lyon",
        }
        args.update(overrides)
        return args

    return make
