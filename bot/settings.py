"""Every setting of the project, read from the environment in one place.

Modules ask for :func:`get_settings` instead of reading ``os.environ`` themselves, so the
whole configuration surface is visible here and tests can override it with ``monkeypatch``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Repository root (the folder that holds ``domain.yml``).
ROOT = Path(__file__).resolve().parent.parent

#: The five language varieties the assistant speaks, in the order menus show them.
LANGUAGES: tuple[str, ...] = ("fr", "ar", "ary", "ary_Latn", "en")

#: Variety used when nothing better is known (and for unsupported languages).
DEFAULT_LANGUAGE = "fr"

#: Varieties written right to left.
RTL_LANGUAGES = frozenset({"ar", "ary"})


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


@dataclass(frozen=True)
class Settings:
    """The project's configuration, resolved from environment variables.

    Attributes:
        database_url: SQLAlchemy URL of our own tables (``DATABASE_URL``); SQLite file by default.
        knowledge_dir: Folder of knowledge-base YAML entries (``MDM_KNOWLEDGE_DIR``).
        action_server_url: Where Rasa finds the action server (``ACTION_SERVER_URL``).
        rasa_url: Base URL of the Rasa server, for the CLI and benchmarks (``RASA_URL``).
        log_level: Python log level name (``MDM_LOG_LEVEL``).
        secret_key: Key for pseudonymising user ids (``MDM_SECRET_KEY``); a fixed
            development value is used when unset, never in production.
    """

    database_url: str = field(
        default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'mdm.db'}")
    )
    knowledge_dir: Path = field(
        default_factory=lambda: Path(
            _env("MDM_KNOWLEDGE_DIR", str(ROOT / "knowledge" / "procedures"))
        )
    )
    action_server_url: str = field(
        default_factory=lambda: _env("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    )
    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", "http://127.0.0.1:5005"))
    log_level: str = field(default_factory=lambda: _env("MDM_LOG_LEVEL", "INFO"))
    secret_key: str = field(default_factory=lambda: _env("MDM_SECRET_KEY", "dev-only-not-secret"))


def get_settings() -> Settings:
    """Read the settings from the current environment.

    Returns:
        A fresh :class:`Settings`; cheap, so callers need not cache it.
    """
    return Settings()
