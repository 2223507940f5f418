"""Intent classification on the held-out NLU set, per variety, against a word-n-gram baseline.

Held-out data: every ``tests/nlu/*.yml`` whose name ends with a variety (``fr.yml``,
``procedure_detail_ary.yml``, ``out_of_scope_ary_Latn.yml``...); it is never trained on.
Two systems are measured on the same messages, one message at a time:

* ``ours``: the trained assistant (``models/mdm.tar.gz``, full NLU pipeline through
  ``Agent.parse_message``, fallback classifier included); when no model exists, the
  project's intent model trained here on ``data/nlu`` with the same fallback rule (the
  report says which);
* ``baseline``: TF-IDF word unigrams+bigrams + LinearSVC trained here on the same
  ``data/nlu`` examples, no normalisation.

Reported per variety and overall: accuracy and macro-F1 of the classifier's top intent,
the accuracy of what the dialogue sees (``nlu_fallback`` counts as wrong), the fallback
rate (top confidence under the threshold of ``config.yml``), the weakest intents and
the most frequent confusions; plus the out-of-domain figure on
``../shared/eval/out_of_domain/probes.csv`` (share ending as ``out_of_scope`` or in the
fallback; aim >= 0.90) and per-message latency.

Usage::

    mdm bench nlu [--json] [--model PATH] [--tests DIR] [--data DIR] [--probes CSV]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bot.bench import common
from bot.bench.common import Example, Parse

DEFAULT_TESTS = common.ROOT / "tests" / "nlu"
DEFAULT_PROBES = common.SHARED_EVAL / "out_of_domain" / "probes.csv"
#: Aim of the out-of-domain figure.
OOD_TARGET = 0.90
OUT_OF_SCOPE = "out_of_scope"


def read_held_out(folder: Path) -> Dict[str, List[Example]]:
    """Held-out examples per variety (files whose name names no variety are skipped)."""
    out: Dict[str, List[Example]] = {}
    for path in sorted(Path(folder).glob("*.yml")):
        variety = common.variety_of(path)
        if variety is not None:
            out.setdefault(variety, []).extend(common.read_nlu_file(path))
    return {v: common.unique(out[v]) for v in common.VARIETIES if v in out}


def read_probes(csv_path: Path) -> List[Dict[str, str]]:
    """Out-of-domain probes (``text``, ``lang``, ``source``)."""
    with Path(csv_path).open(encoding="utf-8", newline="") as fh:
        return [{"text": r["text"], "lang": r["lang"].strip()} for r in csv.DictReader(fh)]


def score(gold: Sequence[str], pred: Sequence[str]) -> Dict[str, Any]:
    """Accuracy, macro-F1, weakest intents and top confusions of one prediction set."""
    scores = common.per_label_scores(gold, pred)
    return {
        "n": len(gold),
        "accuracy": common.round4(common.accuracy(gold, pred)),
        "macro_f1": common.round4(common.macro_f1(gold, pred)),
        "weakest_intents": common.weakest(scores),
        "confusions": common.confusions(gold, pred, top=8),
    }


def score_ours(gold: Sequence[str], parses: Sequence[Parse], threshold: float) -> Dict[str, Any]:
    """:func:`score` of the top intent, plus what the fallback does to it."""
    result = score(gold, [p.intent for p in parses])
    result["accuracy_after_fallback"] = common.round4(
        common.accuracy(gold, [p.final for p in parses])
    )
    result["fallback_rate"] = common.share([p.confidence < threshold for p in parses])
    result["nlu_fallback_rate"] = common.share([p.final == common.FALLBACK_INTENT for p in parses])
    return result


def is_rejected(parse: Parse, threshold: float) -> bool:
    """True when the assistant would not treat the message as one of its topics."""
    return (
        parse.final in (OUT_OF_SCOPE, common.FALLBACK_INTENT)
        or parse.intent == OUT_OF_SCOPE
        or parse.confidence < threshold
    )


def out_of_domain(
    probes: Sequence[Dict[str, str]],
    parses: Sequence[Parse],
    baseline: Sequence[str],
    threshold: float,
) -> Dict[str, Any]:
    """Share of probes rejected, overall and per language, for both systems.

    Args:
        probes: The probes (``text``, ``lang``).
        parses: Our parse of each probe.
        baseline: The baseline's intent for each probe (it has no confidence: only
            ``out_of_scope`` counts as rejected).
        threshold: Fallback threshold.
    """
    ours = [is_rejected(p, threshold) for p in parses]
    base = [b == OUT_OF_SCOPE for b in baseline]
    langs = sorted({p["lang"] for p in probes})
    # Which topics the probes we let through were taken for: where the data needs negatives.
    accepted = Counter(p.final for p, r in zip(parses, ours) if not r).most_common(8)
    return {
        "n": len(probes),
        "target": OOD_TARGET,
        "ours": common.share(ours),
        "baseline": common.share(base),
        "per_lang": {
            lang: {
                "n": sum(p["lang"] == lang for p in probes),
                "ours": common.share([r for p, r in zip(probes, ours) if p["lang"] == lang]),
                "baseline": common.share([r for p, r in zip(probes, base) if p["lang"] == lang]),
            }
            for lang in langs
        },
        "ours_accepted_as": dict(accepted),
    }


def run(
    tests_dir: Path = DEFAULT_TESTS,
    data_dir: Path = common.DEFAULT_NLU_DATA,
    model_path: Optional[Path] = common.DEFAULT_MODEL,
    probes_csv: Optional[Path] = DEFAULT_PROBES,
    config_path: Path = common.DEFAULT_CONFIG,
) -> Dict[str, Any]:
    """Evaluate ours and the baseline on the held-out set and the out-of-domain probes.

    Args:
        tests_dir: Folder of held-out NLU files.
        data_dir: Training NLU data (for the baseline, and for ours without a model).
        model_path: Trained Rasa model; when missing, ours is trained here.
        probes_csv: Out-of-domain probes; skipped when None or missing.
        config_path: Rasa config (fallback threshold).

    Returns:
        The report (see the module docstring).
    """
    held_out = read_held_out(tests_dir)
    training = common.read_nlu_folder(data_dir)
    fallback = common.fallback_settings(config_path)
    threshold = fallback["threshold"]
    probes = read_probes(probes_csv) if probes_csv and Path(probes_csv).is_file() else []

    baseline = common.word_baseline()
    baseline_seconds = common.fit_timed(
        baseline, [e.text for e in training], [e.intent for e in training]
    )
    predictor = common.make_predictor(model_path, training, config_path)
    if isinstance(predictor, common.RasaPredictor) and "FallbackClassifier" in predictor.settings:
        # Confidences are on the scale of the model's own training: use its threshold.
        model_fallback = predictor.settings["FallbackClassifier"]
        threshold = float(model_fallback.get("threshold", threshold))

    varieties = list(held_out)
    texts = [e.text for v in varieties for e in held_out[v]]
    gold = [e.intent for v in varieties for e in held_out[v]]
    keys = [v for v in varieties for _ in held_out[v]]
    parses = predictor.parse(texts + [p["text"] for p in probes])
    ours, probe_parses = parses[: len(texts)], parses[len(texts) :]
    base, base_ms = common.timed_predict(
        lambda t: str(baseline.predict([t])[0]), texts + [p["text"] for p in probes]
    )
    base, base_probes = base[: len(texts)], base[len(texts) :]

    per_variety: Dict[str, Any] = {}
    for variety in varieties:
        idx = [i for i, k in enumerate(keys) if k == variety]
        g = [gold[i] for i in idx]
        per_variety[variety] = {
            "ours": score_ours(g, [ours[i] for i in idx], threshold),
            "baseline": score(g, [base[i] for i in idx]),
        }
    report: Dict[str, Any] = {
        "benchmark": "nlu",
        "machine": common.machine(),
        "held_out": str(tests_dir),
        "training_data": str(data_dir),
        "training_examples": len(training),
        "intents": len({e.intent for e in training}),
        "ours": predictor.description,
        "baseline": "TF-IDF word 1-2 grams + LinearSVC (C=1), trained here, no normalisation",
        "baseline_train_seconds": round(baseline_seconds, 2),
        "fallback": fallback,
        "per_variety": per_variety,
        "overall": {
            "ours": score_ours(gold, ours, threshold),
            "baseline": score(gold, base),
        },
        "out_of_domain": out_of_domain(probes, probe_parses, base_probes, threshold)
        if probes
        else None,
        "latency": {
            "ours": common.latency([p.ms for p in parses]),
            "baseline": common.latency(base_ms),
        },
        "held_out_in_training": common.normalised_overlap(texts, [e.text for e in training]),
    }
    if isinstance(predictor, common.RasaPredictor):
        # Others edit data/nlu while models are trained: say when the model may lag behind.
        newest = common.newest_mtime(data_dir) or 0.0
        report["model_trained_at"] = predictor.trained_at
        report["data_newer_than_model"] = newest > Path(predictor.model_path).stat().st_mtime
        report["model_settings"] = predictor.settings
        report["fallback_threshold_used"] = threshold
    return report


def format_table(report: Dict[str, Any]) -> str:
    """Render a report of :func:`run` as a plain-text table."""
    c = common.cell
    rows = list(report["per_variety"].items()) + [("overall", report["overall"])]
    lines = [
        f"NLU intents on {report['held_out']} ({report['machine']['date']})",
        f"ours: {report['ours']}",
        f"baseline: {report['baseline']}",
        "",
        f"{'variety':<10}{'n':>6}{'acc':>8}{'F1':>8}{'acc+fb':>8}{'fb rate':>9}"
        f"{'base acc':>10}{'base F1':>9}",
    ]
    lines.append("-" * len(lines[-1]))
    for name, r in rows:
        o, b = r["ours"], r["baseline"]
        lines.append(
            f"{name:<10}{o['n']:>6}{c(o['accuracy']):>8}{c(o['macro_f1']):>8}"
            f"{c(o['accuracy_after_fallback']):>8}{c(o['fallback_rate']):>9}"
            f"{c(b['accuracy']):>10}{c(b['macro_f1']):>9}"
        )
    lines.append("")
    threshold = report.get("fallback_threshold_used", report["fallback"]["threshold"])
    lines.append(
        "acc/F1: classifier's top intent; acc+fb: nlu_fallback counted wrong; "
        f"fb rate: top confidence < {threshold}"
    )
    ood = report["out_of_domain"]
    if ood:
        lines.append(
            f"out-of-domain probes rejected ({ood['n']}): ours {c(ood['ours'])}, "
            f"baseline {c(ood['baseline'])} (aim >= {ood['target']:.2f})"
        )
        for lang, r in ood["per_lang"].items():
            lines.append(
                f"  {lang:<8}{r['n']:>5}  ours {c(r['ours'])}  baseline {c(r['baseline'])}"
            )
        lines.append(
            "  accepted as: " + ", ".join(f"{k} {v}" for k, v in ood["ours_accepted_as"].items())
        )
    lat = report["latency"]
    lines.append(
        f"latency per message: ours mean {lat['ours']['mean_ms']:.2f} ms, p95 "
        f"{lat['ours']['p95_ms']:.2f} ms; baseline mean {lat['baseline']['mean_ms']:.2f} ms, "
        f"p95 {lat['baseline']['p95_ms']:.2f} ms"
    )
    lines.append(
        f"held-out messages also in training data (normalised): {report['held_out_in_training']}"
    )
    if "model_trained_at" in report:
        lines.append(
            f"model trained at {report['model_trained_at']}; data/nlu changed since: "
            f"{'yes' if report['data_newer_than_model'] else 'no'}; model settings "
            f"{report['model_settings']} (config.yml: {report['fallback']})"
        )
    for name, r in rows:
        lines.append(f"{name}: weakest {r['ours']['weakest_intents']}")
        lines.append(f"{name}: confusions {r['ours']['confusions']}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``mdm bench nlu``).

    Returns:
        0 on success, 2 when the held-out folder is missing.
    """
    parser = argparse.ArgumentParser(prog="mdm bench nlu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--model", type=Path, default=common.DEFAULT_MODEL, help="trained model")
    parser.add_argument("--tests", type=Path, default=DEFAULT_TESTS, help="held-out NLU folder")
    parser.add_argument("--data", type=Path, default=common.DEFAULT_NLU_DATA, help="training NLU")
    parser.add_argument("--probes", type=Path, default=DEFAULT_PROBES, help="out-of-domain CSV")
    parser.add_argument("--config", type=Path, default=common.DEFAULT_CONFIG, help="Rasa config")
    args = parser.parse_args(argv)
    if not args.tests.is_dir():
        print(f"held-out folder not found: {args.tests}", file=sys.stderr)
        return 2
    if not args.model.exists():
        print(f"no model at {args.model}: training the intent model here", file=sys.stderr)
    with common.stdout_to_stderr(args.json):
        report = run(args.tests, args.data, args.model, args.probes, args.config)
    common.emit(report, args.json, format_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
