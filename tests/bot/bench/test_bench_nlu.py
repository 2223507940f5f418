"""``mdm bench nlu`` on tiny held-out data with a scripted predictor (metrics checked by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from bot.bench import common, nlu
from bot.bench.common import Parse

from .conftest import write_nlu


class ScriptedPredictor(common.Predictor):
    """Answers fixed parses, so the expected figures can be worked out by hand."""

    description = "scripted"

    def __init__(self, answers: Dict[str, Parse]) -> None:
        self.answers = answers

    def parse(self, texts: Sequence[str]) -> List[Parse]:
        return [self.answers[t] for t in texts]


@pytest.fixture
def held_out(tmp_path: Path) -> Path:
    folder = tmp_path / "tests_nlu"
    write_nlu(
        folder / "fr.yml", {"passport": ["passeport vole", "passeport bebe"], "greet": ["salam"]}
    )
    write_nlu(folder / "out_of_scope_fr.yml", {"out_of_scope": ["joue de la musique"]})
    write_nlu(folder / "en.yml", {"greet": ["hello"]})
    write_nlu(folder / "readme.yml", {"greet": ["not a variety file"]})
    return folder


@pytest.fixture
def probes(tmp_path: Path) -> Path:
    path = tmp_path / "probes.csv"
    path.write_text(
        "text,lang,source\nwake me up,en,x\nweather,en,x\nmeteo,fr,x\n", encoding="utf-8"
    )
    return path


def test_read_held_out_groups_files_by_variety(held_out: Path):
    data = nlu.read_held_out(held_out)
    assert list(data) == ["fr", "en"]
    assert [e.intent for e in data["fr"]] == ["passport", "passport", "greet", "out_of_scope"]


def test_run_figures_by_hand(monkeypatch, held_out, probes, tiny_data, tiny_config):
    answers = {
        # fr: 3 of 4 right; "passeport bebe" is right but under the 0.5 threshold
        "passeport vole": Parse("passport", "passport", 0.9, 1.0),
        "passeport bebe": Parse("nlu_fallback", "passport", 0.3, 1.0),
        "salam": Parse("passport", "passport", 0.6, 1.0),
        "joue de la musique": Parse("out_of_scope", "out_of_scope", 0.8, 1.0),
        # en: 1 of 1
        "hello": Parse("greet", "greet", 0.9, 1.0),
        # probes: rejected, rejected (low confidence), accepted as greet
        "wake me up": Parse("out_of_scope", "out_of_scope", 0.9, 1.0),
        "weather": Parse("greet", "greet", 0.2, 1.0),
        "meteo": Parse("greet", "greet", 0.9, 1.0),
    }
    monkeypatch.setattr(common, "make_predictor", lambda *a: ScriptedPredictor(answers))
    report = nlu.run(held_out, tiny_data, held_out / "none.tar.gz", probes, tiny_config)
    fr = report["per_variety"]["fr"]["ours"]
    assert fr["n"] == 4
    assert fr["accuracy"] == 0.75
    # passport P 2/3 R 1 F1 0.8; greet 0; out_of_scope 1 -> macro 0.6
    assert fr["macro_f1"] == 0.6
    assert fr["accuracy_after_fallback"] == 0.5
    assert fr["fallback_rate"] == 0.25
    assert fr["confusions"] == {"greet->passport": 1}
    assert report["per_variety"]["en"]["ours"]["accuracy"] == 1.0
    assert report["overall"]["ours"]["n"] == 5
    assert report["overall"]["ours"]["accuracy"] == 0.8
    ood = report["out_of_domain"]
    assert ood["ours"] == round(2 / 3, 4)
    assert ood["per_lang"]["fr"] == {
        "n": 1,
        "ours": 0.0,
        "baseline": ood["per_lang"]["fr"]["baseline"],
    }
    assert ood["ours_accepted_as"] == {"greet": 1}
    base = report["per_variety"]["fr"]["baseline"]
    assert base["n"] == 4 and 0.0 <= base["accuracy"] <= 1.0
    json.dumps(report)  # the --json output must serialise


def test_main_json_without_model_trains_the_intent_model(
    held_out, probes, tiny_data, tiny_config, capsys
):
    code = nlu.main(
        [
            "--json",
            "--model",
            str(held_out / "missing.tar.gz"),
            "--tests",
            str(held_out),
            "--data",
            str(tiny_data),
            "--probes",
            str(probes),
            "--config",
            str(tiny_config),
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert "trained in this run" in report["ours"]
    assert report["overall"]["ours"]["n"] == 5
    assert report["held_out_in_training"] == 0
