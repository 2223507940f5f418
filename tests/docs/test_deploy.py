"""docs/deploy/: the files the deployment guide installs, exercised for real.

* ``nginx.conf`` runs in a real nginx (Debian's ``nginx-light``, installed by
  ``make install-dev``) in front of two small HTTP servers: syntax, round robin, fail-over
  when a server refuses connections, and no second delivery of a POST that reached a server.
* the systemd units pass ``systemd-analyze verify`` (no warning) with the checkout in place of
  ``/opt/mdm-assistant``, and their command lines are accepted by the commands they run.
* ``backup.sh`` dumps two databases that ``pg_restore`` brings back (one database holding both
  is covered by tests/e2e/test_scale_out.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from configparser import ConfigParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
BIN = Path(sys.executable).parent
PREFIX = "/opt/mdm-assistant"
ADMIN_URL = os.environ.get(
    "MDM_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_nginx() -> str:
    path = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if path is None:
        pytest.fail(
            "nginx is not installed: `make install-dev` installs Debian's nginx-light",
            pytrace=False,
        )
    return path


# ----------------------------------------------------------------------------- nginx


class Upstream:
    """A tiny HTTP server standing in for a Rasa server: counts the requests it answers."""

    def __init__(self, name: str, port: int):
        self.name = name
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # One request per connection: a stopped server leaves no kept-alive connection.
            protocol_version = "HTTP/1.0"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                outer.hits += 1
                body = f'{{"server": "{outer.name}"}}'.encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:  # quiet
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Dropper:
    """Accepts a connection, reads the request, then closes without answering (a crash)."""

    def __init__(self, port: int):
        self.received = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.running = True
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                if data.startswith(b"POST"):
                    self.received += 1

    def stop(self) -> None:
        self.running = False
        self.sock.close()


def nginx_site(ports: Dict[str, int]) -> str:
    """docs/deploy/nginx.conf with its ports replaced by free ones (each must occur)."""
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{ports['public']};",
        "127.0.0.1:5005": f"127.0.0.1:{ports['rasa_a']}",
        "127.0.0.1:5006": f"127.0.0.1:{ports['rasa_b']}",
        "127.0.0.1:5054": f"127.0.0.1:{ports['actions_lb']}",
        "127.0.0.1:5055": f"127.0.0.1:{ports['actions_a']}",
        "127.0.0.1:5056": f"127.0.0.1:{ports['actions_b']}",
    }
    for old, new in replacements.items():
        assert old in text, f"nginx.conf no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def nginx(tmp_path_factory) -> Iterator[Dict]:
    """nginx running docs/deploy/nginx.conf in front of two stand-in Rasa servers."""
    binary = find_nginx()
    work = tmp_path_factory.mktemp("nginx")
    work.chmod(0o777)  # worker processes may run as nobody
    ports = {
        k: free_port()
        for k in ("public", "rasa_a", "rasa_b", "actions_lb", "actions_a", "actions_b")
    }
    (work / "site.conf").write_text(nginx_site(ports), encoding="utf-8")
    temp = "\n".join(
        f"  {name}_temp_path {work / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (work / "main.conf").write_text(
        f"pid {work / 'nginx.pid'};\nerror_log {work / 'error.log'};\nevents {{}}\n"
        f"http {{\n  access_log off;\n{temp}\n  include {work / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    command = [binary, "-p", str(work), "-c", str(work / "main.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "[warn]" not in checked.stderr, checked.stderr
    upstreams = {"a": Upstream("a", ports["rasa_a"]), "b": Upstream("b", ports["rasa_b"])}
    proc = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{ports['public']}"
    deadline = time.time() + 15
    while True:
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(
                    f"nginx did not start: {proc.stderr.read() if proc.stderr else ''}"
                ) from None
            time.sleep(0.1)
    try:
        yield {"base": base, "ports": ports, "upstreams": upstreams}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for upstream in upstreams.values():
            with contextlib.suppress(OSError):  # B was stopped by a test already
                upstream.stop()


def post(base: str, n: int = 1) -> List[httpx.Response]:
    with httpx.Client(timeout=10) as client:
        return [
            client.post(f"{base}/webhooks/rest/webhook", json={"sender": "s", "message": "hi"})
            for _ in range(n)
        ]


def test_nginx_round_robin_health_and_private_api(nginx):
    a, b = nginx["upstreams"]["a"], nginx["upstreams"]["b"]
    before = a.hits, b.hits
    answers = [r.json()["server"] for r in post(nginx["base"], 10)]
    assert sorted(answers) == ["a"] * 5 + ["b"] * 5
    assert (a.hits - before[0], b.hits - before[1]) == (5, 5)
    assert httpx.get(nginx["base"] + "/health", timeout=5).status_code == 200
    assert httpx.get(nginx["base"] + "/conversations/x/tracker", timeout=5).status_code == 404
    too_big = httpx.post(
        nginx["base"] + "/webhooks/rest/webhook", content=b"x" * 300_000, timeout=5
    )
    assert too_big.status_code == 413


def test_nginx_fails_over_but_never_sends_a_post_twice(nginx):
    upstreams = nginx["upstreams"]
    # B down (connection refused): every message still reaches A.
    upstreams["b"].stop()
    a_before = upstreams["a"].hits
    responses = post(nginx["base"], 6)
    assert [r.status_code for r in responses] == [200] * 6
    assert upstreams["a"].hits - a_before == 6
    # B crashes after reading the request: that POST is not resent to A (it may have been
    # processed), the client gets a 502 and decides (see docs/deployment.md).
    # B's fail_timeout (10 s): nginx tries it again. nginx compares whole seconds
    # (now - checked <= fail_timeout), so up to 11 s may be needed: wait 12.
    time.sleep(12)
    dropper = Dropper(nginx["ports"]["rasa_b"])
    try:
        a_before = upstreams["a"].hits
        responses = post(nginx["base"], 6)
        codes = [r.status_code for r in responses]
        assert 502 in codes, codes
        assert set(codes) <= {200, 502}
        assert dropper.received == codes.count(502)
        assert upstreams["a"].hits - a_before == codes.count(200)
    finally:
        dropper.stop()


# --------------------------------------------------------------------------- systemd


def unit_files() -> List[Path]:
    return sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])


def localise(text: str) -> str:
    """A unit as it would be on this machine: the checkout for /opt, the repo's env files."""
    return (
        text.replace("/etc/mdm-assistant/mdm.env", str(DEPLOY / "mdm.env"))
        .replace("/etc/mdm-assistant/secrets.env", str(DEPLOY / "secrets.env.example"))
        .replace(PREFIX, str(ROOT))
    )


def exec_start(unit: Path, instance: str = "5005") -> List[str]:
    parser = ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment]
    parser.read_string(localise(unit.read_text(encoding="utf-8")))
    return shlex.split(parser["Service"]["ExecStart"].replace("%i", instance))


def test_there_are_units_for_every_process():
    names = {p.name for p in unit_files()}
    assert {
        "mdm-rasa@.service",
        "mdm-actions@.service",
        "mdm-migrate.service",
        "mdm-backup.service",
        "mdm-backup.timer",
    } <= names


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (package systemd) is needed to check the units"
    paths = []
    for unit in unit_files():
        name = unit.name.replace("@.", "@5005.")
        (tmp_path / name).write_text(localise(unit.read_text(encoding="utf-8")), encoding="utf-8")
        paths.append(str(tmp_path / name))
    result = subprocess.run(
        [analyze, "verify", *paths], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warnings


def test_unit_commands_exist_and_accept_their_options():
    for unit in DEPLOY.glob("*.service"):
        argv = exec_start(unit)
        program = Path(argv[0])
        assert program.is_file() and os.access(program, os.X_OK), f"{unit.name}: {program}"
        if program.name == "rasa":
            words = [a for a in argv[1:] if not a.startswith("-")]
            sub = ["run", "actions"] if words[:2] == ["run", "actions"] else ["run"]
            helptext = subprocess.run(
                [str(program), *sub, "--help"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=120,
            ).stdout
            for option in (a for a in argv if a.startswith("--")):
                assert re.search(rf"\s{re.escape(option)}\b", helptext), (
                    f"{unit.name}: rasa {' '.join(sub)} has no {option}"
                )
            for value in argv:
                if value.endswith((".yml", ".tar.gz")) and not value.endswith("mdm.tar.gz"):
                    assert (ROOT / value).exists(), f"{unit.name}: {value} missing"
        elif program.name == "mdm":
            result = subprocess.run(
                [str(program), *argv[1:], "--help"], capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 0, result.stderr
        else:
            assert program == DEPLOY / "backup.sh", program


def test_env_files_are_plain_key_value_lines():
    for path in (DEPLOY / "mdm.env", DEPLOY / "secrets.env.example"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert re.fullmatch(r"[A-Z_][A-Z0-9_]*=[^\s'\"]*", line), f"{path.name}: {line!r}"


# ---------------------------------------------------------------------------- backup


def _admin():
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(ADMIN_URL)
    try:
        conn = psycopg2.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            dbname=url.database or "postgres",
            connect_timeout=5,
        )
    except psycopg2.OperationalError as error:
        pytest.fail(f"PostgreSQL unreachable: {error}", pytrace=False)
    conn.autocommit = True
    return conn, url


@pytest.mark.postgres
def test_backup_script_dumps_both_databases_and_they_restore(tmp_path):
    import psycopg2

    admin, url = _admin()
    host, port, user = url.host or "127.0.0.1", url.port or 5432, url.username or "postgres"
    names = [
        f"mdm_backup_{secrets.token_hex(4)}_{kind}" for kind in ("tracker", "tables", "restored")
    ]
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f'CREATE DATABASE "{name}"')
    try:

        def run_sql(db: str, sql: str):
            with (
                psycopg2.connect(host=host, port=port, user=user, dbname=db) as conn,
                conn.cursor() as cur,
            ):
                cur.execute(sql)
                return cur.fetchall() if cur.description else None

        run_sql(
            names[0],
            "create table events (id serial primary key, data text);"
            " insert into events (data) values ('a'), ('b')",
        )
        run_sql(
            names[1],
            "create table tickets (id serial primary key, ref text);"
            " insert into tickets (ref) values ('MDM-1')",
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TRACKER_DB_HOST": host,
            "TRACKER_DB_PORT": str(port),
            "TRACKER_DB_USER": user,
            "TRACKER_DB_NAME": names[0],
            "TRACKER_DB_PASSWORD": "",
            "DATABASE_URL": f"postgresql+psycopg2://{user}@{host}:{port}/{names[1]}",
            "MDM_BACKUP_DIR": str(tmp_path),
            "MDM_BACKUP_KEEP_DAYS": "14",
        }
        old = tmp_path / "tracker-old.dump"
        old.write_bytes(b"")
        os.utime(old, (time.time() - 30 * 86400,) * 2)
        result = subprocess.run(
            [str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        dumps = [Path(line) for line in result.stdout.split()]
        assert [d.name.split("-2")[0] for d in dumps] == [
            f"tracker-{names[0]}",
            f"tables-{names[1]}",
        ]
        assert not old.exists(), "dumps older than MDM_BACKUP_KEEP_DAYS are deleted"
        for dump in dumps:
            assert dump.stat().st_mode & 0o077 == 0, "dumps are readable by their owner only"
            subprocess.run(
                [
                    "pg_restore",
                    "--no-owner",
                    "-h",
                    host,
                    "-p",
                    str(port),
                    "-U",
                    user,
                    "-d",
                    names[2],
                    str(dump),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        assert run_sql(names[2], "select data from events order by id") == [("a",), ("b",)]
        assert run_sql(names[2], "select ref from tickets") == [("MDM-1",)]
    finally:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
