"""Run the Alembic migrations programmatically (behind ``mdm db upgrade``).

The migrations live in ``migrations/`` at the repository root and ``alembic.ini`` next to
it; the database URL never comes from ``alembic.ini`` but from the caller or from
``get_settings().database_url``.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.settings import ROOT, get_settings
from bot.storage.db import ensure_sqlite_dir, make_engine

logger = logging.getLogger(__name__)

#: ``alembic.ini`` of the project.
ALEMBIC_INI = ROOT / "alembic.ini"
#: Folder of the migration scripts.
MIGRATIONS_DIR = ROOT / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Build the Alembic configuration for a database.

    Args:
        url: Database URL; ``get_settings().database_url`` when None.

    Returns:
        A config whose ``script_location`` is absolute (works from any working directory)
        and whose URL is passed to ``migrations/env.py`` through ``config.attributes``.

    """
    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.is_file() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url if url is not None else get_settings().database_url
    cfg.attributes["programmatic"] = True
    return cfg


def _safe(url: str) -> str:
    """Return the URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate a database to the latest revision (or to ``revision``).

    Works on SQLite files (the folder is created if missing) and PostgreSQL. Running it on
    an up-to-date database does nothing.

    Args:
        url: Database URL; ``get_settings().database_url`` when None.
        revision: Target revision, ``head`` by default.

    """
    url = url if url is not None else get_settings().database_url
    ensure_sqlite_dir(url)
    logger.info("migrating %s to %s", _safe(url), revision)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Migrate a database down to ``revision`` (``base`` drops every table of ours).

    Args:
        url: Database URL; ``get_settings().database_url`` when None.
        revision: Target revision, ``base`` by default.

    """
    url = url if url is not None else get_settings().database_url
    logger.info("downgrading %s to %s", _safe(url), revision)
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """Return the newest revision of the migration scripts.

    Returns:
        The revision id, or None if there are no migrations.

    """
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    """Return the revision a database is at.

    Args:
        url: Database URL; ``get_settings().database_url`` when None.

    Returns:
        The revision id, or None for a database never migrated.

    """
    url = url if url is not None else get_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def is_up_to_date(url: str | None = None) -> bool:
    """Tell whether a database is at the head revision.

    Args:
        url: Database URL; ``get_settings().database_url`` when None.

    Returns:
        True when :func:`current_revision` equals :func:`head_revision`.

    """
    return current_revision(url) == head_revision()


__all__ = [
    "ALEMBIC_INI",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "is_up_to_date",
    "upgrade",
]
