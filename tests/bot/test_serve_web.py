"""`mdm serve` serves web/ (the demo page and the widget) next to the assistant."""

from __future__ import annotations

import sys

import httpx

from bot import serve
from bot.settings import ROOT


def test_static_server_serves_the_demo_page_and_the_widget():
    web = serve.start_web_server(0)
    base = f"http://127.0.0.1:{web.server_address[1]}"
    try:
        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and "widget/mdm-widget.js" in page.text
        script = httpx.get(f"{base}/widget/mdm-widget.js", timeout=5)
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert script.headers["cache-control"] == "no-cache"
        # only web/ is served
        assert httpx.get(f"{base}/../credentials.yml", timeout=5).status_code == 404
        assert httpx.get(f"{base}/%2e%2e/credentials.yml", timeout=5).status_code == 404
    finally:
        web.shutdown()
        web.server_close()


def test_serve_prints_the_demo_page_address(monkeypatch, capsys, tmp_path):
    port = serve.start_web_server(0)  # find a free port, then free it
    free = port.server_address[1]
    port.shutdown()
    port.server_close()
    monkeypatch.setenv("MDM_WEB_PORT", str(free))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mdm.db'}")
    quick = [sys.executable, "-c", "import time; time.sleep(1)"]
    monkeypatch.setattr(serve, "commands", lambda **_: {"actions": quick, "rasa": quick})
    assert serve.serve() == 1  # the fake processes exit
    out = capsys.readouterr().out
    assert f"Demo page: http://127.0.0.1:{free}/" in out
    assert (ROOT / "web" / "index.html").is_file()


def test_serve_goes_on_when_the_demo_port_is_taken(monkeypatch, capsys, tmp_path):
    taken = serve.start_web_server(0)
    try:
        monkeypatch.setenv("MDM_WEB_PORT", str(taken.server_address[1]))
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mdm.db'}")
        quick = [sys.executable, "-c", "import time; time.sleep(1)"]
        monkeypatch.setattr(serve, "commands", lambda **_: {"actions": quick, "rasa": quick})
        assert serve.serve() == 1
    finally:
        taken.shutdown()
        taken.server_close()
    assert "demo page not served" in capsys.readouterr().out


def test_sigint_stops_everything_even_when_started_with_sigint_ignored(tmp_path):
    """A script or a Makefile run in the background starts us with SIGINT ignored."""
    import os
    import signal
    import subprocess
    import time

    script = (
        "import sys, time\n"
        "from bot import serve\n"
        "sleeper = [sys.executable, '-c', 'import time; time.sleep(120)']\n"
        "serve.commands = lambda **_: {'actions': sleeper, 'rasa': sleeper}\n"
        "sys.exit(serve.serve())\n"
    )
    env = {
        **os.environ,
        "MDM_WEB_PORT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mdm.db'}",
    }
    # `trap '' INT` ignores SIGINT and exec keeps it ignored, as `cmd &` in a script does.
    proc = subprocess.Popen(
        ["sh", "-c", 'trap "" INT; exec "$0" -c "$1"', sys.executable, script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 30
        out = b""
        while b"Demo page" not in out and time.time() < deadline:
            out += proc.stdout.readline()
        assert b"Demo page" in out, out
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    children = subprocess.run(
        ["pgrep", "-f", "import time; time.sleep(120)"], capture_output=True, text=True
    ).stdout.split()
    assert children == []
