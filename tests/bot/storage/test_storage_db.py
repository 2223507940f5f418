"""Engines, sessions and concurrency of the storage layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import func, select, text

from bot.settings import ROOT
from bot.storage import db
from bot.storage.models import FailedLookup, Ticket, utcnow


def _count(factory, model) -> int:
    with db.session_scope(factory, readonly=True) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_engine_settings(engine, migrated_url):
    assert engine.url.get_backend_name() in ("sqlite", "postgresql")
    with engine.connect() as conn:
        if db.is_sqlite(migrated_url):
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        else:
            assert engine.pool._pre_ping is True
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_make_engine_does_not_connect():
    engine = db.make_engine("postgresql+psycopg2://nobody@127.0.0.1:1/nowhere")
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_import_does_not_connect_or_create_files(tmp_path):
    target = tmp_path / "never" / "mdm.db"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{target}", PYTHONPATH=str(ROOT))
    code = "import bot.storage, bot.storage.models, bot.storage.migrate, bot.tickets"
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=60)
    assert not target.parent.exists()


def test_memory_sqlite_is_shared_between_threads():
    from bot.storage.models import metadata

    engine = db.make_engine("sqlite://")
    metadata.create_all(engine)
    factory = db.make_session_factory(engine)
    with db.session_scope(factory) as session:
        session.add(FailedLookup(user_key="k" * 64, at=utcnow()))
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_count(factory, FailedLookup)))
    thread.start()
    thread.join()
    assert seen == [1]
    engine.dispose()


def test_session_scope_commits(session_factory):
    with db.session_scope(session_factory) as session:
        session.add(FailedLookup(user_key="a" * 64, at=utcnow()))
    assert _count(session_factory, FailedLookup) == 1


def test_session_scope_rolls_back_on_error(session_factory):
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        session.add(FailedLookup(user_key="a" * 64, at=utcnow()))
        session.flush()
        raise RuntimeError("boom")
    assert _count(session_factory, FailedLookup) == 0


def test_readonly_scope_reads(session_factory):
    with db.session_scope(session_factory) as session:
        session.add(FailedLookup(user_key="a" * 64, at=utcnow()))
    with db.session_scope(session_factory, readonly=True) as session:
        assert session.execute(select(FailedLookup.user_key)).scalar_one() == "a" * 64


def test_reader_does_not_block_writer(session_factory):
    """An open read-only transaction does not stop another connection from writing."""
    with db.session_scope(session_factory, readonly=True) as reader:
        reader.execute(select(func.count(FailedLookup.id))).scalar_one()
        done = []

        def write() -> None:
            with db.session_scope(session_factory) as session:
                session.add(FailedLookup(user_key="w" * 64, at=utcnow()))
            done.append(True)

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=20)
        assert done == [True]
    assert _count(session_factory, FailedLookup) == 1


def test_writer_waits_for_lock_instead_of_failing(session_factory):
    """A second writer blocks until the first commits, then succeeds."""
    started = threading.Event()
    results = []

    def slow_writer() -> None:
        with db.session_scope(session_factory) as session:
            session.add(FailedLookup(user_key="1" * 64, at=utcnow()))
            session.flush()
            if session.bind.dialect.name == "postgresql":
                session.execute(text("LOCK TABLE failed_lookups IN EXCLUSIVE MODE"))
            started.set()
            time.sleep(1.0)
        results.append("slow")

    def fast_writer() -> None:
        started.wait(10)
        with db.session_scope(session_factory) as session:
            session.add(FailedLookup(user_key="2" * 64, at=utcnow()))
        results.append("fast")

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == ["slow", "fast"]
    assert _count(session_factory, FailedLookup) == 2


WORKER = textwrap.dedent(
    """
    import sys, time
    from bot.storage.db import make_session_factory
    from bot.tickets.pseudonym import user_key
    from bot.tickets.service import TicketService

    url, worker, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    service = TicketService(make_session_factory(url))
    time.sleep(max(0.0, start - time.time()))
    for i in range(count):
        ticket = service.create(
            kind="suggestion",
            category="other",
            description=f"worker {worker} writes ticket number {i}",
            user_key=user_key("rest", f"w{worker}", "s"),
            language="fr",
            channel="rest",
            consent=True,
        )
        print(ticket.ref)
    """
)


def test_concurrent_writers_from_several_processes(migrated_url, session_factory):
    processes, per_process = 4, 25
    start = time.time() + 3.0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, migrated_url, str(w), str(per_process), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for w in range(processes)
    ]
    refs = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        refs.extend(out.split())
    assert len(refs) == len(set(refs)) == processes * per_process
    assert _count(session_factory, Ticket) == processes * per_process


def test_default_engine_follows_settings(tmp_path, monkeypatch):
    from bot.storage.migrate import upgrade

    first = f"sqlite:///{tmp_path / 'a' / 'one.db'}"
    second = f"sqlite:///{tmp_path / 'b' / 'two.db'}"
    try:
        monkeypatch.setenv("DATABASE_URL", first)
        upgrade()
        assert db.get_engine().url.database.endswith("one.db")
        with db.session_scope() as session:
            session.add(FailedLookup(user_key="a" * 64, at=utcnow()))
        monkeypatch.setenv("DATABASE_URL", second)
        upgrade()
        assert db.get_engine().url.database.endswith("two.db")
        assert db.get_session_factory().kw["bind"] is db.get_engine()
        with db.session_scope(readonly=True) as session:
            assert session.execute(select(func.count(FailedLookup.id))).scalar_one() == 0
    finally:
        db.reset_default_engine()


def test_ensure_sqlite_dir_ignores_other_urls(tmp_path):
    db.ensure_sqlite_dir("sqlite://")
    db.ensure_sqlite_dir("sqlite:///:memory:")
    db.ensure_sqlite_dir("postgresql://u@h/db")
    db.ensure_sqlite_dir(f"sqlite:///{tmp_path / 'new' / 'x.db'}")
    assert (tmp_path / "new").is_dir()
