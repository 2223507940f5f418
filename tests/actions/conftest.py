"""Fixtures of the action tests that need our database (tickets, privacy).

The database fixtures are those of the storage tests (``tests/bot/conftest.py``): every
test using ``ticket_db`` runs on SQLite and on PostgreSQL (which must be reachable).
"""

from __future__ import annotations

import pytest

from tests.bot.conftest import (  # noqa: F401, F811 - fixtures and the report hook, reused
    db_url,
    migrated_url,
    postgres_url,
    pytest_runtest_makereport,
    sqlite_url,
)


@pytest.fixture
def ticket_db(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """A migrated, empty database that the actions use (``DATABASE_URL``)."""
    from bot.storage.db import reset_default_engine

    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("MDM_SECRET_KEY", "test-secret")
    reset_default_engine()
    yield migrated_url
    reset_default_engine()
