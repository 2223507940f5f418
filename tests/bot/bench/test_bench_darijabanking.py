"""``mdm bench darijabanking``: scoring, the temporary Rasa files, and a baseline-only run."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.bench import common, darijabanking

ROWS = [
    {"text": "bghit nmsah l compte", "intent": "delete_account", "lang": "ary"},
    {"text": "bghit nhel compte", "intent": "create_account", "lang": "ary"},
    {"text": "je veux supprimer mon compte", "intent": "delete_account", "lang": "fr"},
    {"text": "je veux ouvrir un compte", "intent": "create_account", "lang": "fr"},
]


def test_score_weighted_f1_per_language_by_hand():
    pred = ["delete_account", "delete_account", "delete_account", "create_account"]
    scores = darijabanking.score(ROWS, pred)
    # ary: delete P 1/2 R 1 F1 2/3, create F1 0 -> weighted (2/3 + 0) / 2
    assert scores["ary"] == {"n": 2, "weighted_f1": round(1 / 3, 4), "accuracy": 0.5}
    assert scores["fr"] == {"n": 2, "weighted_f1": 1.0, "accuracy": 1.0}
    assert scores["ar"]["n"] == 0 and scores["ar"]["weighted_f1"] is None
    # overall: delete P 2/3 R 1 F1 0.8 (x2), create P 1 R 1/2 F1 2/3 (x2)
    assert scores["overall"]["weighted_f1"] == round((0.8 + 2 / 3) / 2, 4)


def test_written_nlu_file_reads_back(tmp_path: Path):
    path = darijabanking.write_nlu_yaml(ROWS, tmp_path / "nlu.yml")
    back = common.read_nlu_file(path)
    assert sorted(back) == sorted(common.Example(r["text"], r["intent"]) for r in ROWS)


def test_config_keeps_the_project_pipeline(tmp_path: Path):
    pipeline = darijabanking.project_pipeline()
    path = darijabanking.write_config(pipeline, tmp_path / "config.yml")
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["pipeline"] == yaml.safe_load(common.DEFAULT_CONFIG.read_text())["pipeline"]
    assert "policies" not in config


def test_baseline_only_run(tmp_path: Path):
    header = "text,intent,lang\n"
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    rows = [
        ("bghit nmsah l compte dyali", "delete_account"),
        ("msah lia l compte", "delete_account"),
        ("bghit nhel compte jdid", "create_account"),
        ("hel lia compte jdid", "create_account"),
        ("ch7al l fees", "fee"),
        ("fees dyal l carte", "fee"),
    ]
    train.write_text(header + "".join(f"{t},{i},ary\n" for t, i in rows), encoding="utf-8")
    test.write_text(
        header + "nmsah compte,delete_account,ary\ncompte jdid,create_account,ary\n",
        encoding="utf-8",
    )
    report = darijabanking.run(train, test, with_ours=False)
    assert set(report["results"]) == {"baseline"}
    assert report["rows"] == {"train": 6, "test": 2}
    assert report["results"]["baseline"]["scores"]["ary"]["accuracy"] == 1.0
    assert report["published"]["note"] == "published, not run here"
    assert "ours" not in darijabanking.format_table(report).split("\n")[2]
