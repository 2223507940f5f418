"""endpoints.yml read by Rasa itself: embedded defaults, production values, types.

Rasa expands ``${VAR}`` in endpoints.yml when it reads the file; every value comes out as a
string, and an unset variable stops Rasa. These tests load the file with Rasa's own reader
and build the tracker store and the lock store the way ``rasa run`` does.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Dict

import pytest

from bot.serve import embedded_env

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = ROOT / "endpoints.yml"
DEPLOY = ROOT / "docs" / "deploy"
REDIS_URL = os.environ.get("MDM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of an environment file (systemd's EnvironmentFile format, no quotes)."""
    values: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def endpoint_variables() -> set:
    lines = ENDPOINTS.read_text(encoding="utf-8").splitlines()
    yaml_text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return set(re.findall(r"\$\{(\w+)\}", yaml_text))


def use_env(monkeypatch: pytest.MonkeyPatch, values: Dict[str, str]) -> None:
    for name in endpoint_variables():
        monkeypatch.delenv(name, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def read_endpoints():
    from rasa.core.utils import AvailableEndpoints

    return AvailableEndpoints.read_endpoints(str(ENDPOINTS))


def require_servers(values: Dict[str, str]) -> None:
    """Fail (never skip) when PostgreSQL or Redis does not answer; Rasa would wait forever."""
    import psycopg2
    import redis

    try:
        psycopg2.connect(
            host=values["TRACKER_DB_HOST"],
            port=int(values["TRACKER_DB_PORT"]),
            user=values["TRACKER_DB_USER"],
            dbname=values["TRACKER_DB_NAME"],
            connect_timeout=5,
        ).close()
    except psycopg2.OperationalError as error:
        pytest.fail(f"PostgreSQL unreachable: {error}", pytrace=False)
    try:
        redis.Redis(
            host=values["REDIS_HOST"], port=int(values["REDIS_PORT"]), socket_timeout=5
        ).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis unreachable: {error}", pytrace=False)


def test_every_variable_has_an_embedded_default_in_serve_and_the_makefile():
    defaults = embedded_env({})
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    exported = dict(re.findall(r"^export (\w+) \?=[ \t]*(.*)$", makefile, flags=re.MULTILINE))
    for name in endpoint_variables():
        assert name in defaults, f"bot/serve.py embedded_env lacks {name}"
        assert name in exported, f"the Makefile does not export {name}"
        if name != "TRACKER_DB_NAME":  # an absolute path, spelled differently in each
            assert exported[name] == defaults[name], name


def test_an_unset_variable_stops_rasa(monkeypatch):
    from rasa.shared.exceptions import RasaException

    values = embedded_env({})
    del values["REDIS_PORT"]
    use_env(monkeypatch, values)
    with pytest.raises(RasaException, match="REDIS_PORT"):
        read_endpoints()


def test_embedded_defaults_give_sqlite_and_in_memory_locks(monkeypatch, tmp_path):
    from rasa.core.lock_store import InMemoryLockStore, LockStore
    from rasa.core.tracker_store import TrackerStore

    values = embedded_env({})
    values["TRACKER_DB_NAME"] = str(tmp_path / "tracker.db")
    use_env(monkeypatch, values)
    endpoints = read_endpoints()
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert isinstance(LockStore.create(endpoints.lock_store), InMemoryLockStore)
    store = TrackerStore.create(endpoints.tracker_store)
    engine = store.engine
    assert engine.url.get_backend_name() == "sqlite"
    assert engine.url.database == str(tmp_path / "tracker.db")
    assert not engine.url.port and not engine.url.username and not engine.url.password
    with engine.connect():
        pass
    assert (tmp_path / "tracker.db").exists()


@pytest.mark.postgres
@pytest.mark.redis
def test_production_values_give_postgresql_and_redis_with_int_ports(monkeypatch):
    """The values of docs/deploy/*.env, as the Rasa servers of the guide get them."""
    from rasa.core.lock_store import LockStore, RedisLockStore, TicketLock
    from rasa.core.tracker_store import TrackerStore
    from sqlalchemy.engine import make_url

    values = {**env_file(DEPLOY / "mdm.env"), **env_file(DEPLOY / "secrets.env.example")}
    assert values["LOCK_STORE_TYPE"] == "redis" and values["TRACKER_DB_PORT"] == "5432"
    # The local server's trust user and an existing database instead of the `mdm` role.
    admin = make_url(
        os.environ.get("MDM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    redis_url = make_url(REDIS_URL)
    prefix = f"mdmtest{secrets.token_hex(4)}"
    values.update(
        TRACKER_DB_HOST=admin.host or "127.0.0.1",
        TRACKER_DB_PORT=str(admin.port or 5432),
        TRACKER_DB_USER=admin.username or "postgres",
        TRACKER_DB_NAME=admin.database or "postgres",
        REDIS_HOST=redis_url.host or "127.0.0.1",
        REDIS_PORT=str(redis_url.port or 6379),
        REDIS_KEY_PREFIX=prefix,
    )
    require_servers(values)
    use_env(monkeypatch, values)
    endpoints = read_endpoints()
    assert endpoints.action.url == "http://127.0.0.1:5054/webhook"
    assert endpoints.lock_store.kwargs["port"] == values["REDIS_PORT"]  # a string in the YAML...

    lock_store = LockStore.create(endpoints.lock_store)
    assert isinstance(lock_store, RedisLockStore)
    kwargs = lock_store.red.connection_pool.connection_kwargs
    assert kwargs["port"] == int(values["REDIS_PORT"])  # ... an int for redis-py
    assert kwargs["db"] == int(values["REDIS_DB"])
    assert not kwargs["password"]  # empty REDIS_PASSWORD: no AUTH
    assert lock_store.key_prefix == f"{prefix}:lock:"
    try:
        lock_store.save_lock(TicketLock("conversation-1"))
        assert lock_store.red.exists(f"{prefix}:lock:conversation-1")
    finally:
        for key in lock_store.red.scan_iter(match=f"{prefix}:*"):
            lock_store.red.delete(key)

    store = TrackerStore.create(endpoints.tracker_store)
    engine = store.engine
    assert type(store).__name__ == "ErasableSQLTrackerStore"
    assert engine.url.get_backend_name() == "postgresql"
    assert engine.url.port == int(values["TRACKER_DB_PORT"])
    assert engine.url.username == values["TRACKER_DB_USER"]
    assert engine.pool.size() == int(values["SQL_POOL_SIZE"])
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar() == 1
