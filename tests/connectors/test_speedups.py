"""connectors.speedups: Rasa's action-response validation, same verdicts, schema checked once."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError

from connectors import speedups

VALID = {
    "events": [{"event": "slot", "name": "language", "value": "fr", "timestamp": None}],
    "responses": [{"text": "Bonjour", "buttons": [], "custom": {}}],
}
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"name": "no event key"}], "responses": []},
    {"events": [{"event": "slot", "name": 3}], "responses": []},
]


@pytest.fixture
def remote_action(monkeypatch):
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    monkeypatch.delenv("MDM_RASA_SPEEDUPS", raising=False)
    assert speedups.install()
    return RemoteAction("action_x", EndpointConfig("http://127.0.0.1:9/webhook"))


def test_the_rest_channel_installs_the_speedups():
    from rasa.core.actions.action import RemoteAction

    import connectors.rest  # noqa: F401 - importing it is what Rasa does

    assert RemoteAction._validate_action_result is speedups.validate_action_result


def test_same_verdicts_and_messages_as_rasa(remote_action):
    original = speedups.originals["_validate_action_result"]
    assert remote_action._validate_action_result(VALID) is True
    assert original(remote_action, VALID) is True
    for bad in INVALID:
        with pytest.raises(ValidationError) as ours:
            remote_action._validate_action_result(bad)
        with pytest.raises(ValidationError) as rasas:
            original(remote_action, bad)
        assert ours.value.message == rasas.value.message
        assert "Failed to validate Action server response" in ours.value.message


def test_the_schema_is_checked_once(remote_action, monkeypatch):
    from jsonschema.validators import validator_for

    cls = validator_for(remote_action.action_response_format_spec())
    real = cls.check_schema.__func__
    calls = []

    def counting(klass, schema, *args, **kwargs):
        calls.append(1)
        return real(klass, schema, *args, **kwargs)

    monkeypatch.setattr(speedups, "_validator", None)
    monkeypatch.setattr(cls, "check_schema", classmethod(counting))
    for _ in range(50):
        remote_action._validate_action_result(VALID)
    assert len(calls) == 1
    # Rasa's own version checks it at every call
    for _ in range(3):
        speedups.originals["_validate_action_result"](remote_action, VALID)
    assert len(calls) == 4


def test_switched_off_by_the_environment(monkeypatch):
    from rasa.core.actions.action import RemoteAction

    monkeypatch.setattr(RemoteAction, "_validate_action_result", lambda self, result: "rasa's")
    monkeypatch.setenv("MDM_RASA_SPEEDUPS", "0")
    assert speedups.install() is False
    assert RemoteAction._validate_action_result(None, VALID) == "rasa's"
