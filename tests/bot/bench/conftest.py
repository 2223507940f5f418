"""Tiny inputs shared by the benchmark tests (written to tmp_path, never the real data)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

#: 3 intents x 5 examples, with distinct words so even a tiny model separates them.
TINY_NLU: Dict[str, List[str]] = {
    "passport": [
        "passeport perdu",
        "renouveler mon passeport",
        "passeport pour mon fils",
        "prix du passeport",
        "passeport expire",
    ],
    "greet": ["bonjour", "salut", "bonsoir", "coucou", "bonjour a vous"],
    "out_of_scope": [
        "quel temps fait il",
        "mets une alarme",
        "raconte une blague",
        "meteo demain",
        "allume la lumiere",
    ],
}


def write_nlu(path: Path, examples: Dict[str, List[str]]) -> Path:
    """Write a Rasa NLU file with ``examples`` (``{intent: [text, ...]}``)."""
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in examples.items():
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {t}" for t in texts]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A data/nlu folder with 3 intents x 5 examples."""
    write_nlu(tmp_path / "data" / "fr" / "all.yml", TINY_NLU)
    return tmp_path / "data"


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A Rasa config whose fallback threshold is 0.5."""
    path = tmp_path / "config.yml"
    path.write_text(
        "language: xx\npipeline:\n"
        "  - name: bot.nlu.intent_classifier.LinearIntentClassifier\n    C: 1.0\n"
        "  - name: FallbackClassifier\n    threshold: 0.5\n    ambiguity_threshold: 0.1\n",
        encoding="utf-8",
    )
    return path
