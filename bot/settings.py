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


def _tracker_db_url() -> str:
    """SQLAlchemy URL of Rasa's SQL tracker store, from the variables endpoints.yml uses."""
    explicit = os.environ.get("MDM_TRACKER_DB_URL")
    if explicit:
        return explicit
    dialect = _env("TRACKER_DB_DIALECT", "sqlite")
    name = _env("TRACKER_DB_NAME", str(ROOT / "var" / "tracker.db"))
    if dialect.startswith("sqlite"):
        return f"sqlite:///{name}"
    from urllib.parse import quote  # noqa: PLC0415

    user = os.environ.get("TRACKER_DB_USER") or os.environ.get("TRACKER_DB_USERNAME") or ""
    password = os.environ.get("TRACKER_DB_PASSWORD", "")
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    host = _env("TRACKER_DB_HOST", "127.0.0.1")
    port = os.environ.get("TRACKER_DB_PORT")
    port = None if port in (None, "", "0") else port  # 0: the driver's default, as in Rasa
    return f"{dialect}://{auth + '@' if auth else ''}{host}{':' + port if port else ''}/{name}"


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
        rasa_token: Token of Rasa's HTTP API (``RASA_TOKEN``); ``mdm serve`` draws a random
            one when unset, so the API is never open without a token.
        staff_hours: When staff answer (``MDM_STAFF_HOURS``), e.g.
            ``Mon-Fri 09:00-17:00 Africa/Casablanca``; see :mod:`bot.handoff.hours`.
        console_port: Port of the staff console (``MDM_CONSOLE_PORT``).
        web_port: Port of the demo page with the web widget, served from ``web/`` by
            ``mdm serve`` (``MDM_WEB_PORT``).
        console_https: The console is served over HTTPS (behind a proxy): cookies get
            ``Secure`` and HSTS is sent (``MDM_CONSOLE_HTTPS=1``).
        tracker_db_url: SQLAlchemy URL of Rasa's tracker store, built from ``TRACKER_DB_*``
            (or ``MDM_TRACKER_DB_URL``); the console reads transcripts from it.
        credentials_file: Rasa credentials file ``mdm serve`` starts with
            (``MDM_CREDENTIALS``): ``credentials.yml`` (REST only) by default,
            ``credentials.channels.yml`` to add Telegram and WhatsApp.
        telegram_token: Bot token from @BotFather (``TELEGRAM_TOKEN``).
        telegram_secret_token: Secret Telegram sends in ``X-Telegram-Bot-Api-Secret-Token``
            (``TELEGRAM_SECRET_TOKEN``, 1-256 of ``A-Za-z0-9_-``).
        telegram_api_base_url: Bot API address (``TELEGRAM_API_BASE_URL``).
        whatsapp_access_token: Graph API bearer token (``WHATSAPP_ACCESS_TOKEN``).
        whatsapp_phone_number_id: Sending phone number id (``WHATSAPP_PHONE_NUMBER_ID``).
        whatsapp_app_secret: Meta app secret that signs webhooks (``WHATSAPP_APP_SECRET``).
        whatsapp_verify_token: Token of the webhook verification (``WHATSAPP_VERIFY_TOKEN``).
        whatsapp_api_base_url: Graph API address with version (``WHATSAPP_API_BASE_URL``).
        rate_limit_messages: Messages one sender may send per window (``RATE_LIMIT_MESSAGES``).
        rate_limit_window_seconds: Length of the sliding window (``RATE_LIMIT_WINDOW_SECONDS``).
        rate_limit_redis_url: Redis URL of a limiter shared by processes
            (``RATE_LIMIT_REDIS_URL``); in-memory, per process, when empty.
        rasa_speedups: Apply :mod:`connectors.speedups` in the Rasa server
            (``MDM_RASA_SPEEDUPS``, on unless ``0``).
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
    # Human handoff and staff console (bot/handoff/, bot/console/).
    rasa_token: str = field(default_factory=lambda: _env("RASA_TOKEN", ""), repr=False)
    staff_hours: str = field(
        default_factory=lambda: _env("MDM_STAFF_HOURS", "Mon-Fri 09:00-17:00 Africa/Casablanca")
    )
    console_port: int = field(default_factory=lambda: int(_env("MDM_CONSOLE_PORT", "8090")))
    # Demo page and web widget files (web/), served by `mdm serve`.
    web_port: int = field(default_factory=lambda: int(_env("MDM_WEB_PORT", "8080")))
    console_https: bool = field(
        default_factory=lambda: _env("MDM_CONSOLE_HTTPS", "0").lower() in ("1", "true", "yes")
    )
    tracker_db_url: str = field(default_factory=lambda: _tracker_db_url(), repr=False)
    credentials_file: str = field(
        default_factory=lambda: _env("MDM_CREDENTIALS", "credentials.yml")
    )
    # Channels (connectors/telegram.py, connectors/whatsapp.py); secrets kept out of repr().
    telegram_token: str = field(default_factory=lambda: _env("TELEGRAM_TOKEN", ""), repr=False)
    telegram_secret_token: str = field(
        default_factory=lambda: _env("TELEGRAM_SECRET_TOKEN", ""), repr=False
    )
    telegram_api_base_url: str = field(
        default_factory=lambda: _env("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
    )
    whatsapp_access_token: str = field(
        default_factory=lambda: _env("WHATSAPP_ACCESS_TOKEN", ""), repr=False
    )
    whatsapp_phone_number_id: str = field(
        default_factory=lambda: _env("WHATSAPP_PHONE_NUMBER_ID", "")
    )
    whatsapp_app_secret: str = field(
        default_factory=lambda: _env("WHATSAPP_APP_SECRET", ""), repr=False
    )
    whatsapp_verify_token: str = field(
        default_factory=lambda: _env("WHATSAPP_VERIFY_TOKEN", ""), repr=False
    )
    whatsapp_api_base_url: str = field(
        default_factory=lambda: _env("WHATSAPP_API_BASE_URL", "https://graph.facebook.com/v19.0")
    )
    # Fair use (bot/ratelimit.py): every channel, per sender.
    rate_limit_messages: int = field(
        default_factory=lambda: int(_env("RATE_LIMIT_MESSAGES", "100"))
    )
    rate_limit_window_seconds: float = field(
        default_factory=lambda: float(_env("RATE_LIMIT_WINDOW_SECONDS", "10"))
    )
    rate_limit_redis_url: str = field(default_factory=lambda: _env("RATE_LIMIT_REDIS_URL", ""))
    # Rasa server speed-ups (connectors/speedups.py); 0 turns them off to measure them.
    rasa_speedups: bool = field(
        default_factory=lambda: _env("MDM_RASA_SPEEDUPS", "1").lower() not in ("0", "false", "no")
    )


def get_settings() -> Settings:
    """Read the settings from the current environment.

    Returns:
        A fresh :class:`Settings`; cheap, so callers need not cache it.
    """
    return Settings()
