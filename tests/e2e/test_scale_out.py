"""Scale-out under concurrency: two Rasa servers, two action servers, one PostgreSQL, one Redis.

The processes run the command lines of docs/deploy/*.service with the values of
docs/deploy/mdm.env + secrets.env.example (the deployment guide's), except: a fresh database
(created here, migrated with ``mdm db upgrade``, dropped afterwards), the local trust user,
a key prefix of our own in Redis (only those keys are deleted afterwards), free ports, each
Rasa server calling its own action server (the guide puts nginx between them), and a copy of
the model (a teammate may retrain models/mdm.tar.gz meanwhile).

Twenty conversations of six turns run at once; each conversation alternates between the two
Rasa servers. After a third of the messages, Rasa server B is killed (SIGKILL, with messages
in flight) and started again; the fifth turns wait until it is back.

How the client retries without a message being processed twice. Every message carries a
``client_message_id`` in its metadata, which Rasa stores with the user event:

* connection refused (``httpx.ConnectError``): nothing was sent, the message goes to the other
  server at once;
* the connection broke after the request was sent (read error, server gone): the message may
  or may not have been processed. The client waits until no live ticket holds the
  conversation's lock in Redis (a dead server's ticket expires after ``TICKET_LOCK_LIFETIME``;
  a server commits a message's events before releasing its lock), then looks the id up in the
  tracker store: found, the stored answer is the reply; not found, it sends the message again.

Fails (never skips) when PostgreSQL or Redis cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from configparser import ConfigParser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest

from .conftest import MODEL, ROOT, free_port, wait_until_up

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

DEPLOY = ROOT / "docs" / "deploy"
ADMIN_URL = os.environ.get(
    "MDM_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MDM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PREFIX = "/opt/mdm-assistant"
N_CONVERSATIONS = 20
N_TURNS = 6
KILL_AFTER = 30  # answered messages before server B is killed
T0 = time.time()


def log(message: str) -> None:
    """Timeline on stdout (pytest -s shows it): where the run time goes."""
    print(f"[scale-out {time.time() - T0:6.1f}s] {message}", flush=True)


# ------------------------------------------------------------------------ the guide's files


def env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of an environment file (what systemd's EnvironmentFile= reads)."""
    values: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def unit_command(unit: str, port: int, model: Optional[Path] = None) -> List[str]:
    """The ExecStart of a unit of docs/deploy/, for this checkout and this port."""
    parser = ConfigParser(strict=False, interpolation=None)
    parser.read_string((DEPLOY / unit).read_text(encoding="utf-8"))
    argv = shlex.split(
        parser["Service"]["ExecStart"].replace("%i", str(port)).replace(PREFIX, str(ROOT))
    )
    if model is not None and "--model" in argv:
        argv[argv.index("--model") + 1] = str(model)
    return argv


# ----------------------------------------------------------------------------- the cluster


def _admin():
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(ADMIN_URL)
    try:
        conn = psycopg2.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            dbname=url.database or "postgres",
            connect_timeout=5,
        )
    except psycopg2.OperationalError as error:
        pytest.fail(f"PostgreSQL unreachable at {url.host}:{url.port}: {error}", pytrace=False)
    conn.autocommit = True
    return conn, url


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis unreachable at {REDIS_URL}: {error}", pytrace=False)
    return client


class Cluster:
    """Two action servers and two Rasa servers sharing one database and one Redis."""

    def __init__(self, workdir: Path):
        import redis

        self.workdir = workdir
        self.admin, url = _admin()
        _redis()
        token = secrets.token_hex(4)
        self.db = f"mdm_scale_{token}"
        self.pg = {
            "host": url.host or "127.0.0.1",
            "port": url.port or 5432,
            "user": url.username or "postgres",
        }
        with self.admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{self.db}"')
        redis_url = redis.connection.parse_url(REDIS_URL)
        self.env: Dict[str, str] = dict(os.environ)
        self.env.update(env_file(DEPLOY / "mdm.env"))
        self.env.update(env_file(DEPLOY / "secrets.env.example"))
        assert (
            self.env["LOCK_STORE_TYPE"] == "redis"
            and self.env["TRACKER_DB_DIALECT"] == "postgresql"
        )
        self.env.update(
            TRACKER_DB_HOST=self.pg["host"],
            TRACKER_DB_PORT=str(self.pg["port"]),
            TRACKER_DB_USER=self.pg["user"],
            TRACKER_DB_NAME=self.db,
            DATABASE_URL=f"postgresql+psycopg2://{self.pg['user']}@{self.pg['host']}:{self.pg['port']}/{self.db}",
            REDIS_HOST=str(redis_url.get("host", "127.0.0.1")),
            REDIS_PORT=str(redis_url.get("port", 6379)),
            REDIS_KEY_PREFIX=f"mdmscale{token}",
        )
        self.lock_prefix = f"{self.env['REDIS_KEY_PREFIX']}:lock:"
        self.redis = redis.Redis(
            host=self.env["REDIS_HOST"],
            port=int(self.env["REDIS_PORT"]),
            db=int(self.env["REDIS_DB"]),
        )
        self.model = workdir / "mdm.tar.gz"
        self.rasa_ports = [free_port(), free_port()]
        self.action_ports = [free_port(), free_port()]
        self.procs: Dict[str, subprocess.Popen] = {}

    def _spawn(self, name: str, argv: List[str], env: Dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def rasa_env(self, i: int) -> Dict[str, str]:
        return {**self.env, "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_ports[i]}/webhook"}

    def start_rasa(self, i: int) -> subprocess.Popen:
        argv = unit_command("mdm-rasa@.service", self.rasa_ports[i], self.model)
        return self._spawn(f"rasa{i}", argv, self.rasa_env(i))

    def start(self) -> "Cluster":
        if not MODEL.exists():
            raise FileNotFoundError(f"{MODEL} is missing: run `make train` first")
        shutil.copy(MODEL, self.model)
        migrate = subprocess.run(
            unit_command("mdm-migrate.service", 0),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        for i in (0, 1):
            self._spawn(
                f"actions{i}", unit_command("mdm-actions@.service", self.action_ports[i]), self.env
            )
        for i in (0, 1):
            self.start_rasa(i)
        for i in (0, 1):
            wait_until_up(
                f"http://127.0.0.1:{self.action_ports[i]}/health", self.procs[f"actions{i}"], 240
            )
        for i in (0, 1):
            self.wait_rasa(i)
        log(f"cluster up: rasa {self.rasa_ports}, actions {self.action_ports}, db {self.db}")
        return self

    def wait_rasa(self, i: int) -> None:
        wait_until_up(f"{self.url(i)}/", self.procs[f"rasa{i}"], 240)

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    def kill_rasa(self, i: int) -> None:
        proc = self.procs[f"rasa{i}"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def query(self, sql: str, *args: Any) -> List[Tuple]:
        import psycopg2

        with psycopg2.connect(dbname=self.db, **self.pg) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def events(self, sender: str) -> List[Tuple[int, str, float, Dict[str, Any]]]:
        rows = self.query(
            "select id, type_name, timestamp, data from events where sender_id = %s order by id",
            sender,
        )
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def lock_busy(self, sender: str) -> bool:
        """A live (unexpired) ticket holds or waits for this conversation's lock."""
        raw = self.redis.get(self.lock_prefix + sender)
        if not raw:
            return False
        tickets = [json.loads(t) for t in json.loads(raw).get("tickets", [])]
        return any(t["expires"] > time.time() for t in tickets)

    def lock_keys(self) -> List[bytes]:
        return list(self.redis.scan_iter(match=self.lock_prefix + "*"))

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def close(self) -> None:
        try:
            self.stop()
        finally:
            for key in self.redis.scan_iter(match=self.env["REDIS_KEY_PREFIX"] + ":*"):
                self.redis.delete(key)
            with self.admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            self.admin.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("scale"))
    try:
        yield running.start()
    finally:
        running.close()


# ------------------------------------------------------------------------- conversations

# Our own sentences; each conversation is six turns in one variety.
SCRIPTS: Dict[str, List[List[str]]] = {
    "fr": [
        [
            "Bonjour",
            "je voudrais refaire mon passeport, il est périmé",
            "combien ça coûte ?",
            '/procedure_detail{"detail":"documents"}',
            "merci pour l'aide",
            "au revoir",
        ],
        [
            "salut",
            "comment obtenir un extrait d'acte de naissance depuis la France ?",
            "quels papiers faut-il ?",
            "et le délai ?",
            "merci",
            "bonne journée",
        ],
    ],
    "ar": [
        [
            "السلام عليكم",
            "كيف أجدد بطاقة التعريف الوطنية وأنا في الخارج؟",
            "ما هي الوثائق المطلوبة؟",
            '/procedure_detail{"detail":"fees"}',
            "شكرا جزيلا",
            "مع السلامة",
        ],
    ],
    "ary": [
        [
            "السلام",
            "بغيت نسجل راسي فالقنصلية",
            "شنو خاصني من وراق؟",
            "شحال كياخد ديال الوقت؟",
            "شكرا بزاف",
            "بسلامة",
        ],
    ],
    "ary_Latn": [
        [
            "salam",
            "kifach ndir procuration mn hna l lmaghrib?",
            "chno lwra9 li khassin?",
            "w chhal kaykhlles?",
            "choukran bzaf",
            "bslama",
        ],
    ],
    "en": [
        [
            "hello there",
            "how can I register a birth at the consulate?",
            "what documents do I need?",
            '/procedure_detail{"detail":"steps"}',
            "thanks a lot",
            "bye",
        ],
    ],
}
ALL_SCRIPTS = [(lang, turns) for lang, scripts in SCRIPTS.items() for turns in scripts]


def ticket_flow_exists() -> bool:
    """The suggestion form of the ticket flow is in the domain, the rules and the actions."""
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    rules = ROOT / "data" / "rules" / "tickets.yml"
    return (
        "suggestion_form" in domain
        and rules.exists()
        and (ROOT / "actions" / "tickets.py").exists()
    )


def suggestion_text(sender: str) -> str:
    return (
        f"Proposition {sender}: ouvrir le guichet du consulat le samedi matin"
        " pour ceux qui travaillent."
    )


def next_ticket_message(sender: str, reply: List[dict]) -> str:
    """The user's next move in the suggestion form, from the buttons of the last reply."""
    payloads = [b.get("payload", "") for m in reply for b in m.get("buttons") or []]
    for wanted in ('"chat"', "/affirm", '"send"'):
        for payload in payloads:
            if wanted in payload:
                return payload
    return suggestion_text(sender)


@dataclass
class Turn:
    text: str
    mid: str
    reply: Optional[List[dict]] = None
    target: int = 0
    served_by: Optional[int] = None
    how: str = ""  # direct | refused-then-other | recovered-from-tracker | resent
    started: float = 0.0
    after_restart: bool = False


@dataclass
class Conversation:
    sender: str
    lang: str
    index: int
    tickets: bool
    turns: List[Turn] = field(default_factory=list)


class Client:
    """Sends the conversations, alternating servers, retrying as the module docstring says."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.answered = 0
        self.counts = {"refused": 0, "broken": 0, "recovered": 0, "resent": 0}
        self.killed = asyncio.Event()
        self.back = asyncio.Event()
        self.restarted_at = float("inf")

    async def settle(self, sender: str, mid: str) -> Optional[List[dict]]:
        """After a broken connection: the stored answer to ``mid``; None if never processed."""
        deadline = time.time() + int(self.cluster.env["TICKET_LOCK_LIFETIME"]) + 30
        while self.cluster.lock_busy(sender):
            assert time.time() < deadline, "conversation lock never released"
            await asyncio.sleep(0.2)
        events = await asyncio.to_thread(self.cluster.events, sender)
        for position, (_, kind, _, data) in enumerate(events):
            if kind == "user" and (data.get("metadata") or {}).get("client_message_id") == mid:
                reply = []
                for _, later_kind, _, later in events[position + 1 :]:
                    if later_kind == "action" and later.get("name") == "action_listen":
                        break
                    if later_kind == "bot":
                        reply.append({"text": later.get("text"), **(later.get("data") or {})})
                return reply
        return None

    async def send(self, http: httpx.AsyncClient, conv: Conversation, turn: Turn) -> None:
        body = {
            "sender": conv.sender,
            "message": turn.text,
            "metadata": {"client_message_id": turn.mid},
        }
        target = turn.target
        turn.started = time.time()
        for _attempt in range(6):
            try:
                response = await http.post(
                    f"{self.cluster.url(target)}/webhooks/rest/webhook", json=body
                )
            except (httpx.ConnectError, AttributeError):
                # Refused: the request never left the client. Another server takes it.
                # (A socket reset while httpcore sets the connection up surfaces from anyio
                # under uvloop as AttributeError "'NoneType' object has no attribute
                # 'getpeername'": it is still before the request was written.)
                self.counts["refused"] += 1
                turn.how = "refused-then-other"
                target = 1 - target
                await asyncio.sleep(0.1)
                continue
            except (
                httpx.ReadError,
                httpx.RemoteProtocolError,
                httpx.WriteError,
                httpx.ReadTimeout,
            ):
                # Sent, then the connection broke: processed or not? Ask the tracker store.
                self.counts["broken"] += 1
                stored = await self.settle(conv.sender, turn.mid)
                if stored is not None:
                    self.counts["recovered"] += 1
                    turn.how, turn.reply, turn.served_by = "recovered-from-tracker", stored, target
                    break
                self.counts["resent"] += 1
                turn.how = "resent"
                target = 1 - target
                continue
            assert response.status_code == 200, (response.status_code, response.text[:300])
            turn.reply, turn.served_by = response.json(), target
            turn.how = turn.how or "direct"
            break
        assert turn.reply is not None, f"{conv.sender}: no answer to turn {turn.text!r}"
        turn.after_restart = turn.started > self.restarted_at and turn.served_by == 1
        self.answered += 1
        if self.answered >= KILL_AFTER and not self.killed.is_set():
            self.killed.set()

    async def converse(
        self, http: httpx.AsyncClient, conv: Conversation, script: List[str]
    ) -> None:
        await asyncio.sleep(0.05 * conv.index)  # interleave the starts
        reply: List[dict] = []
        for t in range(N_TURNS):
            if t == 4:
                await self.back.wait()  # the last turns run once server B is back
            if conv.tickets:
                text = (
                    "/greet"
                    if t == 0
                    else "/make_suggestion"
                    if t == 1
                    else next_ticket_message(conv.sender, reply)
                )
            else:
                text = script[t]
            turn = Turn(text, uuid.uuid4().hex, target=(conv.index + t) % 2)
            conv.turns.append(turn)
            await self.send(http, conv, turn)
            reply = turn.reply or []

    async def kill_and_restart(self) -> None:
        await self.killed.wait()
        await asyncio.to_thread(self.cluster.kill_rasa, 1)
        log(f"rasa1 killed after {self.answered} answers; restarting")
        self.cluster.start_rasa(1)
        self.restarted_at = time.time()
        await asyncio.to_thread(self.cluster.wait_rasa, 1)
        log("rasa1 back")
        self.back.set()


def run_conversations(cluster: Cluster) -> Tuple[List[Conversation], Client, int]:
    tickets = ticket_flow_exists()
    conversations = [
        Conversation(
            f"scale-{i:02d}-{uuid.uuid4().hex[:8]}",
            ALL_SCRIPTS[i % len(ALL_SCRIPTS)][0],
            i,
            tickets=tickets and i % 4 == 3,
        )
        for i in range(N_CONVERSATIONS)
    ]
    client = Client(cluster)
    seen_locks = [0]
    stop = threading.Event()

    def watch_locks() -> None:  # evidence that the servers lock conversations in Redis
        while not stop.is_set():
            seen_locks[0] = max(seen_locks[0], len(cluster.lock_keys()))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_locks, daemon=True)
    watcher.start()

    async def main() -> None:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=90, limits=limits) as http:
            await asyncio.gather(
                client.kill_and_restart(),
                *(
                    client.converse(http, c, ALL_SCRIPTS[c.index % len(ALL_SCRIPTS)][1])
                    for c in conversations
                ),
            )

    log("conversations start")
    try:
        asyncio.run(asyncio.wait_for(main(), timeout=400))
    finally:
        stop.set()
        watcher.join()
    log(f"conversations done: {client.counts}, at most {seen_locks[0]} locks at once")
    return conversations, client, seen_locks[0]


# --------------------------------------------------------------------------------- test


def bot_texts(reply: List[dict]) -> List[str]:
    return [m.get("text") or "" for m in reply]


def test_two_servers_share_conversations_and_survive_a_killed_server(cluster):
    conversations, client, max_locks = run_conversations(cluster)
    turns = [t for c in conversations for t in c.turns]

    # Every message answered, by both servers, through the retries the kill caused.
    assert len(turns) == N_CONVERSATIONS * N_TURNS
    assert all(t.reply for t in turns), [t.text for t in turns if not t.reply]
    assert {t.served_by for t in turns} == {0, 1}
    assert any(t.after_restart for t in turns), "server B answered nothing after its restart"
    assert client.counts["refused"] >= 1, client.counts  # B was down while turns went to it
    assert client.counts["broken"] == client.counts["recovered"] + client.counts["resent"]
    assert max_locks >= 1, "no conversation lock was ever seen in Redis"

    for conv in conversations:
        events = cluster.events(conv.sender)
        ids = [e[0] for e in events]
        assert ids == sorted(ids)
        stamps = [e[2] for e in events]
        assert stamps == sorted(stamps), f"{conv.sender}: events out of order"
        users = [(pos, data) for pos, (_, kind, _, data) in enumerate(events) if kind == "user"]
        # Each message stored exactly once, in the order it was sent.
        stored_mids = [(d.get("metadata") or {}).get("client_message_id") for _, d in users]
        assert stored_mids == [t.mid for t in conv.turns], f"{conv.sender}: {stored_mids}"
        assert [d.get("text") for _, d in users] == [t.text for t in conv.turns]
        # Each message's turn is complete (ends with action_listen) and is what the user got.
        bounds = [pos for pos, _ in users] + [len(events)]
        for turn, start, end in zip(conv.turns, bounds, bounds[1:]):
            block = events[start + 1 : end]
            said = [d.get("text") or "" for _, kind, _, d in block if kind == "bot"]
            assert said, f"{conv.sender}: no answer stored for {turn.text!r}"
            listens = [
                i
                for i, (_, kind, _, d) in enumerate(block)
                if kind == "action" and d.get("name") == "action_listen"
            ]
            assert listens, f"{conv.sender}: turn {turn.text!r} incomplete"
            assert said == bot_texts(turn.reply or []), (
                f"{conv.sender}: reply differs from the tracker"
            )

    # No lock left behind (a dead server's ticket expires and is cleaned by the next message).
    deadline = time.time() + int(cluster.env["TICKET_LOCK_LIFETIME"]) + 5
    while cluster.lock_keys() and time.time() < deadline:
        time.sleep(0.5)
    leftover = [
        k for k in cluster.lock_keys() if cluster.lock_busy(k.decode()[len(cluster.lock_prefix) :])
    ]
    assert not leftover, leftover

    # The recovery path (a server died after storing a message) finds stored answers...
    for conv in conversations[:4]:
        turn = conv.turns[2]
        stored = asyncio.run(client.settle(conv.sender, turn.mid))
        assert stored is not None and bot_texts(stored) == bot_texts(turn.reply or [])
    # ... and tells a message that never arrived.
    assert asyncio.run(client.settle(conversations[0].sender, uuid.uuid4().hex)) is None

    check_tickets(cluster, conversations)
    check_backup(cluster)


def check_tickets(cluster: Cluster, conversations: List[Conversation]) -> None:
    """Suggestions filed meanwhile: one per conversation with the form, unique, complete."""
    with_tickets = [c for c in conversations if c.tickets]
    if not ticket_flow_exists():
        assert not with_tickets
        return
    from bot.tickets.pseudonym import user_key

    assert with_tickets
    rows = cluster.query(
        "select ref, kind, status, description, user_key, language, channel, consent from tickets"
    )
    refs = [r[0] for r in rows]
    assert len(refs) == len(set(refs)), "duplicate ticket references"
    by_key = {r[4]: r for r in rows}
    assert len(rows) == len(with_tickets), (
        len(rows),
        [[t.text for t in c.turns] for c in with_tickets],
    )
    for conv in with_tickets:
        key = user_key("rest", conv.sender, cluster.env["MDM_SECRET_KEY"])
        assert key in by_key, f"{conv.sender}: no ticket"
        ref, kind, status, description, _, language, channel, consent = by_key[key]
        assert (kind, status, channel, consent) == ("suggestion", "open", "rest", True)
        assert description == suggestion_text(conv.sender)
        assert language in ("fr", "ar", "ary", "ary_Latn", "en")
        last = " ".join(bot_texts(conv.turns[-1].reply or []))
        assert ref in last, f"{conv.sender}: reference {ref} not given to the user: {last[:200]}"
    created = cluster.query(
        "select t.ref, count(e.id) from tickets t join ticket_events e on e.ticket_id = t.id "
        "where e.kind = 'created' group by t.ref"
    )
    assert sorted(created) == sorted((r, 1) for r in refs), "each ticket has one 'created' event"


def check_backup(cluster: Cluster) -> None:
    """docs/deploy/backup.sh on the guide's layout (one database): one dump, restorable."""
    import psycopg2

    out = cluster.workdir / "backups"
    env = {**cluster.env, "MDM_BACKUP_DIR": str(out)}
    result = subprocess.run(
        [str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    dumps = result.stdout.split()
    assert len(dumps) == 1 and re.search(
        rf"tracker-{cluster.db}-\d{{8}}T\d{{6}}Z\.dump$", dumps[0]
    ), dumps
    restored = f"{cluster.db}_restored"
    with cluster.admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "-h",
                cluster.pg["host"],
                "-p",
                str(cluster.pg["port"]),
                "-U",
                cluster.pg["user"],
                "-d",
                restored,
                dumps[0],
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        counts = (
            "select (select count(*) from events), (select count(*) from tickets),"
            " (select version_num from alembic_version)"
        )
        with psycopg2.connect(dbname=restored, **cluster.pg) as conn, conn.cursor() as cur:
            cur.execute(counts)
            assert cur.fetchall() == cluster.query(counts)
    finally:
        with cluster.admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
