"""Pseudonymous user keys (no database)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.tickets.pseudonym import is_user_key, user_key, user_key_for


def test_key_is_hmac_sha256_hex():
    key = user_key("telegram", "123456789", "secret")
    expected = hmac.new(b"secret", b"telegram\x00123456789", hashlib.sha256).hexdigest()
    assert key == expected
    assert is_user_key(key)
    assert "123456789" not in key


def test_key_is_stable_and_depends_on_everything():
    base = user_key("rest", "alice", "s1")
    assert base == user_key("rest", "alice", "s1")
    assert base != user_key("socketio", "alice", "s1")
    assert base != user_key("rest", "bob", "s1")
    assert base != user_key("rest", "alice", "s2")


def test_no_ambiguity_between_channel_and_sender():
    assert user_key("ab", "c", "s") != user_key("a", "bc", "s")


@pytest.mark.parametrize("args", [("", "a", "s"), ("rest", "", "s"), ("rest", "a", "")])
def test_empty_arguments_are_refused(args):
    with pytest.raises(ValueError):
        user_key(*args)


def test_nul_in_channel_is_refused():
    with pytest.raises(ValueError):
        user_key("re\x00st", "a", "s")


def test_user_key_for_uses_the_settings(monkeypatch):
    monkeypatch.setenv("MDM_SECRET_KEY", "from-env")
    assert user_key_for("rest", "alice") == user_key("rest", "alice", "from-env")


def test_is_user_key():
    assert not is_user_key("alice")
    assert not is_user_key("A" * 64)
    assert not is_user_key(None)
    assert is_user_key("0" * 64)
