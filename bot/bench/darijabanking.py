"""The project's NLU pipeline on DarijaBanking (an external intent data set), against baselines.

DarijaBanking (Skiredj et al., 2024) has the same banking requests in Darija (Arabic
script), MSA, French and English, 24 intents, a train and a test split; it lives in
``../shared/eval/darijabanking/`` and is evaluation data only: this module writes its
training file into a temporary folder, never into the repository.

Systems, all trained in this run on ``train.csv`` and scored on ``test.csv``:

* ``ours``: the pipeline of ``config.yml`` (same components and settings) trained with
  ``rasa.model_training.train_nlu``; its classifier's top intent is scored (the
  fallback's effect is reported apart, DarijaBanking has its own out-of-scope classes);
* ``baseline``: TF-IDF char_wb 1-5 + word 1-2 grams + LinearSVC, no normalisation;
* ``diet`` (``--with-diet``): Rasa's DIETClassifier on CountVectorsFeaturizer
  char_wb 1-4 + word features, 50 epochs.

Reported: weighted F1 and accuracy per language (``ary``, ``ar``, ``fr``, ``en``) and
overall, training seconds, per-message latency (mean, p95), and the published BERTouch
figures as a reference that is not run here. Aim: >= 0.97 on every language.

Usage::

    mdm bench darijabanking [--json] [--with-diet] [--train CSV] [--test CSV]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from bot.bench import common

DATA_DIR = common.SHARED_EVAL / "darijabanking"
DEFAULT_TRAIN = DATA_DIR / "train.csv"
DEFAULT_TEST = DATA_DIR / "test.csv"
LANGS = ("ary", "ar", "fr", "en")
TARGET = 0.97

#: Reference figures from the DarijaBanking paper; nothing of it runs here.
PUBLISHED = {
    "system": "BERTouch (fine-tuned BERT), Skiredj et al. 2024",
    "weighted_f1": {"ary": 0.98, "ar": 0.96},
    "note": "published, not run here",
}

#: DIET as commonly configured in Rasa projects (``--with-diet``).
DIET_PIPELINE: List[Dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "CountVectorsFeaturizer"},
    {"name": "DIETClassifier", "epochs": 50},
]


def read_rows(csv_path: Path) -> List[Dict[str, str]]:
    """Rows of a DarijaBanking CSV (``text,intent,lang``), texts on one line."""
    with Path(csv_path).open(encoding="utf-8", newline="") as fh:
        return [
            {
                "text": " ".join(r["text"].split()),
                "intent": r["intent"].strip(),
                "lang": r["lang"].strip(),
            }
            for r in csv.DictReader(fh)
            if r["text"].strip()
        ]


def write_nlu_yaml(rows: Sequence[Dict[str, str]], path: Path) -> Path:
    """Write rows as a Rasa 3 NLU file (one ``- intent:`` block per intent).

    Args:
        rows: Training rows.
        path: File to write.

    Returns:
        ``path``.
    """
    by_intent: Dict[str, List[str]] = {}
    for row in rows:
        by_intent.setdefault(row["intent"], []).append(row["text"])
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        # A literal block needs no escaping; texts were flattened to one line each.
        lines += [f"    - {text}" for text in by_intent[intent]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(pipeline: Sequence[Dict[str, Any]], path: Path) -> Path:
    """Write a Rasa config with only ``pipeline`` (no policies: NLU only)."""
    config = {
        "recipe": "default.v1",
        "language": "xx",
        "assistant_id": "bench-darijabanking",
        "pipeline": list(pipeline),
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def project_pipeline(config_path: Path = common.DEFAULT_CONFIG) -> List[Dict[str, Any]]:
    """The NLU pipeline of the project's ``config.yml``, unchanged."""
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    return list(config["pipeline"])


def train_rasa(
    pipeline: Sequence[Dict[str, Any]], rows: Sequence[Dict[str, str]], workdir: Path, name: str
) -> tuple[Path, float]:
    """Train an NLU-only Rasa model on ``rows`` in ``workdir``.

    Returns:
        The model archive and the training time in seconds.
    """
    common.quiet_rasa()
    from rasa.model_training import train_nlu

    config = write_config(pipeline, workdir / f"{name}_config.yml")
    data = write_nlu_yaml(rows, workdir / f"{name}_nlu.yml")
    start = time.perf_counter()
    with common.stdout_to_stderr():
        model = train_nlu(str(config), str(data), str(workdir / "models"), fixed_model_name=name)
    seconds = time.perf_counter() - start
    if not model:
        raise RuntimeError(f"training {name} produced no model")
    return Path(model), seconds


def score(rows: Sequence[Dict[str, str]], pred: Sequence[str]) -> Dict[str, Any]:
    """Weighted F1 and accuracy per language and overall.

    Args:
        rows: Test rows (``intent`` and ``lang`` used).
        pred: One predicted intent per row.
    """
    out: Dict[str, Any] = {}
    for lang in LANGS:
        idx = [i for i, r in enumerate(rows) if r["lang"] == lang]
        gold = [rows[i]["intent"] for i in idx]
        guess = [pred[i] for i in idx]
        out[lang] = {
            "n": len(idx),
            "weighted_f1": common.round4(common.weighted_f1(gold, guess)),
            "accuracy": common.round4(common.accuracy(gold, guess)),
        }
    gold = [r["intent"] for r in rows]
    out["overall"] = {
        "n": len(rows),
        "weighted_f1": common.round4(common.weighted_f1(gold, pred)),
        "accuracy": common.round4(common.accuracy(gold, pred)),
    }
    return out


def _details(rows: Sequence[Dict[str, str]], pred: Sequence[str]) -> Dict[str, Any]:
    """Weakest intents and top confusions per language (to see where it goes wrong)."""
    out: Dict[str, Any] = {}
    for lang in LANGS:
        gold = [r["intent"] for r in rows if r["lang"] == lang]
        guess = [p for r, p in zip(rows, pred) if r["lang"] == lang]
        out[lang] = {
            "weakest_intents": common.weakest(common.per_label_scores(gold, guess)),
            "confusions": common.confusions(gold, guess, top=6),
        }
    return out


def run_rasa_system(
    pipeline: Sequence[Dict[str, Any]],
    train: Sequence[Dict[str, str]],
    test: Sequence[Dict[str, str]],
    workdir: Path,
    name: str,
) -> Dict[str, Any]:
    """Train one Rasa pipeline and score it on ``test``."""
    model, seconds = train_rasa(pipeline, train, workdir, name)
    parses = common.RasaPredictor(model).parse([r["text"] for r in test])
    top = [p.intent for p in parses]
    final = [p.final for p in parses]
    return {
        "scores": score(test, top),
        "scores_after_fallback": score(test, final),
        "fallback_rate": common.share([p.final == common.FALLBACK_INTENT for p in parses]),
        "train_seconds": round(seconds, 2),
        "latency": common.latency([p.ms for p in parses]),
        "details": _details(test, top),
    }


def run_baseline(train: Sequence[Dict[str, str]], test: Sequence[Dict[str, str]]) -> Dict[str, Any]:
    """Train and score the TF-IDF char+word + LinearSVC baseline."""
    model = common.char_word_baseline()
    seconds = common.fit_timed(model, [r["text"] for r in train], [r["intent"] for r in train])
    pred, times = common.timed_predict(
        lambda t: str(model.predict([t])[0]), [r["text"] for r in test]
    )
    return {
        "scores": score(test, pred),
        "train_seconds": round(seconds, 2),
        "latency": common.latency(times),
        "details": _details(test, pred),
    }


def run(
    train_csv: Path = DEFAULT_TRAIN,
    test_csv: Path = DEFAULT_TEST,
    config_path: Path = common.DEFAULT_CONFIG,
    with_diet: bool = False,
    with_ours: bool = True,
) -> Dict[str, Any]:
    """Train every system on ``train_csv`` and score it on ``test_csv``.

    Args:
        train_csv: Training rows.
        test_csv: Test rows.
        config_path: Rasa config whose pipeline is "ours".
        with_diet: Also train and score DIET (minutes).
        with_ours: Train ours (False: baseline only, for quick checks and tests).

    Returns:
        The report (see the module docstring).
    """
    train, test = read_rows(train_csv), read_rows(test_csv)
    systems: Dict[str, Any] = {"baseline": run_baseline(train, test)}
    with tempfile.TemporaryDirectory(prefix="mdm-bench-darijabanking-") as tmp:
        if with_ours:
            systems["ours"] = run_rasa_system(
                project_pipeline(config_path), train, test, Path(tmp), "ours"
            )
        if with_diet:
            systems["diet"] = run_rasa_system(DIET_PIPELINE, train, test, Path(tmp), "diet")
    # Exact repeats between the splits inflate every system alike; say how many there are.
    train_texts = {r["text"] for r in train}
    return {
        "benchmark": "darijabanking",
        "machine": common.machine(),
        "train": str(train_csv),
        "test": str(test_csv),
        "rows": {"train": len(train), "test": len(test)},
        "test_rows_per_lang": {lang: sum(r["lang"] == lang for r in test) for lang in LANGS},
        "intents": len({r["intent"] for r in train}),
        "test_texts_also_in_train": sum(r["text"] in train_texts for r in test),
        "systems": {
            "ours": f"pipeline of {config_path.name} (same components and settings), "
            "classifier's top intent",
            "baseline": "TF-IDF char_wb 1-5 + word 1-2 + LinearSVC (C=1), no normalisation",
            "diet": "WhitespaceTokenizer + CountVectors char_wb 1-4 + word + DIET, 50 epochs",
        },
        "results": systems,
        "published": PUBLISHED,
        "target": TARGET,
    }


def format_table(report: Dict[str, Any]) -> str:
    """Render a report of :func:`run` as a plain-text table."""
    c = common.cell
    results = report["results"]
    names = [n for n in ("ours", "baseline", "diet") if n in results]
    lines = [
        f"DarijaBanking intents, weighted F1 ({report['machine']['date']}; "
        f"train {report['rows']['train']}, test {report['rows']['test']}, "
        f"{report['intents']} intents)",
        "",
        f"{'lang':<10}{'n':>6}" + "".join(f"{n:>11}" for n in names) + f"{'published*':>12}",
    ]
    lines.append("-" * len(lines[-1]))
    for lang in (*LANGS, "overall"):
        n = results[names[0]]["scores"][lang]["n"]
        pub = report["published"]["weighted_f1"].get(lang)
        lines.append(
            f"{lang:<10}{n:>6}"
            + "".join(f"{c(results[s]['scores'][lang]['weighted_f1']):>11}" for s in names)
            + f"{c(pub, 2):>12}"
        )
    lines.append("-" * len(lines[-2]))
    lines.append(
        f"{'train s':<16}" + "".join(f"{results[s]['train_seconds']:>11.1f}" for s in names)
    )
    lines.append(
        f"{'mean ms':<16}" + "".join(f"{results[s]['latency']['mean_ms']:>11.2f}" for s in names)
    )
    lines.append(
        f"{'p95 ms':<16}" + "".join(f"{results[s]['latency']['p95_ms']:>11.2f}" for s in names)
    )
    lines.append("")
    lines.append(f"* {report['published']['system']}: {report['published']['note']}.")
    lines.append(f"Aim: >= {report['target']} weighted F1 on every language.")
    if "ours" in results:
        fb = results["ours"]
        lines.append(
            f"ours after its fallback (nlu_fallback counted wrong): overall "
            f"{c(fb['scores_after_fallback']['overall']['weighted_f1'])}, "
            f"fallback rate {c(fb['fallback_rate'])}"
        )
    for name in names:
        for lang, d in results[name]["details"].items():
            lines.append(f"{name} {lang}: weakest {d['weakest_intents']}")
            lines.append(f"{name} {lang}: confusions {d['confusions']}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``mdm bench darijabanking``).

    Returns:
        0 on success, 2 when a CSV is missing.
    """
    parser = argparse.ArgumentParser(
        prog="mdm bench darijabanking", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN, help="training CSV")
    parser.add_argument("--test", type=Path, default=DEFAULT_TEST, help="test CSV")
    parser.add_argument("--config", type=Path, default=common.DEFAULT_CONFIG, help="Rasa config")
    parser.add_argument("--with-diet", action="store_true", help="also train DIET (minutes)")
    args = parser.parse_args(argv)
    for path in (args.train, args.test):
        if not path.is_file():
            print(f"CSV not found: {path}", file=sys.stderr)
            return 2
    with common.stdout_to_stderr(args.json):
        report = run(args.train, args.test, args.config, with_diet=args.with_diet)
    common.emit(report, args.json, format_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
