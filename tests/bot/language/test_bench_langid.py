"""Tests of the language-identification benchmark's scoring and report (bot.bench.langid)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.bench import langid  # noqa: E402

ROWS = [
    {"text": "x", "lang": "ar", "source": "s1"},
    {"text": "x", "lang": "ary", "source": "s1"},
    {"text": "x", "lang": "ary_Latn", "source": "s2"},
    {"text": "x", "lang": "fr", "source": "s2"},
]


def test_external_arabic_counts_for_ar_and_ary_only() -> None:
    preds = {
        "ours": ["ar", "ar", "ary_Latn", "fr"],
        "ours_script": ["ar", "ar", "ary_Latn", "fr"],
        "lingua": ["ar", "ar", "other", "fr"],
        "py3langid": ["ar", "ar", "ar", "en"],
    }
    res = langid.evaluate(ROWS, preds)
    assert res["ours"]["per_label"] == {"ary": 0.0, "ary_Latn": 1.0, "ar": 1.0, "fr": 1.0}
    assert res["ours_script"]["per_label"]["ary"] == 1.0
    assert res["lingua"]["per_label"] == {"ary": 1.0, "ary_Latn": 0.0, "ar": 1.0, "fr": 1.0}
    assert res["py3langid"]["overall"] == 0.5
    assert res["py3langid"]["per_source"] == {"s1": 1.0, "s2": 0.0}
    assert res["py3langid"]["confusions"] == {"ary_Latn->ar": 1, "fr->en": 1}


def test_external_codes_are_mapped() -> None:
    assert langid._map_external("fr") == "fr"
    assert langid._map_external("ar") == "ar"
    assert langid._map_external("it") == "other"
    assert langid._map_external(None) == "other"


def test_format_table_lists_every_source_label_and_system() -> None:
    preds = {c: ["ar", "ary", "ary_Latn", "fr"] for c in langid.COLUMNS}
    report = {
        "csv": "x.csv",
        "rows": 4,
        "rows_per_source": {"s1": 2, "s2": 2},
        "rows_per_label": {lab: sum(r["lang"] == lab for r in ROWS) for lab in langid.LABELS},
        "accuracy": langid.evaluate(ROWS, preds),
        "latency": {s: {"mean_ms": 1.0, "p95_ms": 2.0} for s in langid.SYSTEMS},
        "setup_seconds": {s: 0.5 for s in langid.SYSTEMS},
        "note": langid.MAPPING_NOTE,
        "eval_rows_in_training_text": 0,
    }
    table = langid.format_table(report)
    for needle in ("source s1", "source s2", "label ary_Latn", "overall", "lingua", "py3langid"):
        assert needle in table
    assert "label other" not in table  # labels without rows are left out


def test_read_rows(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text('text,lang,source\n"bonjour, ça va",fr,t\nsalam,ary_Latn,t\n', encoding="utf-8")
    assert langid.read_rows(path) == [
        {"text": "bonjour, ça va", "lang": "fr", "source": "t"},
        {"text": "salam", "lang": "ary_Latn", "source": "t"},
    ]


def test_main_reports_missing_csv(tmp_path: Path) -> None:
    assert langid.main(["--csv", str(tmp_path / "missing.csv")]) == 2


def test_default_csv_is_beside_the_repository() -> None:
    assert ROOT.parent / "shared" / "eval" / "langid" / "langid.csv" == langid.DEFAULT_CSV
