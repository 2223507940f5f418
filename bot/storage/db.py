"""Engines, session factories and the transactional ``session_scope`` helper.

Two back ends are supported:

* **SQLite** (the default, a file under ``var/``): opened with ``check_same_thread=False``,
  ``journal_mode=WAL`` and a ``busy_timeout`` so that several threads *and processes* can
  write: a writer waits for the lock instead of failing with "database is locked".
  Write transactions start with ``BEGIN IMMEDIATE`` (they take the write lock up front, so a
  read-then-write transaction can never dead-lock on a lock upgrade); read-only scopes
  (``session_scope(readonly=True)``) use a plain deferred ``BEGIN`` and never block writers.
* **PostgreSQL** (``postgresql+psycopg2://...``): a regular pool with ``pool_pre_ping`` so
  connections dropped by the server or a proxy are replaced transparently.

Nothing connects at import time. :func:`get_engine` builds the default engine lazily from
``get_settings().database_url`` and caches it per URL.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.settings import get_settings

logger = logging.getLogger(__name__)

#: How long an SQLite writer waits for the lock before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Execution option naming the SQLite ``BEGIN`` flavour of a transaction.
SQLITE_BEGIN_OPTION = "mdm_sqlite_begin"

_default_lock = threading.Lock()
_default_engine: Engine | None = None
_default_factory: sessionmaker | None = None


def is_sqlite(url: str | URL) -> bool:
    """Tell whether a database URL points at SQLite.

    Args:
        url: SQLAlchemy URL, as text or parsed.

    Returns:
        True for any ``sqlite`` or ``sqlite+driver`` URL.

    """
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str | URL) -> Path | None:
    """Return the file of an on-disk SQLite URL, None for in-memory or URI forms."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def ensure_sqlite_dir(url: str | URL) -> None:
    """Create the folder of an SQLite database file if it does not exist yet.

    Args:
        url: Any database URL; non-SQLite and in-memory URLs are ignored.

    """
    path = _sqlite_file(url)
    if path is not None:
        path.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: Engine, in_memory: bool) -> None:
    """Set the pragmas on each new connection and control how transactions begin."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the pysqlite driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL may itself need to wait for a lock.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql("BEGIN" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Build an engine for a database URL with the project's settings.

    Creating the engine does not connect; for an SQLite file URL the folder of the file is
    created if missing.

    Args:
        url: SQLAlchemy URL; ``get_settings().database_url`` when None.
        **kwargs: Extra ``create_engine`` arguments (they override the defaults).

    Returns:
        A 2.0-style (``future=True``) engine.

    """
    url = url if url is not None else get_settings().database_url
    parsed = make_url(url)
    options: Dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        in_memory = _sqlite_file(parsed) is None
        options["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        if in_memory:
            # One shared connection, otherwise each connection sees its own empty database.
            options["poolclass"] = StaticPool
        else:
            ensure_sqlite_dir(parsed)
        options.update(kwargs)
        engine = create_engine(parsed, **options)
        _install_sqlite_hooks(engine, in_memory)
    else:
        options["pool_pre_ping"] = True
        options.update(kwargs)
        engine = create_engine(parsed, **options)
    logger.debug("engine created for backend %s", parsed.get_backend_name())
    return engine


def make_session_factory(bind: str | URL | Engine | None = None) -> sessionmaker:
    """Build a session factory bound to an engine or a URL.

    Sessions are 2.0-style (``future=True``) and keep loaded attributes after commit
    (``expire_on_commit=False``) so returned objects stay readable once detached.

    Args:
        bind: An engine, a URL, or None for the default URL from the settings.

    Returns:
        A :class:`sqlalchemy.orm.sessionmaker`.

    """
    engine = bind if isinstance(bind, Engine) else make_engine(bind)
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def get_engine() -> Engine:
    """Return the process-wide default engine, built on first call from the settings.

    If ``DATABASE_URL`` changed since the engine was built (tests do that), a new engine
    is built for the new URL.

    Returns:
        The cached engine.

    """
    global _default_engine, _default_factory
    url = get_settings().database_url
    with _default_lock:
        if _default_engine is None or str(_default_engine.url) != str(make_url(url)):
            if _default_engine is not None:
                _default_engine.dispose()
            _default_engine = make_engine(url)
            _default_factory = None
        return _default_engine


def get_session_factory() -> sessionmaker:
    """Return the session factory of the default engine (see :func:`get_engine`).

    Returns:
        The cached session factory.

    """
    global _default_factory
    engine = get_engine()
    with _default_lock:
        if _default_factory is None or _default_factory.kw.get("bind") is not engine:
            _default_factory = make_session_factory(engine)
        return _default_factory


def reset_default_engine() -> None:
    """Dispose of the default engine and forget it (for tests and forked workers)."""
    global _default_engine, _default_factory
    with _default_lock:
        if _default_engine is not None:
            _default_engine.dispose()
        _default_engine = None
        _default_factory = None


@contextmanager
def session_scope(
    factory: sessionmaker | None = None, *, readonly: bool = False
) -> Iterator[Session]:
    """Run a block in one transaction: commit on success, roll back on any error.

    Example::

        with session_scope() as session:
            session.add(ticket)

    Args:
        factory: Session factory to use; the default one (:func:`get_session_factory`)
            when None.
        readonly: The block only reads. On SQLite the transaction then starts with a
            deferred ``BEGIN`` and does not take the write lock; it is still committed
            (a no-op) at the end.

    Yields:
        The session; do not commit or close it yourself.

    """
    factory = factory if factory is not None else get_session_factory()
    session: Session = factory()
    try:
        if readonly:
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
