"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Let several Sanic apps start in one test process.

    Sanic 21.12 rewrites its HTTP methods ("touch-up") when an app starts; a second app in
    the same process then fails (``KeyError: 'http1_request_header'``) unless test mode
    makes it start again from the original methods.
    """
    from sanic import Sanic

    Sanic.test_mode = True


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The assistant's domain as a plain dict (what rasa-sdk actions receive)."""
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher():
    """A fresh rasa-sdk dispatcher that collects the bot's messages."""
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    language: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    sender_id: str = "test-user",
):
    """Build a rasa-sdk Tracker whose latest message is ``text``."""
    from rasa_sdk import Tracker

    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    if language is not None:
        latest["language"] = language
    all_events = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker(sender_id, slots or {}, latest, all_events, False, None, {}, "action_listen")


@pytest.fixture
def tracker_factory():
    """Build trackers: ``tracker_factory(text, intent=..., entities=..., slots=...)``."""
    return make_tracker
