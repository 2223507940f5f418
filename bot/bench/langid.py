"""Benchmark the language-variety identifier against off-the-shelf detectors.

Evaluates on a CSV with columns ``text,lang,source`` (labels ``ary``,
``ary_Latn``, ``ar``, ``fr``, ``en``, ``other``), by default
``<repo>/../shared/eval/langid/langid.csv``, and reports accuracy overall, per
source and per label, plus per-message latency (mean and p95), for:

* ``ours``: :class:`bot.language.identify.LanguageIdentifier` trained from the
  project (seed corpora + NLU data; the evaluation file is never read for
  training);
* ``lingua``: lingua-language-detector, all languages, models preloaded;
* ``py3langid``: py3langid with its full shipped model.

The off-the-shelf detectors have no Darija, so their outputs are mapped:
French/English stay ``fr``/``en``, Arabic becomes ``ar`` and is counted as
right for both ``ar`` and ``ary`` (they cannot tell MSA from Darija), every
other language becomes ``other``. On ``ary_Latn`` rows they cannot be right
unless they answer something Darija-like, which neither can: their accuracy
there is 0 by construction, and the table says so.

Usage::

    python -m bot.bench.langid [--json] [--csv PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "eval" / "langid" / "langid.csv"

LABELS = ("ary", "ary_Latn", "ar", "fr", "en", "other")
SYSTEMS = ("ours", "lingua", "py3langid")
#: Columns of the table: ours, ours scored like the external detectors, them.
COLUMNS = ("ours", "ours_script", "lingua", "py3langid")

MAPPING_NOTE = (
    "lingua and py3langid know no Darija: their Arabic answer counts as right for ar and ary; "
    "on ary_Latn they cannot be right (they never answer a Darija-like label); "
    "their languages other than fr/en/ar count as 'other'."
)


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    """Read the evaluation CSV.

    Args:
        csv_path: File with ``text,lang,source`` columns.

    Returns:
        The rows as dictionaries, in file order.

    """
    with Path(csv_path).open(encoding="utf-8", newline="") as fh:
        return [
            {"text": r["text"], "lang": r["lang"].strip(), "source": r["source"].strip()}
            for r in csv.DictReader(fh)
        ]


def _map_external(code: str | None) -> str:
    """Map an ISO 639-1 answer of an external detector to our label space."""
    if code in ("fr", "en", "ar"):
        return code
    return "other"


def _correct(system: str, predicted: str, gold: str) -> bool:
    """Score one answer; external detectors' Arabic is right for ar and ary.

    ``ours_script`` is our identifier scored like the external detectors (its
    ``ar`` or ``ary`` answer counts as right on both), for a like-for-like view.
    """
    if system == "ours_script" and predicted in ("ar", "ary"):
        return gold in ("ar", "ary")
    if system not in ("ours", "ours_script") and predicted == "ar":
        return gold in ("ar", "ary")
    return predicted == gold


def _timed(predict: Callable[[str], str], texts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Run a per-message predictor, timing each call in milliseconds."""
    preds: list[str] = []
    times: list[float] = []
    for text in texts:
        start = time.perf_counter()
        preds.append(predict(text))
        times.append((time.perf_counter() - start) * 1000.0)
    return preds, times


def _predictors() -> dict[str, tuple[Callable[[str], str], float]]:
    """Build the three systems; returns predictor and set-up time in seconds."""
    out: dict[str, tuple[Callable[[str], str], float]] = {}

    start = time.perf_counter()
    from bot.language.identify import LanguageIdentifier

    ours = LanguageIdentifier.from_project(REPO_ROOT)
    ours.identify("warm-up")  # loads py3langid inside ours as well
    out["ours"] = (lambda t: ours.identify(t).code, time.perf_counter() - start)

    start = time.perf_counter()
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def lingua_predict(text: str) -> str:
        lang = detector.detect_language_of(text)
        return _map_external(lang.iso_code_639_1.name.lower() if lang is not None else None)

    out["lingua"] = (lingua_predict, time.perf_counter() - start)

    start = time.perf_counter()
    from py3langid.langid import MODEL_FILE
    from py3langid.langid import LanguageIdentifier as Py3LangId

    py3 = Py3LangId.from_pickled_model(MODEL_FILE, norm_probs=False)
    out["py3langid"] = (lambda t: _map_external(py3.classify(t)[0]), time.perf_counter() - start)
    return out


def _accuracy(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def _latency(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] if ordered else 0.0
    return {"mean_ms": round(statistics.fmean(times), 3) if times else 0.0, "p95_ms": round(p95, 3)}


def evaluate(rows: list[dict[str, str]], predictions: dict[str, list[str]]) -> dict[str, dict]:
    """Compute accuracies of each system on the rows.

    Args:
        rows: Evaluation rows (``text``, ``lang``, ``source``).
        predictions: Per system, one label per row.

    Returns:
        Per system: ``overall``, ``per_source``, ``per_label`` accuracies and
        the ``confusions`` (gold -> predicted counts) of its errors.

    """
    results: dict[str, dict] = {}
    for system, preds in predictions.items():
        overall: list[bool] = []
        by_source: dict[str, list[bool]] = defaultdict(list)
        by_label: dict[str, list[bool]] = defaultdict(list)
        confusions: dict[str, int] = defaultdict(int)
        for row, pred in zip(rows, preds, strict=True):
            ok = _correct(system, pred, row["lang"])
            overall.append(ok)
            by_source[row["source"]].append(ok)
            by_label[row["lang"]].append(ok)
            if not ok:
                confusions[f"{row['lang']}->{pred}"] += 1
        results[system] = {
            "overall": _accuracy(overall),
            "per_source": {s: _accuracy(v) for s, v in sorted(by_source.items())},
            "per_label": {lab: _accuracy(by_label[lab]) for lab in LABELS if by_label.get(lab)},
            "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:12]),
        }
    return results


def _training_overlap(rows: list[dict[str, str]]) -> int:
    """Count evaluation rows whose normalised text is also in our training text."""
    from bot.language.corpus import load_training_texts
    from bot.text.normalize import normalize

    train = {normalize(t) for texts in load_training_texts(REPO_ROOT).values() for t in texts}
    return sum(normalize(r["text"]) in train for r in rows)


def run(csv_path: Path = DEFAULT_CSV, as_json: bool = False) -> dict:
    """Evaluate ours, lingua and py3langid on the CSV and print a report.

    Args:
        csv_path: Evaluation CSV (``text,lang,source``).
        as_json: Print JSON instead of a table.

    Returns:
        The report: rows count, per-system accuracies, latencies and set-up
        times, the label mapping note, and how many evaluation rows also occur
        (normalised) in our training text (should be 0; NLU data is written by
        people and is checked, not trusted).

    """
    rows = read_rows(Path(csv_path))
    texts = [r["text"] for r in rows]
    predictions: dict[str, list[str]] = {}
    latency: dict[str, dict[str, float]] = {}
    setup: dict[str, float] = {}
    for system, (predict, setup_s) in _predictors().items():
        preds, times = _timed(predict, texts)
        predictions[system] = preds
        latency[system] = _latency(times)
        setup[system] = round(setup_s, 2)
    predictions["ours_script"] = predictions["ours"]
    report = {
        "csv": str(csv_path),
        "rows": len(rows),
        "rows_per_source": {
            s: sum(r["source"] == s for r in rows) for s in sorted({r["source"] for r in rows})
        },
        "rows_per_label": {lab: sum(r["lang"] == lab for r in rows) for lab in LABELS},
        "accuracy": evaluate(rows, predictions),
        "latency": latency,
        "setup_seconds": setup,
        "note": MAPPING_NOTE,
        "eval_rows_in_training_text": _training_overlap(rows),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_table(report))
    return report


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(report: dict) -> str:
    """Render a report as a plain-text table.

    Args:
        report: What :func:`run` returns.

    Returns:
        A multi-line table: accuracy per source and label, overall, latency.

    """
    acc = report["accuracy"]
    lines = [f"Language identification on {report['csv']} ({report['rows']} rows)", ""]
    header = f"{'':28}" + "".join(f"{c:>12}" for c in COLUMNS)
    lines.append(header)
    lines.append("-" * len(header))

    def row(name: str, n: int, key: str, sub: str | None) -> str:
        cells = [acc[c][key].get(sub) if sub is not None else acc[c][key] for c in COLUMNS]
        return f"{name:<22}{n:>6}" + "".join(f"{_cell(v):>12}" for v in cells)

    for source, n in report["rows_per_source"].items():
        lines.append(row("source " + source, n, "per_source", source))
    for label, n in report["rows_per_label"].items():
        if n:
            lines.append(row("label " + label, n, "per_label", label))
    lines.append(row("overall", report["rows"], "overall", None))
    lines.append("-" * len(header))
    lat = report["latency"]
    lat_cols = ["ours", "", "lingua", "py3langid"]

    def lat_row(name: str, key: str) -> str:
        cells = [f"{lat[c][key]:>12.3f}" if c else f"{'':>12}" for c in lat_cols]
        return f"{name:<28}" + "".join(cells)

    lines.append(lat_row("latency mean ms/message", "mean_ms"))
    lines.append(lat_row("latency p95 ms/message", "p95_ms"))
    setup = report["setup_seconds"]
    lines.append(
        f"{'set-up s (ours: training)':<28}"
        + "".join(f"{setup[c]:>12.2f}" if c else f"{'':>12}" for c in lat_cols)
    )
    lines.append("")
    lines.append("Note: " + report["note"])
    lines.append(
        "ours_script: our identifier scored the same way (ar or ary right on both ar and ary rows)."
    )
    lines.append(
        f"Evaluation rows also present in our training text: {report['eval_rows_in_training_text']}"
    )
    lines.append(
        "Most frequent errors of ours: "
        + ", ".join(f"{k} {v}" for k, v in acc["ours"]["confusions"].items())
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (defaults to ``sys.argv[1:]``).

    Returns:
        Process exit code (0 on success, 2 when the CSV is missing).

    """
    parser = argparse.ArgumentParser(
        prog="python -m bot.bench.langid", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--csv", type=Path, default=DEFAULT_CSV, help=f"evaluation CSV (default: {DEFAULT_CSV})"
    )
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"evaluation CSV not found: {args.csv}", file=sys.stderr)
        return 2
    run(args.csv, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
