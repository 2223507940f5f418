"""Alembic environment: the URL comes from the caller or from bot.settings, never alembic.ini.

Order of precedence for the database:

1. ``config.attributes["connection"]``: an open SQLAlchemy connection (used as is);
2. ``config.attributes["url"]``: set by :func:`bot.storage.migrate.upgrade`;
3. ``get_settings().database_url`` (``DATABASE_URL``).
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context

# Models kept in their own modules share models.metadata: importing them registers their tables.
import bot.storage.widget_models  # noqa: F401
import bot.storage.handoff_models  # noqa: F401
import bot.storage.channel_models  # noqa: F401
from bot.settings import get_settings
from bot.storage.db import is_sqlite, make_engine
from bot.storage.models import UTCDateTime, metadata

config = context.config

# Only configure logging when run from the alembic command line; never override the
# logging of an application that calls bot.storage.migrate.upgrade().
if config.config_file_name is not None and not config.attributes.get("programmatic"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _url() -> str:
    url = config.attributes.get("url")
    return str(url) if url else get_settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    """Render our UTCDateTime as a plain timezone-aware DateTime in revisions."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Any = None, url: Any = None) -> None:
    dialect_is_sqlite = (
        connection.dialect.name == "sqlite" if connection is not None else is_sqlite(url)
    )
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=dialect_is_sqlite,
        render_item=_render_item,
        literal_binds=connection is None,
        dialect_opts={"paramstyle": "named"} if connection is None else {},
    )


def run_migrations_offline() -> None:
    """Emit the SQL to stdout instead of running it (``alembic upgrade head --sql``)."""
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations against the database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
