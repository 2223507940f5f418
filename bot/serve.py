"""``mdm serve``: run the whole assistant on one machine, Ctrl-C stops everything.

Starts the action server and the Rasa server (REST channel) as child processes, prefixes their
log lines with the process name, and stops all of them when one exits or on SIGINT/SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT

MODEL = ROOT / "models" / "mdm.tar.gz"


def embedded_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment with the embedded defaults filled in (SQLite files under ``var/``)."""
    env = dict(os.environ if base is None else base)
    (ROOT / "var").mkdir(exist_ok=True)
    defaults = {
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB_HOST": "",
        "TRACKER_DB_NAME": str(ROOT / "var" / "tracker.db"),
        "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'mdm.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    for key, value in defaults.items():
        if not env.get(key):
            env[key] = value
    return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def commands(rasa_port: int = 5005, actions_port: int = 5055) -> Dict[str, List[str]]:
    """The processes of a local deployment."""
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
            "credentials.yml",
            "--cors",
            "*",
        ],
    }


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
    cmds = commands()
    if shell:
        del cmds["rasa"]
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
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        failed = [n for n, p in procs.items() if p.returncode not in (None, 0)]
        print(f"stopped: {', '.join(failed) or 'a process'} exited", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()
