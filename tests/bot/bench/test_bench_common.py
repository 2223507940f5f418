"""The metrics and readers shared by the benchmarks, on hand-checked examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bench import common
from bot.bench.common import Example, Parse

# gold a,a,a,b,b,c / predicted a,a,b,b,c,c, worked out by hand:
#   a: P 2/2, R 2/3, F1 0.8;  b: P 1/2, R 1/2, F1 0.5;  c: P 1/2, R 1/1, F1 2/3
GOLD = ["a", "a", "a", "b", "b", "c"]
PRED = ["a", "a", "b", "b", "c", "c"]


def test_accuracy_and_f1_by_hand():
    assert common.accuracy(GOLD, PRED) == pytest.approx(4 / 6)
    scores = common.per_label_scores(GOLD, PRED)
    assert scores["a"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    assert scores["b"]["f1"] == pytest.approx(0.5)
    assert scores["c"]["f1"] == pytest.approx(2 / 3)
    assert common.macro_f1(GOLD, PRED) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert common.weighted_f1(GOLD, PRED) == pytest.approx((3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6)


def test_metrics_agree_with_scikit_learn():
    from sklearn.metrics import f1_score

    gold = GOLD + ["c", "b"]
    pred = PRED + ["x", "a"]  # "x" is not a gold label: it only costs recall
    labels = sorted(set(gold))
    assert common.macro_f1(gold, pred) == pytest.approx(
        f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
    )
    assert common.weighted_f1(gold, pred) == pytest.approx(
        f1_score(gold, pred, labels=labels, average="weighted", zero_division=0)
    )


def test_empty_sets_give_none():
    assert common.accuracy([], []) is None
    assert common.macro_f1([], []) is None
    assert common.weighted_f1([], []) is None
    assert common.share([]) is None


def test_confusions_and_weakest():
    assert common.confusions(GOLD, PRED) == {"a->b": 1, "b->c": 1}
    assert common.weakest(common.per_label_scores(GOLD, PRED), top=2) == {"b": 0.5, "c": 0.6667}


def test_latency_mean_and_p95():
    times = [float(i) for i in range(1, 21)]  # 1..20 ms: p95 by nearest rank is the 19th
    assert common.latency(times) == {"mean_ms": 10.5, "p95_ms": 19.0}
    assert common.latency([]) == {"mean_ms": 0.0, "p95_ms": 0.0}


def test_fallback_rule_matches_rasa():
    assert common.apply_fallback([("a", 0.39), ("b", 0.1)], 0.4, 0.03) == "nlu_fallback"
    assert common.apply_fallback([("a", 0.50), ("b", 0.48)], 0.4, 0.03) == "nlu_fallback"
    assert common.apply_fallback([("a", 0.50), ("b", 0.40)], 0.4, 0.03) == "a"


def test_parse_result_keeps_the_classifier_top_under_a_fallback():
    result = {
        "intent": {"name": "nlu_fallback", "confidence": 0.4},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": "passport", "confidence": 0.31},
            {"name": "greet", "confidence": 0.2},
        ],
    }
    assert common.parse_result(result, 1.5) == Parse("nlu_fallback", "passport", 0.31, 1.5)


def test_read_nlu_file_strips_entities_and_repeats(tmp_path: Path):
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: passport\n  examples: |\n'
        "    - passeport a [Lyon](city)\n"
        '    - passeport a [Paris]{"entity": "city"}\n'
        "    - passeport a [Lyon](city)\n"
        "- synonym: lyon\n  examples: |\n    - lyon\n",
        encoding="utf-8",
    )
    assert common.read_nlu_file(path) == [
        Example("passeport a Lyon", "passport"),
        Example("passeport a Paris", "passport"),
    ]


@pytest.mark.parametrize(
    ("name", "variety"),
    [
        ("fr.yml", "fr"),
        ("ary.yml", "ary"),
        ("procedure_detail_ar.yml", "ar"),
        ("out_of_scope_ary.yml", "ary"),
        ("out_of_scope_ary_Latn.yml", "ary_Latn"),
        ("notes.yml", None),
    ],
)
def test_variety_of_file_name(name: str, variety: str):
    assert common.variety_of(Path(name)) == variety


def test_fallback_settings(tiny_config: Path, tmp_path: Path):
    assert common.fallback_settings(tiny_config) == {"threshold": 0.5, "ambiguity_threshold": 0.1}
    empty = tmp_path / "empty.yml"
    empty.write_text("pipeline: []\n", encoding="utf-8")
    assert common.fallback_settings(empty) == {"threshold": 0.3, "ambiguity_threshold": 0.1}
