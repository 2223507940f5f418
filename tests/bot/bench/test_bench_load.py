"""bot.bench.load: statistics, the simulated users (against tiny stand-in servers), profiles.

The full benchmark (real Rasa servers, PostgreSQL, Redis) runs with ``mdm bench load``; its
pieces are tested here without Rasa.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.bench import load


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert load.percentile(values, 50) == 50
    assert load.percentile(values, 95) == 95
    assert load.percentile(values, 99) == 99
    assert load.percentile([], 95) == 0.0
    assert load.percentile([7.0], 99) == 7.0
    summary = load.latency_summary([10.0, 20.0, 30.0, 40.0])
    assert summary == {"p50": 20.0, "p95": 40.0, "p99": 40.0, "mean": 25.0, "max": 40.0}


def test_scripts_cover_the_five_varieties_with_multi_turn_conversations():
    assert set(load.SCRIPTS) == {"fr", "ar", "ary", "ary_Latn", "en"}
    for lang, scripts in load.SCRIPTS.items():
        assert scripts, lang
        for script in scripts:
            assert 4 <= len(script) <= 6, script


def test_scripts_are_not_copied_from_the_evaluation_sets():
    shared = load.ROOT.parent / "shared" / "eval"
    texts = {t.strip().lower() for _, s in load.ALL_SCRIPTS for t in s if not t.startswith("/")}
    found = []
    for path in shared.rglob("*") if shared.is_dir() else []:
        if path.is_file() and path.suffix in (
            ".csv",
            ".yml",
            ".yaml",
            ".txt",
            ".json",
            ".jsonl",
            ".tsv",
        ):
            content = path.read_text(encoding="utf-8", errors="ignore").lower()
            found += [t for t in texts if len(t) > 25 and t in content]
    assert not found


def test_default_config_is_rasa_init_or_the_same_defaults_with_fewer_epochs():
    import yaml

    exact = yaml.safe_load(load.default_config_text(None))
    assert exact["pipeline"] is None and exact["policies"] is None  # Rasa picks its defaults
    short = yaml.safe_load(load.default_config_text(5))
    names = [c["name"] for c in short["pipeline"]] + [p["name"] for p in short["policies"]]
    assert {"DIETClassifier", "ResponseSelector", "TEDPolicy", "UnexpecTEDIntentPolicy"} <= set(
        names
    )
    epochs = [c["epochs"] for c in short["pipeline"] + short["policies"] if "epochs" in c]
    assert epochs and set(epochs) == {5}


def test_the_cache_key_follows_config_domain_and_data(tmp_path):
    domain = tmp_path / "domain.yml"
    data = tmp_path / "data"
    (data / "nlu").mkdir(parents=True)
    domain.write_text("version: '3.1'\n")
    (data / "nlu" / "a.yml").write_text("nlu: []\n")
    key = load.training_inputs_hash("config", domain, data)
    assert key == load.training_inputs_hash("config", domain, data)
    assert key != load.training_inputs_hash("other config", domain, data)
    (data / "nlu" / "a.yml").write_text("nlu: [x]\n")
    assert key != load.training_inputs_hash("config", domain, data)


def test_profile_samples_are_put_in_the_deepest_subsystem_first():
    folded = [
        "handle (sanic/app.py:1);retrieve (rasa/core/tracker_store.py:9);"
        "execute (sqlalchemy/engine.py:3) 30",
        "handle (sanic/app.py:1);parse_message (rasa/core/processor.py:7);"
        "process (bot/nlu/intent_classifier.py:2) 40",
        "handle (sanic/app.py:1);_predict_next_with_tracker (rasa/core/processor.py:5);"
        "predict (rasa/core/policies/rule_policy.py:5) 10",
        "run (rasa/core/actions/action.py:3);validate (jsonschema/validators.py:1) 15",
        "run (asyncio/base_events.py:1) 5",
        "run (sanic/app.py:1);serve (sanic/server/runners.py:155) 500",  # idle: not counted
        "garbage line",
    ]
    shares = load.categorise_folded(folded)
    assert shares == {
        "NLU": 40.0,
        "tracker store (PostgreSQL)": 30.0,
        "action response validation (jsonschema)": 15.0,
        "policies": 10.0,
        "other (asyncio, logging, Rasa engine)": 5.0,
    }


def test_ratios_and_aims():
    def result(pipeline, n, users, tput, p95, errors=0):
        return {
            "pipeline": pipeline,
            "instances": n,
            "users": users,
            "throughput_msg_s": tput,
            "latency_ms": {"p95": p95},
            "errors": errors,
        }

    results = [
        result("ours", 1, 20, 60.0, 200.0),
        result("ours", 2, 20, 90.0, 150.0),
        result("default", 1, 20, 20.0, 900.0),
        result("default", 2, 20, 25.0, 700.0),
    ]
    results[0]["cpu_ms_per_message"] = {"all ours": 20.0}
    results[2]["cpu_ms_per_message"] = {"all ours": 70.0}
    rows = {(r["pipeline"], r["instances"]): r for r in load.ratios(results)}
    assert rows[("ours", 1)]["cpu_per_message_default_over_ours"] == 3.5
    assert "cpu_per_message_default_over_ours" not in rows[("ours", 2)]
    assert rows[("ours", 1)]["throughput_ours_over_default"] == 3.0
    assert rows[("ours", 1)]["p95_default_over_ours"] == 4.5
    assert rows[("ours", 2)]["throughput_two_over_one"] == 1.5
    assert rows[("default", 2)]["throughput_two_over_one"] == 1.25
    aims = load.aims(results, load.ratios(results))
    assert aims == {
        "p95_under_250ms_at_20_users": True,
        "zero_errors": True,
        "twice_default_throughput": True,
    }
    results[0]["latency_ms"]["p95"] = 300.0
    results[1]["errors"] = 1
    aims = load.aims(results, load.ratios(results))
    assert aims["p95_under_250ms_at_20_users"] is False and aims["zero_errors"] is False


# ---------------------------------------------------------------- simulated users


class StandIn:
    """A tiny REST channel: answers every message, or 500 / an empty list when told to."""

    def __init__(self, fail_every: int = 0, empty_every: int = 0, delay: float = 0.0):
        self.messages = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.messages.append(body)
                n = len(outer.messages)
                time.sleep(delay)
                status, reply = 200, [{"recipient_id": body["sender"], "text": "ok"}]
                if fail_every and n % fail_every == 0:
                    status = 500
                elif empty_every and n % empty_every == 0:
                    reply = []
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_users_alternate_between_servers_and_follow_their_scripts():
    a, b = StandIn(), StandIn()
    try:
        phase = asyncio.run(
            load.simulate([a.url, b.url], users=4, seconds=60, think=0.0, max_messages=40)
        )
    finally:
        a.close()
        b.close()
    assert phase.sent == 40 and len(phase.latencies_ms) == 40 and not phase.errors
    assert phase.per_server == {0: 20, 1: 20}
    # each conversation's messages are its script, in order, spread over both servers
    by_sender = {}
    for body in a.messages + b.messages:
        by_sender.setdefault(body["sender"], []).append(body["message"])
    scripts = [s for _, s in load.ALL_SCRIPTS]
    for sender, texts in by_sender.items():
        assert any(set(texts) <= set(s) for s in scripts), (sender, texts)
    senders_a = {m["sender"] for m in a.messages}
    senders_b = {m["sender"] for m in b.messages}
    assert senders_a & senders_b, "conversations move between the servers"


def test_errors_are_counted_and_not_timed():
    server = StandIn(fail_every=5, empty_every=7)
    try:
        phase = asyncio.run(
            load.simulate([server.url], users=2, seconds=60, think=0.0, max_messages=35)
        )
    finally:
        server.close()
    assert phase.sent == 35
    assert phase.errors["http_500"] == 7
    assert phase.errors["no_reply"] == 4  # 7, 14, 21, 28 (35 is a 500)
    assert len(phase.latencies_ms) == 35 - 11


def test_runs_are_bounded_in_time():
    server = StandIn(delay=0.05)
    try:
        start = time.perf_counter()
        phase = asyncio.run(
            load.simulate([server.url], users=3, seconds=1.0, think=0.0, max_messages=10_000)
        )
        took = time.perf_counter() - start
    finally:
        server.close()
    assert 1.0 <= took < 3.0
    assert 0 < phase.sent < 200


def test_connection_errors_count_as_errors():
    phase = asyncio.run(
        load.simulate(["http://127.0.0.1:9"], users=1, seconds=60, think=0.0, max_messages=3)
    )
    assert phase.sent == 3 and sum(phase.errors.values()) == 3 and not phase.latencies_ms


def test_cpu_meter_sees_a_busy_process():
    meter = load.CpuMeter({"me": os.getpid()})
    wall, used = time.perf_counter(), time.process_time()
    meter.start()
    while time.process_time() - used < 0.3:  # 0.3 s of CPU, however loaded the machine is
        pass
    cpu = meter.stop()
    wall, used = time.perf_counter() - wall, time.process_time() - used
    assert cpu["me"] == pytest.approx(100.0 * used / wall, abs=100.0 * 0.05 / wall)
    assert 0.0 <= cpu["machine_busy_pct"] <= 100.0
    assert load._memory_mb(os.getpid())["rss_mb"] > 10


def test_main_refuses_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        load.main(["--pipelines", "ours,mystery"])
    with pytest.raises(SystemExit):
        load.main(["--users", "0"])
    with pytest.raises(SystemExit):
        load.main(["--env", "NOVALUE"])
    assert (
        load.main(["--model", str(Path("/nonexistent/model.tar.gz")), "--pipelines", "ours"]) == 2
    )


def test_main_passes_every_option_to_run(monkeypatch, tmp_path, capsys):
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"")
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        return {"settings": {}, "results": [], "ratios": [], "aims": {}}

    monkeypatch.setattr(load, "run", fake_run)
    argv = [
        "--json",
        "--model",
        str(model),
        "--user-counts",
        "10,20",
        "--seconds",
        "5",
        "--think",
        "0.5",
        "--instances",
        "2",
        "--pipelines",
        "ours",
        "--no-speedups",
        "--default-epochs",
        "3",
        "--max-messages",
        "99",
        "--profile",
        str(tmp_path),
        "--env",
        "OPENBLAS_NUM_THREADS=2",
        "--env",
        "A=b=c",
    ]
    assert load.main(argv) == 0
    assert seen["user_counts"] == [10, 20] and seen["seconds"] == 5 and seen["think"] == 0.5
    assert seen["instances"] == [2] and seen["pipelines"] == ["ours"]
    assert seen["speedups"] is False and seen["default_epochs"] == 3
    assert seen["max_messages"] == 99 and seen["profile_dir"] == tmp_path
    assert seen["extra_env"] == {"OPENBLAS_NUM_THREADS": "2", "A": "b=c"}
    assert json.loads(capsys.readouterr().out)["results"] == []


def test_the_fleet_runs_with_the_deployment_settings():
    values = load.env_file(load.DEPLOY_ENV)
    assert values["LOCK_STORE_TYPE"] == "redis" and values["TRACKER_DB_DIALECT"] == "postgresql"
    assert values["OPENBLAS_NUM_THREADS"] == "1" and values["SANIC_KEEP_ALIVE_TIMEOUT"]


def test_cpu_per_message():
    phase = load.Phase(elapsed=10.0)
    cpu = {"rasa": 50.0, "actions": 10.0, "machine_busy_pct": 99.0}
    out = load.cpu_per_message(cpu, ["rasa", "actions"], answered=100, phase=phase)
    assert out == {"rasa": 50.0, "actions": 10.0, "all ours": 60.0}
    assert load.cpu_per_message(cpu, ["rasa"], answered=0, phase=phase) == {}
