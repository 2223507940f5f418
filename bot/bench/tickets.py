"""Tickets under concurrency: the real action server storing complaints on SQLite and PostgreSQL.

For each database engine, ``mdm bench tickets`` creates a fresh database (an SQLite file in a
temporary folder; a PostgreSQL database ``mdm_bench_tickets_<hex>`` on ``--postgres``, dropped
at the end), runs ``mdm db upgrade`` on it, starts the real action server
(``rasa run actions --actions actions`` on a free port, ``DATABASE_URL`` set) and sends it
``-n`` concurrent action calls (at most ``--concurrency`` in flight, loopback only), each the
call Rasa makes at the end of the complaint form: ``action_submit_complaint`` with the form's
slots filled (category, service, description, e-mail contact, consent, ``ticket_confirm`` =
``send``), one sender per call. Then it checks in the database that exactly ``n`` tickets
exist, with ``n`` unique references, one per sender (no ticket lost or doubled), each complete
(every field set, one ``created`` event) and matching the reference the action answered.

Reported per engine: throughput (tickets stored per second of the burst), latency p50, p95,
p99 and max of the calls, errors (HTTP status other than 200, ``utter_ticket_error`` answers,
timeouts, connection errors) and the database checks. Nothing leaves the machine.

Usage::

    mdm bench tickets [--json] [-n 200] [--concurrency 50] [--engines sqlite,postgresql]
                      [--postgres URL] [--timeout 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.bench import common

#: Maintenance database of the local PostgreSQL server (a fresh database is created beside it).
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
ENGINES = ("sqlite", "postgresql")
ACTION = "action_submit_complaint"
#: Version Rasa announces in its action calls (the one installed here).
RASA_VERSION = "3.6.21"
BIN = Path(sys.executable).parent


# ---------------------------------------------------------------------------- requests


def action_call(index: int, domain: Dict[str, Any]) -> Dict[str, Any]:
    """The body Rasa posts to ``/webhook`` after the user pressed "send" on the summary.

    Args:
        index: Number of the simulated user (sender ``bench-<index>``, its own description
            and e-mail address, so every stored ticket can be traced back to its call).
        domain: ``domain.yml`` as a dict.
    """
    slots = {
        "language": "fr",
        "category": "consular",
        "service": "Consulat général de Lyon",
        "description": f"Demande de passeport sans réponse depuis trois mois (bench {index})",
        "contact_kind": "email",
        "contact": f"bench{index}@example.org",
        "consent": True,
        "ticket_confirm": "send",
        "requested_slot": None,
    }
    return {
        "next_action": ACTION,
        "sender_id": f"bench-{index}",
        "tracker": {
            "sender_id": f"bench-{index}",
            "slots": slots,
            "latest_message": {
                "text": '/choose{"option": "send"}',
                "intent": {"name": "choose", "confidence": 1.0},
                "entities": [{"entity": "option", "value": "send"}],
            },
            "latest_event_time": time.time(),
            "followup_action": None,
            "paused": False,
            "events": [],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "complaint_form"},
            "latest_action_name": "complaint_form",
        },
        "domain": domain,
        "version": RASA_VERSION,
    }


def created_ref(body: Dict[str, Any]) -> Optional[str]:
    """The reference the action answered with (its ``SlotSet("ticket_ref")``), if any."""
    for event in body.get("events") or []:
        if (
            event.get("event") == "slot"
            and event.get("name") == "ticket_ref"
            and event.get("value")
        ):
            return str(event["value"])
    return None


async def burst(
    url: str, n: int, concurrency: int, domain: Dict[str, Any], timeout: float
) -> Dict[str, Any]:
    """Send ``n`` action calls with at most ``concurrency`` in flight.

    Returns:
        ``latencies_ms``, ``errors`` (Counter), ``refs`` ({index: reference}) and ``elapsed``.
    """
    import httpx

    gate = asyncio.Semaphore(concurrency)
    latencies: List[float] = []
    errors: Counter = Counter()
    refs: Dict[int, str] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(index: int, client: httpx.AsyncClient) -> None:
        body = action_call(index, domain)
        async with gate:
            start = time.perf_counter()
            try:
                response = await client.post(url, json=body)
            except httpx.TimeoutException:
                errors["timeout"] += 1
                return
            except httpx.HTTPError as error:
                errors[type(error).__name__] += 1
                return
            latencies.append((time.perf_counter() - start) * 1000.0)
        if response.status_code != 200:
            errors[f"http {response.status_code}"] += 1
            return
        answer = response.json() or {}
        names = [r.get("response") for r in answer.get("responses") or []]
        ref = created_ref(answer)
        if ref and "utter_complaint_created" in names:
            refs[index] = ref
        else:
            errors[",".join(str(x) for x in names) or "no ticket_ref"] += 1

    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        start = time.perf_counter()
        tasks = [asyncio.ensure_future(one(i, client)) for i in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:  # bounded time: whatever is still waiting counts as a timeout
            task.cancel()
            errors["timeout"] += 1
        elapsed = time.perf_counter() - start
    return {"latencies_ms": latencies, "errors": errors, "refs": refs, "elapsed": elapsed}


# ---------------------------------------------------------------------------- databases


class Database:
    """A fresh database of one engine, created by :meth:`setup` and removed by :meth:`teardown`."""

    def __init__(self, engine: str, workdir: Path, postgres_url: str = DEFAULT_POSTGRES):
        self.engine = engine
        self.workdir = workdir
        self.postgres_url = postgres_url
        self.url = ""
        self.name = ""

    def _pg(self) -> Dict[str, Any]:
        from sqlalchemy.engine import make_url

        admin = make_url(self.postgres_url)
        return {
            "host": str(admin.host or "127.0.0.1"),
            "port": int(admin.port or 5432),
            "user": str(admin.username or "postgres"),
            "password": str(admin.password or ""),
            "dbname": admin.database or "postgres",
        }

    def setup(self) -> str:
        """Create the database and migrate it with ``mdm db upgrade``.

        Returns:
            Its SQLAlchemy URL.

        Raises:
            RuntimeError: PostgreSQL is unreachable, or the migration failed.
        """
        if self.engine == "sqlite":
            self.url = f"sqlite:///{self.workdir / 'tickets.db'}"
        else:
            import psycopg2

            pg = self._pg()
            self.name = f"mdm_bench_tickets_{secrets.token_hex(4)}"
            try:
                conn = psycopg2.connect(connect_timeout=5, **pg)
            except psycopg2.OperationalError as error:
                raise RuntimeError(
                    f"PostgreSQL unreachable at {pg['host']}:{pg['port']} (user {pg['user']}): "
                    f"{str(error).strip()}"
                ) from error
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.name}"')
            conn.close()
            secret = f":{pg['password']}" if pg["password"] else ""
            self.url = (
                f"postgresql+psycopg2://{pg['user']}{secret}@{pg['host']}:{pg['port']}/{self.name}"
            )
        done = subprocess.run(  # noqa: S603
            [str(BIN / "mdm"), "db", "upgrade", "--url", self.url],
            cwd=common.ROOT,
            env=server_env(self.url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mdm db upgrade failed on {self.engine}: {done.stderr[-1500:]}")
        return self.url

    def teardown(self) -> None:
        """Drop the PostgreSQL database (the SQLite file goes with the temporary folder)."""
        if self.engine != "postgresql" or not self.name:
            return
        import psycopg2

        conn = psycopg2.connect(connect_timeout=5, **self._pg())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        conn.close()


def check_tickets(url: str, refs: Dict[int, str], n: int) -> Dict[str, Any]:
    """What the database holds after the burst, against what the calls were answered.

    Returns:
        Counts (``tickets``, ``unique_refs``, ``unique_senders``), ``incomplete`` (tickets
        with a field missing or not exactly one ``created`` event), ``lost`` (calls with no
        ticket of their sender), ``ref_mismatch`` (answered reference not the stored one)
        and ``ok``.
    """
    from sqlalchemy import func, select

    from bot.storage.db import make_session_factory, session_scope
    from bot.storage.models import Ticket, TicketEvent

    factory = make_session_factory(url)
    try:
        with session_scope(factory, readonly=True) as session:
            tickets = list(session.scalars(select(Ticket)))
            created = dict(
                session.execute(
                    select(TicketEvent.ticket_id, func.count())
                    .where(TicketEvent.kind == "created")
                    .group_by(TicketEvent.ticket_id)
                ).all()
            )
    finally:
        factory.kw["bind"].dispose()
    expected = {
        f"Demande de passeport sans réponse depuis trois mois (bench {i})": i for i in range(n)
    }
    by_sender: Dict[int, List[Ticket]] = {}
    incomplete = 0
    for ticket in tickets:
        fields = (
            ticket.ref, ticket.kind, ticket.category, ticket.service, ticket.description,
            ticket.language, ticket.channel, ticket.user_key, ticket.contact_kind,
            ticket.contact, ticket.created_at, ticket.updated_at, ticket.due_at,
        )  # fmt: skip
        complete = (
            all(value not in (None, "") for value in fields)
            and ticket.consent is True
            and ticket.status == "open"
            and ticket.kind == "complaint"
            and created.get(ticket.id) == 1
        )
        index = expected.get(ticket.description or "")
        if index is not None:
            by_sender.setdefault(index, []).append(ticket)
            complete = complete and ticket.contact == f"bench{index}@example.org"
        incomplete += not complete
    mismatch = sum(1 for i, ref in refs.items() if [t.ref for t in by_sender.get(i, [])] != [ref])
    result = {
        "tickets": len(tickets),
        "unique_refs": len({t.ref for t in tickets}),
        "unique_senders": len(by_sender),
        "unique_user_keys": len({t.user_key for t in tickets}),
        "doubled": sum(len(v) > 1 for v in by_sender.values()),
        "lost": sum(i not in by_sender for i in range(n)),
        "incomplete": incomplete,
        "ref_mismatch": mismatch,
    }
    result["ok"] = (
        result["tickets"] == n
        and result["unique_refs"] == n
        and result["unique_senders"] == n
        and result["unique_user_keys"] == n
        and not (result["doubled"] or result["lost"] or incomplete or mismatch)
    )
    return result


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str) -> Dict[str, str]:
    """The environment of ``mdm serve`` with our database."""
    from bot.serve import embedded_env

    env = embedded_env(dict(os.environ))
    env.update(DATABASE_URL=database_url, MDM_LOG_LEVEL="WARNING")
    return env


def start_action_server(
    database_url: str, log: Path, timeout: float = 120.0
) -> Tuple[subprocess.Popen, str]:
    """Start ``rasa run actions`` on a free port and wait for ``/health``.

    Returns:
        The process (its own session) and its ``/webhook`` URL.
    """
    import httpx

    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
        cwd=common.ROOT,
        env=server_env(database_url),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"action server exited ({proc.returncode}):\n{tail}")
        try:
            if httpx.get(f"{base}/health", timeout=2, trust_env=False).status_code == 200:
                return proc, f"{base}/webhook"
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            stop(proc)
            raise TimeoutError(f"action server did not start in {timeout:.0f} s")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started here (SIGTERM, SIGKILL after 15 s)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def warm_up(url: str, domain: Dict[str, Any]) -> None:
    """One read-only call (ticket status without a reference) so the pool is open before timing."""
    import httpx

    body = action_call(-1, domain)
    body["next_action"] = "action_ticket_status"
    body["tracker"]["latest_message"] = {"text": "", "intent": {"name": "ticket_status"}}
    httpx.post(url, json=body, timeout=60, trust_env=False).raise_for_status()


# ---------------------------------------------------------------------------- the benchmark


def run_engine(
    engine: str,
    n: int,
    concurrency: int,
    domain: Dict[str, Any],
    workdir: Path,
    postgres_url: str,
    timeout: float,
) -> Dict[str, Any]:
    """Fresh database, migration, action server, burst, checks, clean-up for one engine."""
    db = Database(engine, workdir, postgres_url)
    try:
        url = db.setup()
        proc, webhook = start_action_server(url, workdir / f"actions-{engine}.log")
        try:
            warm_up(webhook, domain)
            shot = asyncio.run(burst(webhook, n, concurrency, domain, timeout))
        finally:
            stop(proc)
        checks = check_tickets(url, shot["refs"], n)
    finally:
        db.teardown()
    from bot.bench.load import latency_summary

    elapsed = shot["elapsed"]
    return {
        "engine": engine,
        "requests": n,
        "concurrency": concurrency,
        "answered_with_ref": len(shot["refs"]),
        "errors": sum(shot["errors"].values()),
        "error_kinds": dict(shot["errors"]),
        "elapsed_s": round(elapsed, 3),
        "tickets_per_s": round(checks["tickets"] / elapsed, 1) if elapsed else 0.0,
        "latency_ms": latency_summary(shot["latencies_ms"]),
        "database": checks,
    }


def run(
    n: int = 200,
    concurrency: int = 50,
    engines: Sequence[str] = ENGINES,
    postgres_url: str = DEFAULT_POSTGRES,
    timeout: float = 120.0,
) -> Dict[str, Any]:
    """Measure ticket creation under concurrency on each engine (see the module docstring).

    Args:
        n: Action calls (tickets) per engine.
        concurrency: Calls in flight at most.
        engines: ``sqlite`` and/or ``postgresql``.
        postgres_url: Maintenance URL of the PostgreSQL server (a database is created there).
        timeout: Limit of one burst (and of each call), in seconds.

    Returns:
        The report: ``machine``, ``results`` (one per engine) and ``ok`` (every check passed
        with no error on every engine).

    Raises:
        RuntimeError: PostgreSQL unreachable, migration failed, action server did not start.
    """
    import yaml

    domain = yaml.safe_load((common.ROOT / "domain.yml").read_text(encoding="utf-8"))
    results = []
    with tempfile.TemporaryDirectory(prefix="mdm-bench-tickets-") as tmp:
        for engine in engines:
            workdir = Path(tmp) / engine
            workdir.mkdir()
            results.append(
                run_engine(engine, n, concurrency, domain, workdir, postgres_url, timeout)
            )
    return {
        "benchmark": "tickets",
        "machine": common.machine(),
        "action": ACTION,
        "results": results,
        "ok": all(r["database"]["ok"] and r["errors"] == 0 for r in results),
    }


def format_table(report: Dict[str, Any]) -> str:
    """Render a report of :func:`run` as a plain-text table."""
    m = report["machine"]
    lines = [
        f"Tickets under concurrency ({report['action']}, {m['date']}, load {m['load_average_1m']}"
        f" on {m['cpus']} cores)",
        "",
        f"{'engine':<12}{'n':>5}{'conc':>6}{'tickets/s':>11}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'max ms':>9}{'errors':>8}{'stored':>8}{'refs':>6}{'lost':>6}{'incompl':>9}{'ok':>5}",
    ]
    lines.append("-" * len(lines[-1]))
    for r in report["results"]:
        d, lat = r["database"], r["latency_ms"]
        lines.append(
            f"{r['engine']:<12}{r['requests']:>5}{r['concurrency']:>6}{r['tickets_per_s']:>11.1f}"
            f"{lat['p50']:>9.1f}{lat['p95']:>9.1f}{lat['max']:>9.1f}{r['errors']:>8}"
            f"{d['tickets']:>8}{d['unique_refs']:>6}{d['lost']:>6}{d['incomplete']:>9}"
            f"{'yes' if d['ok'] else 'NO':>5}"
        )
        if r["error_kinds"]:
            lines.append(f"  errors: {r['error_kinds']}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``mdm bench tickets``).

    Returns:
        0 when every engine stored exactly n complete tickets without error, 1 otherwise,
        2 when the benchmark could not run (PostgreSQL unreachable, server did not start).
    """
    parser = argparse.ArgumentParser(prog="mdm bench tickets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-n", type=int, default=200, help="action calls per engine")
    parser.add_argument("--concurrency", type=int, default=50, help="calls in flight at most")
    parser.add_argument("--engines", default=",".join(ENGINES), help="sqlite,postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL maintenance URL")
    parser.add_argument("--timeout", type=float, default=120.0, help="limit of a burst (s)")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines or args.n < 1 or args.concurrency < 1:
        parser.error(f"engines among {','.join(ENGINES)}; -n and --concurrency >= 1")
    try:
        with common.stdout_to_stderr(args.json):
            report = run(args.n, args.concurrency, engines, args.postgres, args.timeout)
    except (RuntimeError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    common.emit(report, args.json, format_table)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
