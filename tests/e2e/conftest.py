"""Real servers for end-to-end tests: the action server and Rasa, as subprocesses.

The servers run the trained model (``make test`` trains it first) on free ports, with their own
SQLite files, and are shared by every test of the session (starting Rasa takes ~20 s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import httpx
import pytest

from bot.serve import embedded_env

ROOT = Path(__file__).resolve().parents[2]
# MDM_TEST_MODEL: another trained model (e.g. trained to /tmp while models/ is in use).
MODEL = Path(os.environ.get("MDM_TEST_MODEL") or ROOT / "models" / "mdm.tar.gz")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


class Servers:
    """A running action server + Rasa server pair."""

    def __init__(
        self,
        workdir: Path,
        model: Path = MODEL,
        extra_env: Optional[Dict[str, str]] = None,
        credentials: str = "credentials.yml",
    ):
        self.workdir = workdir
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.rasa_port}"
        self.database_url = f"sqlite:///{workdir / 'mdm.db'}"
        # endpoints.yml's embedded defaults first (every ${VAR} must be set), then ours.
        self.env = embedded_env(dict(os.environ))
        self.env.update(
            {
                "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "TRACKER_DB_DIALECT": "sqlite",
                "TRACKER_DB_HOST": "",
                "TRACKER_DB_NAME": str(workdir / "tracker.db"),
                "DATABASE_URL": self.database_url,
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "3",
            }
        )
        self.env.update(extra_env or {})
        # Rasa's HTTP API, as `mdm serve` runs it: enabled, behind this token (staff console).
        self.token = self.env["RASA_TOKEN"]
        self.model = model
        self.credentials = credentials  # credentials.channels.yml adds Telegram and WhatsApp
        self.procs: List[subprocess.Popen] = []

    def start(self) -> "Servers":
        if not self.model.exists():
            raise FileNotFoundError(f"{self.model} is missing: run `make train` first")
        subprocess.run(  # our tables exist before the first message
            [str(BIN / "mdm"), "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        logs = self.workdir
        actions_cmd = [
            str(BIN / "rasa"), "run", "actions",
            "--port", str(self.actions_port), "--actions", "actions",
        ]  # fmt: skip
        with open(logs / "actions.log", "wb") as log:  # the child keeps its own copy of the fd
            actions = subprocess.Popen(
                actions_cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.procs.append(actions)
        rasa_cmd = [
            str(BIN / "rasa"), "run", "--model", str(self.model), "--port", str(self.rasa_port),
            "--endpoints", "endpoints.yml", "--credentials", self.credentials,
            "--cors", "*",  # as `mdm serve`: the web widget calls from another origin
            "--enable-api", f"--auth-token={self.token}",
        ]  # fmt: skip
        with open(logs / "rasa.log", "wb") as log:
            rasa = subprocess.Popen(
                rasa_cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.procs.append(rasa)
        wait_until_up(f"http://127.0.0.1:{self.actions_port}/health", actions)
        wait_until_up(f"{self.base_url}/", rasa)
        return self

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def say(self, sender: str, text: str, metadata: Optional[dict] = None) -> List[dict]:
        body: dict = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The assistant running for real (REST channel), shared by the session's e2e tests."""
    running = Servers(tmp_path_factory.mktemp("servers")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sender() -> str:
    """A fresh conversation id."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


# ------------------------------------------------------------------ any model, started on demand

#: What a model is trained from (as the Makefile's TRAIN_INPUTS).
TRAIN_INPUT_GLOBS = (
    "config.yml",
    "domain.yml",
    "data/**/*.yml",
    "bot/nlu/*.py",
    "bot/nlu/gazetteer/*.yml",
    "bot/language/*.py",
    "bot/language/seeds/*.txt",
    "bot/text/*.py",
)


def training_inputs() -> List[Path]:
    """Every file a model is trained from."""
    return sorted({path for pattern in TRAIN_INPUT_GLOBS for path in ROOT.glob(pattern)})


def model_is_current(model: Path) -> bool:
    """Whether ``model`` exists and is newer than every training input."""
    if not model.exists():
        return False
    built = model.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in training_inputs())


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model of the current data: ``MDM_TEST_MODEL`` or models/mdm.tar.gz when it is newer
    than every training input, otherwise one trained now into a temporary folder (~1 min)."""
    if model_is_current(MODEL):
        return MODEL
    out = tmp_path_factory.mktemp("model")
    subprocess.run(
        [str(BIN / "rasa"), "train", "--out", str(out), "--fixed-model-name", "mdm", "--quiet"],
        cwd=ROOT,
        env=embedded_env(dict(os.environ)),
        check=True,
        capture_output=True,
    )
    return out / "mdm.tar.gz"


@pytest.fixture(scope="session")
def rasa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Start the action server and Rasa on a model: ``rasa_server(model_path) -> base_url``.

    Servers are shared per (model, extra environment) for the whole session and stopped at
    its end. ``rasa_server.servers[base_url]`` is the :class:`Servers` pair (its
    ``database_url``, ``workdir`` with the logs and tracker store, ``say()``).
    """
    started: Dict[tuple, Servers] = {}
    by_url: Dict[str, Servers] = {}

    def start(model_path: Path, **extra_env: str) -> str:
        key = (str(model_path), tuple(sorted(extra_env.items())))
        if key not in started:
            pair = Servers(tmp_path_factory.mktemp("rasa"), Path(model_path), extra_env=extra_env)
            started[key] = pair.start()
            by_url[pair.base_url] = pair
        return started[key].base_url

    start.servers = by_url  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        for pair in started.values():
            pair.stop()
