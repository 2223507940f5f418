"""``mdm serve``: run the whole assistant on one machine, Ctrl-C stops everything.

Starts the action server and the Rasa server (REST channel) as child processes, prefixes their
log lines with the process name, and stops all of them when one exits or on SIGINT/SIGTERM.
Also serves ``web/`` (the demo page with the web widget) on ``MDM_WEB_PORT`` from a thread.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.settings import ROOT, get_settings

MODEL = ROOT / "models" / "mdm.tar.gz"
#: The demo page and the web widget (served as plain files, no build step).
WEB_DIR = ROOT / "web"


def embedded_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment with the embedded defaults filled in (SQLite files under ``var/``)."""
    env = dict(os.environ if base is None else base)
    (ROOT / "var").mkdir(exist_ok=True)
    defaults = {
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB_HOST": "",
        "TRACKER_DB_NAME": str(ROOT / "var" / "tracker.db"),
        # 0 = the driver's default port (SQLite takes none); empty user/password = none.
        "TRACKER_DB_PORT": "0",
        "TRACKER_DB_USER": "",
        "TRACKER_DB_PASSWORD": "",
        # One Rasa process: in-memory locks; the REDIS_* values are read only for `redis`.
        "LOCK_STORE_TYPE": "in_memory",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": "1",
        "REDIS_PASSWORD": "",
        "REDIS_KEY_PREFIX": "mdm",
        # Sanic's 5 s closes a fresh connection of a busy Rasa before it sends its action call.
        "SANIC_KEEP_ALIVE_TIMEOUT": "75",
        "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'mdm.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        # credentials.channels.yml reads every channel's ${VAR}: empty means "not used".
        "TELEGRAM_TOKEN": "",
        "TELEGRAM_SECRET_TOKEN": "",
        "TELEGRAM_API_BASE_URL": "",
        "WHATSAPP_ACCESS_TOKEN": "",
        "WHATSAPP_PHONE_NUMBER_ID": "",
        "WHATSAPP_APP_SECRET": "",
        "WHATSAPP_VERIFY_TOKEN": "",
        "WHATSAPP_API_BASE_URL": "",
    }
    for key, value in defaults.items():
        if not env.get(key):
            env[key] = value
    # Rasa's HTTP API (used by the staff console) is never open without a token.
    if not env.get("RASA_TOKEN"):
        env["RASA_TOKEN"] = secrets.token_urlsafe(24)
    return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def commands(
    rasa_port: int = 5005,
    actions_port: int = 5055,
    rasa_token: Optional[str] = None,
    console_port: Optional[int] = None,
) -> Dict[str, List[str]]:
    """The processes of a local deployment.

    With ``rasa_token``, Rasa's HTTP API is enabled behind that token (the staff console
    pauses, resumes and writes to conversations through it); with ``console_port``, the
    staff console runs too.
    """
    # "--auth-token=<token>": a random token may start with "-", which argparse takes for a flag.
    api = ["--enable-api", f"--auth-token={rasa_token}"] if rasa_token else []
    console = (
        {"console": [sys.executable, "-m", "bot.console", "--port", str(console_port)]}
        if console_port
        else {}
    )
    return {
        "actions": [
            _bin("rasa"),
            "run",
            "actions",
            "--port",
            str(actions_port),
            "--actions",
            "actions",
        ],
        "rasa": [
            _bin("rasa"),
            "run",
            "--model",
            str(MODEL),
            "--port",
            str(rasa_port),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            # MDM_CREDENTIALS=credentials.channels.yml adds Telegram and WhatsApp.
            get_settings().credentials_file,
            "--cors",
            "*",
            *api,
        ],
        **console,
    }


class _StaticHandler(SimpleHTTPRequestHandler):
    """Plain files from ``web/``, never cached (the widget changes while you work on it)."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass  # the demo page's requests are not worth a log line


def start_web_server(
    port: int, directory: Path = WEB_DIR, host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """Serve ``directory`` over HTTP in a daemon thread (the demo page and the widget).

    Args:
        port: TCP port (0: any free port, see ``server.server_address``).
        directory: Folder served.
        host: Interface to listen on; local only by default.

    Returns:
        The running server; ``shutdown()`` stops it.

    Raises:
        OSError: If the port is taken.
    """
    handler = functools.partial(_StaticHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="mdm-web", daemon=True).start()
    return server


def _pump(name: str, stream, lock: threading.Lock) -> None:  # type: ignore[no-untyped-def]
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        with lock:
            print(f"[{name:7s}] {line}", flush=True)


def serve(shell: bool = False) -> int:
    """Start everything and wait; returns the exit status."""
    env = embedded_env()
    procs: Dict[str, subprocess.Popen] = {}
    lock = threading.Lock()
    cmds = commands(rasa_token=env["RASA_TOKEN"], console_port=get_settings().console_port)
    if shell:
        del cmds["rasa"]
        del cmds["console"]
    for name, cmd in cmds.items():
        proc = subprocess.Popen(  # noqa: S603 (our own fixed command lines)
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs[name] = proc
        threading.Thread(target=_pump, args=(name, proc.stdout, lock), daemon=True).start()

    def stop(*_: object) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def on_sigterm(*_: object) -> None:
        stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    # Started in the background by a script, SIGINT arrives ignored: Ctrl-C (or kill -INT)
    # must still stop everything.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    web: Optional[ThreadingHTTPServer] = None
    try:
        if shell:
            return subprocess.call(  # noqa: S603
                [_bin("rasa"), "shell", "--model", str(MODEL), "--endpoints", "endpoints.yml"],
                cwd=ROOT,
                env=env,
            )
        print(
            "mdm-assistant starting: REST channel on http://127.0.0.1:5005/webhooks/rest/webhook, "
            "actions on :5055. Ctrl-C stops everything.",
            flush=True,
        )
        print(
            f"Staff console: http://127.0.0.1:{get_settings().console_port}/ "
            "(accounts: mdm staff create)",
            flush=True,
        )
        web_port = get_settings().web_port
        try:
            web = start_web_server(web_port)
            print(f"Demo page: http://127.0.0.1:{web_port}/", flush=True)
        except OSError as error:  # the assistant is still useful without its demo page
            print(f"demo page not served: port {web_port} ({error.strerror})", flush=True)
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        failed = [n for n, p in procs.items() if p.returncode not in (None, 0)]
        print(f"stopped: {', '.join(failed) or 'a process'} exited", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if web is not None:
            web.shutdown()
        stop()
