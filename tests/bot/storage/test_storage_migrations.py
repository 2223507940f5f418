"""Alembic migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import bot.storage.channel_models  # noqa: F401 - registers the channel tables on metadata
from bot.settings import ROOT
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.models import metadata
from bot.storage.widget_models import WidgetOutboxMessage

TABLES = {"tickets", "ticket_events", "failed_lookups", "widget_outbox"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_to_head_creates_the_tables(db_url):
    assert migrate.current_revision(db_url) is None
    migrate.upgrade(db_url)
    assert _tables(db_url) >= TABLES
    assert migrate.current_revision(db_url) == migrate.head_revision() is not None
    assert migrate.is_up_to_date(db_url)


def test_upgrade_twice_is_a_no_op(db_url):
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    assert migrate.is_up_to_date(db_url)


def test_downgrade_to_base_then_upgrade_again(db_url):
    migrate.upgrade(db_url)
    migrate.downgrade(db_url, "base")
    assert not (TABLES & _tables(db_url))
    assert migrate.current_revision(db_url) is None
    migrate.upgrade(db_url)
    assert _tables(db_url) >= TABLES


def test_migrations_match_the_models(migrated_url):
    """Autogenerate finds nothing to do: models and migrations describe the same schema."""
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diffs == []
    assert WidgetOutboxMessage.__table__ in metadata.sorted_tables  # compared above too


def test_unique_ref_constraint_exists(migrated_url):
    engine = make_engine(migrated_url)
    try:
        insp = inspect(engine)
        uniques = insp.get_unique_constraints("tickets")
        fks = insp.get_foreign_keys("ticket_events")
    finally:
        engine.dispose()
    assert any(u["column_names"] == ["ref"] for u in uniques)
    assert fks[0]["referred_table"] == "tickets"


def test_sqlite_folder_is_created(tmp_path):
    db = tmp_path / "deep" / "er" / "mdm.db"
    migrate.upgrade(f"sqlite:///{db}")
    assert db.is_file()
    assert _tables(f"sqlite:///{db}") >= TABLES


def test_upgrade_without_url_uses_the_settings(tmp_path, monkeypatch):
    db = tmp_path / "from-env" / "mdm.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    migrate.upgrade()
    assert db.is_file()
    assert migrate.is_up_to_date()


def test_upgrade_works_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    migrate.upgrade(f"sqlite:///{tmp_path / 'x.db'}")
    assert migrate.is_up_to_date(f"sqlite:///{tmp_path / 'x.db'}")


def test_alembic_ini_has_no_url():
    text = (ROOT / "alembic.ini").read_text(encoding="utf-8")
    assert "script_location = migrations" in text
    assert not any(line.strip().startswith("sqlalchemy.url") for line in text.splitlines())
    assert Path(migrate.MIGRATIONS_DIR, "env.py").is_file()
