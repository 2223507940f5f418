"""bot.bench.tickets: the real action server storing 10 concurrent complaints, both engines.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres): the test fails, not skips, without it.
"""

from __future__ import annotations

from typing import Any, Dict

import psycopg2
import pytest

from bot.bench import tickets
from bot.cli import build_parser

pytestmark = pytest.mark.e2e

N = 10


@pytest.fixture(scope="module")
def report() -> Dict[str, Any]:
    """One run of the benchmark on both engines (about 30 s on 2 cores)."""
    return tickets.run(n=N, concurrency=5, timeout=60)


@pytest.mark.parametrize("engine", tickets.ENGINES)
def test_every_call_stores_exactly_one_complete_ticket(report: Dict[str, Any], engine: str):
    result = next(r for r in report["results"] if r["engine"] == engine)
    assert result["errors"] == 0, result["error_kinds"]
    assert result["answered_with_ref"] == N
    db = result["database"]
    assert (db["tickets"], db["unique_refs"], db["unique_senders"]) == (N, N, N)
    assert (db["lost"], db["doubled"], db["incomplete"], db["ref_mismatch"]) == (0, 0, 0, 0)
    assert db["ok"] is True
    assert result["tickets_per_s"] > 0
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"]


def test_report_is_ok_and_the_postgres_database_is_dropped(report: Dict[str, Any]):
    assert report["ok"] is True
    assert [r["engine"] for r in report["results"]] == ["sqlite", "postgresql"]
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from pg_database where datname like 'mdm_bench_tickets_%'")
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
    assert "Tickets under concurrency" in tickets.format_table(report)


def test_cli_offers_the_benchmark():
    args = build_parser().parse_args(["bench", "--json", "tickets", "-n", "3"])
    assert (args.which, args.json, args.rest) == ("tickets", True, ["-n", "3"])


def test_unreachable_postgres_fails_clearly(tmp_path):
    db = tickets.Database("postgresql", tmp_path, "postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(RuntimeError, match="PostgreSQL unreachable at 127.0.0.1:1"):
        db.setup()
