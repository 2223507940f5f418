"""`mdm staff create`, and how `mdm serve` starts Rasa's API and the console."""

from bot.cli import main
from bot.serve import commands, embedded_env


def test_staff_create(tmp_path, monkeypatch, capsys):
    from bot.storage.db import reset_default_engine
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'mdm.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    reset_default_engine()
    monkeypatch.setenv("MDM_STAFF_PASSWORD", "a long enough password")
    args = ["staff", "create", "amal", "--role", "supervisor", "--languages", "fr,ary"]
    assert main(args) == 0
    assert "staff account amal created" in capsys.readouterr().out
    assert main(args) == 1
    assert "taken" in capsys.readouterr().err
    monkeypatch.setenv("MDM_STAFF_PASSWORD", "short")
    assert main(["staff", "create", "other"]) == 1
    assert "12 characters" in capsys.readouterr().err
    reset_default_engine()


def test_rasa_api_only_with_a_token_and_the_console_started():
    env = embedded_env({})
    assert len(env["RASA_TOKEN"]) >= 24
    assert embedded_env({"RASA_TOKEN": "mine"})["RASA_TOKEN"] == "mine"
    cmds = commands(rasa_token="tok", console_port=8123)
    assert cmds["rasa"][-2:] == ["--enable-api", "--auth-token=tok"]
    assert cmds["console"][1:] == ["-m", "bot.console", "--port", "8123"]
    assert "--enable-api" not in commands()["rasa"] and "console" not in commands()
