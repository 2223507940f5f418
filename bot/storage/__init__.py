"""Our own relational tables (tickets, their history, look-up throttling).

Nothing here connects to a database at import time: engines are built on first use
from :func:`bot.settings.get_settings` or from an explicit URL.
"""

from bot.storage.db import (
    get_engine,
    get_session_factory,
    make_engine,
    make_session_factory,
    reset_default_engine,
    session_scope,
)

__all__ = [
    "get_engine",
    "get_session_factory",
    "make_engine",
    "make_session_factory",
    "reset_default_engine",
    "session_scope",
]
