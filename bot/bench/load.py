"""Load: simulated users holding multi-turn conversations over HTTP, on one and two instances.

``mdm bench load`` starts, on this machine and on loopback only, the deployment of
docs/deployment.md in small, with its settings (``docs/deploy/mdm.env``): two action servers
and, for each pipeline measured, two Rasa servers (REST channel) sharing one PostgreSQL
database (the tracker store and our tables, a fresh database dropped at the end) and one Redis
lock store (keys of our own prefix, deleted at the end). Then, for each pipeline, number
of instances and number of users, ``--users`` simulated users hold conversations for
``--seconds`` seconds: each user plays scripted
conversations in the five varieties (our own sentences, below), one message at a time,
waiting for the answer and then ``--think`` seconds (uniform between half and one and a half
times it) before the next message, and starts a new conversation (a new sender id) when a
script ends; users start at random times within the first second (or the first think
time). With two instances the client is a tiny round-robin: successive messages go to
alternate servers, so every conversation moves between them.

Pipelines: ``ours`` is the trained assistant (``models/mdm.tar.gz``); ``default`` is the same
domain and ``data/`` trained on Rasa's default pipeline and policies (the ``config.yml`` that
``rasa init`` writes, which leaves both to Rasa's defaults: DIET, ResponseSelector, TED,
UnexpecTED...), with the same action server. The default model is trained once and cached in
``var/bench/`` by the hash of its inputs; ``--default-epochs N`` trains the same architecture
for fewer epochs (same serving cost, much shorter training; the report says so).

Reported for each run: messages, throughput (answered messages per second), latency p50, p95,
p99 and max, errors (HTTP status other than 200, no reply, timeouts, connection errors), the
CPU used by each process (100 = one core; all PostgreSQL processes of the machine together)
and the whole machine's busy share, and the memory (RSS, peak RSS) of each process; then the
ratios ours/default and two/one instances. ``--profile DIR`` samples the Rasa and action
servers of the first ``ours`` run with py-spy (a dev tool) and reports where their CPU time
goes (NLU, policies, tracker store, lock store, action calls, HTTP, other).

Usage::

    mdm bench load [--json] [--users 50] [--seconds 30] [--think 0] [--user-counts 10,20,50]
                   [--instances 1,2] [--pipelines ours,default] [--model PATH]
                   [--default-model PATH | --default-epochs N] [--postgres URL] [--redis URL]
                   [--max-messages N] [--profile DIR] [--no-speedups] [--env KEY=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import math
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from bot.bench import common
from bot.settings import ROOT

DEFAULT_USERS = 50
DEFAULT_SECONDS = 30.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/1"
#: Where trained default-pipeline models are kept between runs.
CACHE_DIR = ROOT / "var" / "bench" / "load"
#: A run never sends more than this many messages, whatever its duration.
DEFAULT_MAX_MESSAGES = 20_000
#: Aims of docs/benchmarks.md ("Load").
P95_AIM_MS = 250.0
AIM_USERS = 20
THROUGHPUT_RATIO_AIM = 2.0
REQUEST_TIMEOUT_S = 30.0

#: Conversations the simulated users hold: our own sentences, four to six turns each.
SCRIPTS: Dict[str, List[List[str]]] = {
    "fr": [
        [
            "Bonjour",
            "mon passeport a expiré, comment le renouveler ?",
            "ça coûte combien ?",
            '/procedure_detail{"detail":"documents"}',
            "merci, bonne journée",
        ],
        [
            "salut",
            "je dois faire une procuration pour vendre un terrain au Maroc",
            "quels documents faut-il apporter ?",
            "merci beaucoup",
        ],
        [
            "bonsoir",
            "comment faire la carte d'identité nationale pour ma fille ?",
            "et le délai ?",
            "où faut-il aller ?",
            "d'accord merci",
            "au revoir",
        ],
    ],
    "ar": [
        ["مساء الخير", "أريد تسجيل زواجي في القنصلية", "ما هي الوثائق اللازمة؟", "شكرا لكم"],
        [
            "السلام عليكم",
            "كيف أحصل على نسخة من عقد الازدياد؟",
            "كم الرسوم؟",
            '/procedure_detail{"detail":"steps"}',
            "شكرا",
        ],
    ],
    "ary": [
        ["سلام عليكم", "بغيت نجدد البطاقة الوطنية ديالي", "شنو خاصني نجيب؟", "شكرا خويا"],
        ["السلام", "كيفاش ندخل الطوموبيل للمغرب فالصيف؟", "شحال كتقعد؟", "الله يخليك", "بسلامة"],
    ],
    "ary_Latn": [
        ["salam", "bghit nsjel rassi f l consulat", "chno khassni mn lwra9?", "merci bzaf"],
        [
            "salam khoya",
            "kifach nakhod rendez-vous f l consulat?",
            "w fin kayn?",
            "choukran",
            "bslama",
        ],
    ],
    "en": [
        [
            "hi",
            "I lost my passport abroad, what should I do?",
            "how long does it take?",
            '/procedure_detail{"detail":"fees"}',
            "thank you",
        ],
        [
            "good morning",
            "can I invest in a small business in Morocco from abroad?",
            "are there any incentives?",
            "thanks, bye",
        ],
    ],
}
ALL_SCRIPTS: List[Tuple[str, List[str]]] = [
    (lang, turns) for lang, scripts in SCRIPTS.items() for turns in scripts
]


# -------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q / 100.0 * len(ordered))))
    return float(ordered[rank - 1])


def latency_summary(times_ms: Sequence[float]) -> Dict[str, float]:
    """p50, p95, p99, mean and max of latencies in milliseconds, rounded."""
    return {
        "p50": round(percentile(times_ms, 50), 1),
        "p95": round(percentile(times_ms, 95), 1),
        "p99": round(percentile(times_ms, 99), 1),
        "mean": round(statistics.fmean(times_ms), 1) if times_ms else 0.0,
        "max": round(max(times_ms), 1) if times_ms else 0.0,
    }


# ----------------------------------------------------------------------- process stats


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0.0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_mb(pid: int) -> Dict[str, float]:
    """RSS and peak RSS (VmHWM) of a process in MiB."""
    out = {"rss_mb": 0.0, "peak_rss_mb": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                out["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def _pids_named(name: str) -> List[int]:
    """Processes whose command name is ``name`` (e.g. every ``postgres`` backend)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _machine_ticks() -> Tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU used by named processes and by the whole machine between start() and stop()."""

    def __init__(self, pids: Dict[str, int]):
        self.pids = pids
        self.start_cpu: Dict[str, float] = {}
        self.start_pg: Dict[int, float] = {}
        self.start_machine = (0, 0)
        self.t0 = 0.0

    def start(self) -> None:
        """Take the starting readings."""
        self.t0 = time.perf_counter()
        self.start_cpu = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        self.start_pg = {pid: _cpu_seconds(pid) for pid in _pids_named("postgres")}
        self.start_machine = _machine_ticks()

    def stop(self) -> Dict[str, Any]:
        """CPU % of each process, of all PostgreSQL processes, and the machine's busy %."""
        wall = max(1e-6, time.perf_counter() - self.t0)
        out: Dict[str, Any] = {
            name: round(100.0 * (_cpu_seconds(pid) - self.start_cpu[name]) / wall, 1)
            for name, pid in self.pids.items()
        }
        pg = sum(_cpu_seconds(pid) - self.start_pg.get(pid, 0.0) for pid in _pids_named("postgres"))
        out["postgres (all)"] = round(100.0 * pg / wall, 1)
        busy, total = _machine_ticks()
        span = max(1, total - self.start_machine[1])
        out["machine_busy_pct"] = round(100.0 * (busy - self.start_machine[0]) / span, 1)
        return out


# ------------------------------------------------------------------------------ models


def default_config_text(epochs: Optional[int]) -> str:
    """Rasa's default pipeline and policies: ``rasa init``'s config.yml, or with fewer epochs.

    Args:
        epochs: None for the exact ``rasa init`` file (pipeline and policies left to Rasa's
            defaults, 100 epochs each); a number to write the same defaults out with that
            many epochs (same architecture, same serving cost).
    """
    import rasa

    package = Path(rasa.__file__).parent
    if epochs is None:
        return (package / "cli" / "initial_project" / "config.yml").read_text(encoding="utf-8")
    text = (package / "engine" / "recipes" / "config_files" / "default_config.yml").read_text(
        encoding="utf-8"
    )
    return text.replace("epochs: 100", f"epochs: {int(epochs)}")


def training_inputs_hash(config_text: str, domain: Path, data: Path) -> str:
    """Hash of a config and of every domain/data file: the default model's cache key."""
    digest = hashlib.sha256(config_text.encode("utf-8"))
    for path in [domain, *sorted(Path(data).rglob("*.yml"))]:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_model(
    epochs: Optional[int], cache_dir: Path = CACHE_DIR
) -> Tuple[Path, Dict[str, Any]]:
    """The project's domain and data trained on Rasa's default pipeline (cached).

    Returns:
        The model archive and a description for the report.
    """
    config_text = default_config_text(epochs)
    key = training_inputs_hash(config_text, ROOT / "domain.yml", ROOT / "data")
    name = f"default-{key}"
    model = cache_dir / f"{name}.tar.gz"
    info: Dict[str, Any] = {
        "config": "rasa init config.yml"
        if epochs is None
        else f"Rasa default_config.yml, epochs {epochs}",
        "cache_key": key,
    }
    if model.exists():
        info["trained"] = "cached"
        return model, info
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mdm-bench-default-") as tmp:
        config = Path(tmp) / "config.yml"
        config.write_text(config_text, encoding="utf-8")
        start = time.perf_counter()
        print(
            f"training the default pipeline ({info['config']}): this takes a while", file=sys.stderr
        )
        subprocess.run(  # noqa: S603 - our own fixed command line
            [
                str(Path(sys.executable).parent / "rasa"),
                "train",
                "--skip-validation",
                "--quiet",
                "--config",
                str(config),
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(cache_dir),
                "--fixed-model-name",
                name,
            ],
            cwd=ROOT,
            env=_base_env(),
            check=True,
            stdout=sys.stderr,
        )
        info["trained"] = f"{time.perf_counter() - start:.0f} s"
    return model, info


# ---------------------------------------------------------------------------- the fleet


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: The production settings shared by every process (docs/deployment.md).
DEPLOY_ENV = ROOT / "docs" / "deploy" / "mdm.env"


def env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of an environment file (systemd's EnvironmentFile format, no quotes)."""
    values: Dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _base_env() -> Dict[str, str]:
    from bot.serve import embedded_env

    env = embedded_env(dict(os.environ))
    env["PYTHONHASHSEED"] = "0"
    return env


@dataclass
class Server:
    """One process of the fleet."""

    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Fleet:
    """Action servers and Rasa servers on one database and one Redis, started and stopped here."""

    workdir: Path
    postgres_url: str
    redis_url: str
    env: Dict[str, str] = field(default_factory=dict)
    servers: Dict[str, Server] = field(default_factory=dict)
    database: str = ""
    prefix: str = ""

    def setup(self) -> None:
        """Create the database and the environment (fails when PostgreSQL or Redis is down)."""
        import psycopg2
        import redis  # type: ignore[import-untyped]
        from sqlalchemy.engine import make_url

        token = secrets.token_hex(4)
        self.database = f"mdm_bench_{token}"
        self.prefix = f"mdmbench{token}"
        admin = make_url(self.postgres_url)
        self._pg: Dict[str, Any] = {
            "host": str(admin.host or "127.0.0.1"),
            "port": int(admin.port or 5432),
            "user": str(admin.username or "postgres"),
            "password": str(admin.password or ""),
        }
        conn = psycopg2.connect(dbname=admin.database or "postgres", connect_timeout=5, **self._pg)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{self.database}"')
        conn.close()
        self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        self._redis.ping()
        kwargs = self._redis.connection_pool.connection_kwargs
        user_part = self._pg["user"] + (f":{self._pg['password']}" if self._pg["password"] else "")
        # The deployment's settings (docs/deploy/mdm.env: lock store, pools, threads, Sanic),
        # with this machine's servers, a database and a key prefix of the run's own.
        self.env = _base_env()
        self.env.update(env_file(DEPLOY_ENV))
        self.env.update(
            TRACKER_DB_DIALECT="postgresql",
            TRACKER_DB_HOST=self._pg["host"],
            TRACKER_DB_PORT=str(self._pg["port"]),
            TRACKER_DB_NAME=self.database,
            TRACKER_DB_USER=self._pg["user"],
            TRACKER_DB_PASSWORD=self._pg["password"],
            DATABASE_URL=f"postgresql+psycopg2://{user_part}@{self._pg['host']}:{self._pg['port']}/{self.database}",
            LOCK_STORE_TYPE="redis",
            REDIS_HOST=str(kwargs.get("host", "127.0.0.1")),
            REDIS_PORT=str(kwargs.get("port", 6379)),
            REDIS_DB=str(kwargs.get("db", 0)),
            REDIS_PASSWORD=str(kwargs.get("password") or ""),
            REDIS_KEY_PREFIX=self.prefix,
        )
        subprocess.run(  # noqa: S603
            [str(Path(sys.executable).parent / "mdm"), "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self, name: str, argv: List[str], port: int, env: Dict[str, str]) -> Server:
        """Start one process (its own session, log in the work folder)."""
        log = self.workdir / f"{name}.log"
        proc = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(name, port, proc, log)
        self.servers[name] = server
        return server

    def start_actions(self, name: str) -> Server:
        """Start an action server on a free port."""
        port = _free_port()
        argv = [
            str(Path(sys.executable).parent / "rasa"),
            "run",
            "actions",
            "--actions",
            "actions",
            "--port",
            str(port),
        ]
        return self.start(name, argv, port, self.env)

    def start_rasa(self, name: str, model: Path, actions: Server) -> Server:
        """Start a Rasa server on a free port, calling ``actions``."""
        port = _free_port()
        argv = [
            str(Path(sys.executable).parent / "rasa"),
            "run",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ]
        env = {**self.env, "ACTION_SERVER_URL": f"{actions.url}/webhook"}
        return self.start(name, argv, port, env)

    def wait(self, timeout: float = 600.0) -> None:
        """Wait until every server answers (Rasa needs 20-60 s to load a model)."""
        import httpx

        deadline = time.time() + timeout
        for server in self.servers.values():
            path = "/health" if server.name.startswith("actions") else "/"
            while True:
                if server.proc.poll() is not None:
                    tail = server.log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{tail}")
                try:
                    if httpx.get(server.url + path, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline:
                    raise TimeoutError(f"{server.name} did not start in {timeout:.0f} s")
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after 20 s)."""
        for server in self.servers.values():
            if server.proc.poll() is None:
                os.killpg(server.proc.pid, signal.SIGTERM)
        for server in self.servers.values():
            try:
                server.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.proc.pid, signal.SIGKILL)

    def teardown(self) -> None:
        """Stop everything, drop the database, delete our Redis keys."""
        import psycopg2

        try:
            self.stop()
        finally:
            if self.prefix and getattr(self, "_redis", None) is not None:
                for key in self._redis.scan_iter(match=f"{self.prefix}:*"):
                    self._redis.delete(key)
            if self.database:
                conn = psycopg2.connect(dbname="postgres", connect_timeout=5, **self._pg)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                conn.close()

    def events_stored(self) -> int:
        """Rows of Rasa's events table (the tracker store's writes)."""
        import psycopg2

        conn = psycopg2.connect(dbname=self.database, connect_timeout=5, **self._pg)
        try:
            with conn.cursor() as cur:
                cur.execute("select count(*) from events")
                return int(cur.fetchone()[0])
        finally:
            conn.close()


# ------------------------------------------------------------------------------ the load


@dataclass
class Phase:
    """What one run of simulated users measured."""

    latencies_ms: List[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    sent: int = 0
    elapsed: float = 0.0
    per_server: Counter = field(default_factory=Counter)


async def simulate(
    urls: Sequence[str],
    users: int,
    seconds: float,
    think: float,
    max_messages: int,
    seed: int = 0,
) -> Phase:
    """Run ``users`` simulated users against ``urls`` (round robin) for ``seconds``.

    Every user plays scripts one message at a time; a message is counted when its answer
    arrives. No user starts a message after the deadline or beyond ``max_messages``.
    """
    import httpx

    phase = Phase()
    rng = random.Random(seed)  # noqa: S311 - think times, not secrets
    rr = itertools.count()
    started = time.perf_counter()
    deadline = started + seconds
    limits = httpx.Limits(max_connections=users * 2 + 10, max_keepalive_connections=users * 2 + 10)

    async def user(index: int, client: httpx.AsyncClient) -> None:
        # Users arrive at random times within the first second, or within one think time:
        # a steady flow of messages, not every user pressing enter in the same second.
        await asyncio.sleep(rng.random() * min(max(1.0, think), seconds / 2))
        for number in itertools.count():
            _, script = ALL_SCRIPTS[(index + number) % len(ALL_SCRIPTS)]
            sender = f"load-{index}-{number}-{uuid.uuid4().hex[:8]}"
            for text in script:
                if time.perf_counter() >= deadline or phase.sent >= max_messages:
                    return
                phase.sent += 1
                target = next(rr) % len(urls)
                t0 = time.perf_counter()
                try:
                    response = await client.post(
                        f"{urls[target]}/webhooks/rest/webhook",
                        json={"sender": sender, "message": text},
                    )
                    elapsed_ms = (time.perf_counter() - t0) * 1000.0
                    if response.status_code != 200:
                        phase.errors[f"http_{response.status_code}"] += 1
                    elif not response.json():
                        phase.errors["no_reply"] += 1
                    else:
                        phase.latencies_ms.append(elapsed_ms)
                        phase.per_server[target] += 1
                except httpx.TimeoutException:
                    phase.errors["timeout"] += 1
                except httpx.HTTPError as error:
                    phase.errors[type(error).__name__] += 1
                if think > 0:
                    await asyncio.sleep(think * (0.5 + rng.random()))

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        await asyncio.gather(*(user(i, client) for i in range(users)))
    phase.elapsed = time.perf_counter() - started
    return phase


def warm_up(urls: Sequence[str]) -> None:
    """A few conversations per server first: lazy loading is not part of the figures."""
    asyncio.run(
        simulate(
            urls,
            users=len(ALL_SCRIPTS),
            seconds=1e9,
            think=0.0,
            max_messages=len(urls) * 2 * sum(len(s) for _, s in ALL_SCRIPTS),
        )
    )


# ---------------------------------------------------------------------------- profiling

#: Where a CPU sample's time goes: the first category one of whose markers is in the stack.
PROFILE_CATEGORIES: List[Tuple[str, Tuple[str, ...]]] = [
    ("action response validation (jsonschema)", ("jsonschema/",)),
    (
        "tracker store (PostgreSQL)",
        ("rasa/core/tracker_store.py", "bot/storage/tracker_store.py", "sqlalchemy/", "psycopg2"),
    ),
    ("lock store (Redis)", ("rasa/core/lock_store.py", "rasa/core/lock.py", "redis/")),
    ("NLU", ("parse_message (rasa/core/processor.py", "(bot/nlu/", "(bot/language/")),
    ("policies", ("_predict_next_with_tracker (rasa/core/processor.py", "rasa/core/policies/")),
    ("action calls (HTTP client)", ("aiohttp/", "rasa/utils/endpoints.py")),
    ("events (de)serialisation", ("rasa/shared/core/events.py", "json/", "load_json (sanic/")),
    ("action code", ("(actions/", "(bot/", "(rasa_sdk/executor.py", "(rasa_sdk/forms.py")),
    ("HTTP server (Sanic)", ("sanic/", "httptools", "(connectors/")),
]


#: Leaf frames of a process waiting for work (the event loop in C): not CPU time.
IDLE_LEAVES = ("serve (sanic/server/runners.py",)


def categorise_folded(lines: Iterable[str]) -> Dict[str, float]:
    """Share of busy samples per category from py-spy's ``--format raw`` (folded) output."""
    totals: Counter = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        if stack.rsplit(";", 1)[-1].startswith(IDLE_LEAVES):
            continue
        category = "other (asyncio, logging, Rasa engine)"
        for name, markers in PROFILE_CATEGORIES:
            if any(marker in stack for marker in markers):
                category = name
                break
        totals[category] += int(count)
    total = sum(totals.values()) or 1
    return {name: round(100.0 * n / total, 1) for name, n in totals.most_common()}


def start_profiler(pid: int, seconds: float, output: Path) -> Optional[subprocess.Popen]:
    """py-spy recording a process (None when py-spy is not installed)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy not installed (make install-dev): no profile", file=sys.stderr)
        return None
    return subprocess.Popen(  # noqa: S603
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "100",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# -------------------------------------------------------------------------------- run


def run(
    users: int = DEFAULT_USERS,
    seconds: float = DEFAULT_SECONDS,
    think: float = 0.0,
    user_counts: Optional[Sequence[int]] = None,
    instances: Sequence[int] = (1, 2),
    pipelines: Sequence[str] = ("ours", "default"),
    model: Path = common.DEFAULT_MODEL,
    default_model_path: Optional[Path] = None,
    default_epochs: Optional[int] = None,
    postgres_url: str = DEFAULT_POSTGRES,
    redis_url: str = DEFAULT_REDIS,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    profile_dir: Optional[Path] = None,
    speedups: bool = True,
    extra_env: Optional[Dict[str, str]] = None,
) -> Dict[str, Any]:
    """Measure the assistant under load; see the module docstring.

    Args:
        users: Simulated users when ``user_counts`` is not given.
        seconds: Duration of each run.
        think: Mean pause of a user between an answer and its next message, in seconds.
        user_counts: Several numbers of users, one run each (e.g. 10, 20, 50).
        instances: Numbers of Rasa instances to measure (1 and/or 2).
        pipelines: ``ours`` and/or ``default``.
        model: Our trained model (copied before use).
        default_model_path: A default-pipeline model to use instead of training one.
        default_epochs: Train the default pipeline with this many epochs (None: rasa init's).
        postgres_url: A maintenance database URL of the PostgreSQL server to use.
        redis_url: The Redis server (and db number) of the lock store.
        max_messages: Upper bound on the messages of one run.
        profile_dir: Write py-spy profiles of the first ``ours`` run here.
        speedups: Run Rasa with :mod:`connectors.speedups` (``False``: Rasa as shipped).
        extra_env: Variables set for every server, over docs/deploy/mdm.env (ablations).

    Returns:
        The report (see :func:`format_table` for the fields).
    """
    counts = list(user_counts or [users])
    if max(instances) > 2 or min(instances) < 1:
        raise ValueError("instances must be 1 and/or 2")
    load_before = os.getloadavg()
    report: Dict[str, Any] = {
        "benchmark": "load",
        "machine": {**common.machine(), "loadavg_before": [round(x, 2) for x in load_before]},
        "settings": {
            "users": counts,
            "seconds": seconds,
            "think_s": think,
            "instances": list(instances),
            "pipelines": list(pipelines),
            "max_messages": max_messages,
            "scripts": len(ALL_SCRIPTS),
            "request_timeout_s": REQUEST_TIMEOUT_S,
            "rasa_speedups": speedups,
            "extra_env": dict(extra_env or {}),
        },
        "models": {},
        "results": [],
    }
    with tempfile.TemporaryDirectory(prefix="mdm-bench-load-") as tmp:
        workdir = Path(tmp)
        models: Dict[str, Path] = {}
        if "ours" in pipelines:
            models["ours"] = workdir / "ours.tar.gz"
            shutil.copy(model, models["ours"])
            report["models"]["ours"] = {"path": str(model), "config": "config.yml"}
        if "default" in pipelines:
            if default_model_path is not None:
                models["default"] = default_model_path
                report["models"]["default"] = {"path": str(default_model_path), "config": "given"}
            else:
                models["default"], info = default_model(default_epochs)
                report["models"]["default"] = {"path": str(models["default"]), **info}
        fleet = Fleet(workdir, postgres_url, redis_url)
        try:
            fleet.setup()
            fleet.env["MDM_RASA_SPEEDUPS"] = "1" if speedups else "0"
            fleet.env.update(extra_env or {})
            actions = [fleet.start_actions("actions-a"), fleet.start_actions("actions-b")]
            for name in models:
                for i, letter in enumerate("ab"[: max(instances)]):
                    fleet.start_rasa(f"rasa-{name}-{letter}", models[name], actions[i])
            fleet.wait()
            profiled = False
            for name in models:
                for n in instances:
                    rasa = [fleet.servers[f"rasa-{name}-{letter}"] for letter in "ab"[:n]]
                    urls = [s.url for s in rasa]
                    warm_up(urls)
                    for count in counts:
                        watched = {s.name: s.proc.pid for s in rasa}
                        watched.update({a.name: a.proc.pid for a in actions[:n]})
                        meter = CpuMeter(watched)
                        spies: List[Tuple[str, subprocess.Popen]] = []
                        if profile_dir is not None and name == "ours" and not profiled:
                            profile_dir.mkdir(parents=True, exist_ok=True)
                            for server in [*rasa[:1], *actions[:1]]:
                                spy = start_profiler(
                                    server.proc.pid, seconds, profile_dir / f"{server.name}.folded"
                                )
                                if spy is not None:
                                    spies.append((server.name, spy))
                        events_before = fleet.events_stored()
                        meter.start()
                        phase = asyncio.run(
                            simulate(urls, count, seconds, think, max_messages, seed=count)
                        )
                        cpu = meter.stop()
                        for _, spy in spies:
                            spy.wait(timeout=seconds + 60)
                        answered = len(phase.latencies_ms)
                        result = {
                            "pipeline": name,
                            "instances": n,
                            "users": count,
                            "messages": phase.sent,
                            "answered": answered,
                            "throughput_msg_s": round(answered / phase.elapsed, 2)
                            if phase.elapsed
                            else 0.0,
                            "latency_ms": latency_summary(phase.latencies_ms),
                            "errors": sum(phase.errors.values()),
                            "error_kinds": dict(phase.errors),
                            "per_instance": [phase.per_server[i] for i in range(n)],
                            "events_per_message": round(
                                (fleet.events_stored() - events_before) / max(1, answered), 1
                            ),
                            "cpu_pct": cpu,
                            # CPU time per answered message: what a busy machine does not hide.
                            "cpu_ms_per_message": cpu_per_message(cpu, watched, answered, phase),
                            "memory": {s: _memory_mb(pid) for s, pid in watched.items()},
                            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                        }
                        if spies and profile_dir is not None:
                            folded = {s: profile_dir / f"{s}.folded" for s, _ in spies}
                            result["profile"] = {
                                s: categorise_folded(
                                    path.read_text().splitlines() if path.exists() else []
                                )
                                for s, path in folded.items()
                            }
                            profiled = True
                        report["results"].append(result)
                        print(_row(result), file=sys.stderr, flush=True)
        finally:
            fleet.teardown()
    report["ratios"] = ratios(report["results"])
    report["aims"] = aims(report["results"], report["ratios"])
    return report


def cpu_per_message(
    cpu: Dict[str, Any], processes: Iterable[str], answered: int, phase: Phase
) -> Dict[str, float]:
    """Milliseconds of CPU per answered message for each process and for all of ours."""
    if not answered or not phase.elapsed:
        return {}
    seconds = phase.elapsed
    out = {name: round(cpu[name] / 100.0 * seconds * 1000.0 / answered, 1) for name in processes}
    out["all ours"] = round(sum(out.values()), 1)
    return out


def _find(
    results: List[Dict[str, Any]], pipeline: str, n: int, users: int
) -> Optional[Dict[str, Any]]:
    return next(
        (r for r in results if (r["pipeline"], r["instances"], r["users"]) == (pipeline, n, users)),
        None,
    )


def ratios(results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """ours/default throughput and p95, and two/one instances throughput, where both exist."""
    out = []
    for r in results:
        row: Dict[str, Any] = {
            "pipeline": r["pipeline"],
            "instances": r["instances"],
            "users": r["users"],
        }
        other = _find(results, "default", r["instances"], r["users"])
        if r["pipeline"] == "ours" and other and other["throughput_msg_s"]:
            row["throughput_ours_over_default"] = round(
                r["throughput_msg_s"] / other["throughput_msg_s"], 2
            )
            if r["latency_ms"]["p95"]:
                row["p95_default_over_ours"] = round(
                    other["latency_ms"]["p95"] / r["latency_ms"]["p95"], 2
                )
            mine = (r.get("cpu_ms_per_message") or {}).get("all ours")
            theirs = (other.get("cpu_ms_per_message") or {}).get("all ours")
            if mine and theirs:
                row["cpu_per_message_default_over_ours"] = round(theirs / mine, 2)
        one = _find(results, r["pipeline"], 1, r["users"])
        if r["instances"] == 2 and one and one["throughput_msg_s"]:
            row["throughput_two_over_one"] = round(
                r["throughput_msg_s"] / one["throughput_msg_s"], 2
            )
        if len(row) > 3:
            out.append(row)
    return out


def aims(results: List[Dict[str, Any]], ratio_rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The aims of the issue, checked on this run's figures (None when not measured)."""
    ours = [r for r in results if r["pipeline"] == "ours" and r["users"] == AIM_USERS]
    p95 = max((r["latency_ms"]["p95"] for r in ours), default=None)
    best_ratio = [
        x["throughput_ours_over_default"] for x in ratio_rows if "throughput_ours_over_default" in x
    ]
    return {
        f"p95_under_{int(P95_AIM_MS)}ms_at_{AIM_USERS}_users": None
        if p95 is None
        else p95 < P95_AIM_MS,
        "zero_errors": all(r["errors"] == 0 for r in results if r["pipeline"] == "ours"),
        "twice_default_throughput": None
        if not best_ratio
        else min(best_ratio) >= THROUGHPUT_RATIO_AIM,
    }


def _row(r: Dict[str, Any]) -> str:
    lat = r["latency_ms"]
    return (
        f"{r['pipeline']:8s} x{r['instances']} {r['users']:4d} users  "
        f"{r['throughput_msg_s']:7.1f} msg/s  p50 {lat['p50']:7.1f}  p95 {lat['p95']:7.1f}  "
        f"p99 {lat['p99']:7.1f} ms  errors {r['errors']}"
    )


def format_table(report: Dict[str, Any]) -> str:
    """A readable summary of :func:`run`'s report."""
    lines = [
        f"load: {report['settings']['seconds']:.0f} s per run, "
        f"think {report['settings']['think_s']} s, "
        f"load average before {report['machine']['loadavg_before']}",
        f"{'pipeline':8s} inst users    msg/s      p50      p95      p99 ms  errors  "
        "cpu% (process: %)",
    ]
    for r in report["results"]:
        lat = r["latency_ms"]
        cpu = ", ".join(f"{k} {v}" for k, v in r["cpu_pct"].items())
        lines.append(
            f"{r['pipeline']:8s} {r['instances']:4d} {r['users']:5d} {r['throughput_msg_s']:8.1f} "
            f"{lat['p50']:8.1f} {lat['p95']:8.1f} {lat['p99']:8.1f} {r['errors']:7d}  {cpu}"
        )
    for row in report["ratios"]:
        lines.append(f"ratio {row}")
    for r in report["results"]:
        lines.append(
            f"cpu ms/message {r['pipeline']} x{r['instances']} {r['users']} users: "
            + ", ".join(f"{k} {v}" for k, v in r.get("cpu_ms_per_message", {}).items())
        )
    for r in report["results"]:
        if "profile" in r:
            for server, shares in r["profile"].items():
                lines.append(
                    f"profile {server}: " + ", ".join(f"{k} {v}%" for k, v in shares.items())
                )
    lines.append(f"aims: {report['aims']}")
    return "\n".join(lines)


def _ints(text: str) -> List[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``mdm bench load``)."""
    parser = argparse.ArgumentParser(prog="mdm bench load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="simulated users")
    parser.add_argument("--user-counts", type=_ints, help="several runs: e.g. 10,20,50 users")
    parser.add_argument(
        "--seconds", type=float, default=DEFAULT_SECONDS, help="duration of each run"
    )
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between messages (s)")
    parser.add_argument("--instances", type=_ints, default=[1, 2], help="1, 2 or 1,2")
    parser.add_argument("--pipelines", default="ours,default", help="ours, default or both")
    parser.add_argument(
        "--model", type=Path, default=common.DEFAULT_MODEL, help="our trained model"
    )
    parser.add_argument("--default-model", type=Path, help="a default-pipeline model to use")
    parser.add_argument(
        "--default-epochs", type=int, help="train the default pipeline with N epochs"
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL maintenance URL")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis URL (lock store)")
    parser.add_argument("--max-messages", type=int, default=DEFAULT_MAX_MESSAGES)
    parser.add_argument(
        "--profile", type=Path, help="folder for py-spy profiles of the first ours run"
    )
    parser.add_argument(
        "--no-speedups", action="store_true", help="Rasa without connectors/speedups.py (before)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variable for every server, over docs/deploy/mdm.env (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.max_messages < 1:
        parser.error("--users, --seconds and --max-messages must be positive")
    if any("=" not in item for item in args.env):
        parser.error("--env takes KEY=VALUE")
    pipelines = [p.strip() for p in args.pipelines.split(",") if p.strip()]
    if not set(pipelines) <= {"ours", "default"} or not pipelines:
        parser.error("--pipelines takes ours, default or ours,default")
    if "ours" in pipelines and not args.model.exists():
        print(f"no model at {args.model}: run `make train` first", file=sys.stderr)
        return 2
    with common.stdout_to_stderr(args.json):
        report = run(
            users=args.users,
            seconds=args.seconds,
            think=args.think,
            user_counts=args.user_counts,
            instances=args.instances,
            pipelines=pipelines,
            model=args.model,
            default_model_path=args.default_model,
            default_epochs=args.default_epochs,
            postgres_url=args.postgres,
            redis_url=args.redis,
            max_messages=args.max_messages,
            profile_dir=args.profile,
            speedups=not args.no_speedups,
            extra_env=dict(item.split("=", 1) for item in args.env),
        )
    common.emit(report, args.json, format_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
