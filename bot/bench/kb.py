"""Does a user's question reach the right knowledge-base entry? Search and assistant, per variety.

Questions: ``tests/kb_questions.yml`` (``{entry_id: {variety: [question, ...]}}``), written
by hand for this benchmark, phrased differently from each entry's title and keywords.
For every question two paths are measured:

* ``search``: :func:`bot.knowledge.search.default_search` ``.search(q, k=3)``; is the
  entry first (top-1) or among the three hits (top-3)? Aims: 0.90 and 0.98.
* ``assistant``: what the running assistant would do. The trained model (or, without
  one, the project's intent model trained here) gives the intent; then, as in
  ``actions.procedures``, ``pick_variant(default_kb().for_intent(intent), q, None)``
  picks the entry. Outcomes:

  - ``direct``: the right entry is answered straight away;
  - ``asked``: a clarifying question whose buttons include the right entry, either the
    variant question of ``action_answer_procedure`` or the "did you mean...?" of
    ``action_fallback_suggest`` after an ``nlu_fallback`` (search hits scoring at least
    its ``MIN_SUGGESTION_SCORE``);
  - ``wrong``: anything else (wrong entry, an intent without entry, a fallback whose
    suggestions miss the entry).

Usage::

    mdm bench kb [--json] [--questions YML] [--model PATH]
    mdm bench kb --tune      # choose search weights on one half, check on the other
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from bot.bench import common

DEFAULT_QUESTIONS = common.ROOT / "tests" / "kb_questions.yml"
TOP1_TARGET = 0.90
TOP3_TARGET = 0.98


@dataclass(frozen=True)
class Question:
    """One benchmark question and the entry it should reach."""

    entry: str
    variety: str
    text: str


@dataclass
class Record:
    """What search and the assistant made of one question."""

    entry: str
    variety: str
    text: str
    search: List[str]
    intent: str = ""
    intent_ok: Optional[bool] = None
    outcome: str = ""
    reason: str = ""
    got: str = ""


def read_questions(path: Path) -> List[Question]:
    """Questions of a ``{entry_id: {variety: [question, ...]}}`` YAML file, in file order."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [
        Question(str(entry), str(variety), str(text))
        for entry, by_variety in raw.items()
        for variety, texts in (by_variety or {}).items()
        for text in texts or []
    ]


def assistant_outcome(
    expected: str,
    final_intent: str,
    candidates: Sequence[str],
    picked: Optional[str],
    suggestions: Sequence[str],
) -> Tuple[str, str]:
    """Classify what the assistant did with a question.

    Args:
        expected: The entry the question is about.
        final_intent: The intent after the fallback classifier.
        candidates: Entries of that intent (``default_kb().for_intent``).
        picked: The entry ``pick_variant`` chose, None when it would ask.
        suggestions: Entries offered by the "did you mean" fallback (only read when
            ``final_intent`` is ``nlu_fallback``).

    Returns:
        ``(outcome, reason)``: outcome ``direct``, ``asked`` or ``wrong``; reason says
        which question was asked or why it is wrong.
    """
    if final_intent == common.FALLBACK_INTENT:
        if expected in suggestions:
            return "asked", "fallback_suggestions"
        return "wrong", "fallback_without_entry"
    if not candidates:
        return "wrong", "intent_without_entry"
    if picked == expected:
        return "direct", ""
    if picked is None and expected in candidates:
        return "asked", "variant_question"
    return "wrong", "wrong_entry"


def summarise(records: Sequence[Record], varieties: Sequence[str]) -> Dict[str, Any]:
    """Hit rates per variety and overall.

    Returns:
        ``{variety|"overall": {"n", "search_top1", "search_top3", "direct", "asked",
        "wrong"}}``; the assistant rates are None when it was not run.
    """
    out: Dict[str, Any] = {}
    for name in (*varieties, "overall"):
        rows = [r for r in records if name in ("overall", r.variety)]
        if not rows:
            continue
        ran = [r for r in rows if r.outcome]
        out[name] = {
            "n": len(rows),
            "search_top1": common.share([bool(r.search) and r.search[0] == r.entry for r in rows]),
            "search_top3": common.share([r.entry in r.search[:3] for r in rows]),
            "direct": common.share([r.outcome == "direct" for r in ran]),
            "asked": common.share([r.outcome == "asked" for r in ran]),
            "wrong": common.share([r.outcome == "wrong" for r in ran]),
            # Diagnostics: the classifier's top intent, and how often the fallback fired.
            "intent_accuracy": common.share([bool(r.intent_ok) for r in ran]),
            "fallback_rate": common.share([r.intent == common.FALLBACK_INTENT for r in ran]),
        }
    return out


def search_all(questions: Sequence[Question], k: int = 3) -> Tuple[List[Record], List[float]]:
    """Run the knowledge search on every question; returns records and times (ms)."""
    from bot.knowledge.search import default_search

    search = default_search()
    records: List[Record] = []
    times: List[float] = []
    for q in questions:
        start = time.perf_counter()
        hits = search.search(q.text, k=k)
        times.append((time.perf_counter() - start) * 1000.0)
        records.append(Record(q.entry, q.variety, q.text, [h.entry.id for h in hits]))
    return records, times


def assistant_all(records: Sequence[Record], predictor: common.Predictor) -> None:
    """Fill in what the assistant does with each question (intent, then the action's choice)."""
    from actions.fallback import MIN_SUGGESTION_SCORE
    from actions.procedures import pick_variant
    from bot.knowledge import default_kb
    from bot.knowledge.search import default_search

    kb = default_kb()
    parses = predictor.parse([r.text for r in records])
    for record, parse in zip(records, parses):
        entries = kb.for_intent(parse.final)
        picked = pick_variant(entries, record.text, None) if entries else None
        suggestions: List[str] = []
        if parse.final == common.FALLBACK_INTENT:
            suggestions = [
                h.entry.id
                for h in default_search().search(record.text, k=3)
                if h.score >= MIN_SUGGESTION_SCORE
            ]
        record.intent = parse.final
        expected = kb.get(record.entry)
        record.intent_ok = expected is not None and parse.intent in expected.intents
        record.outcome, record.reason = assistant_outcome(
            record.entry,
            parse.final,
            [e.id for e in entries],
            picked.id if picked else None,
            suggestions,
        )
        record.got = picked.id if picked else ("?" + parse.final)


def _failures(records: Sequence[Record]) -> Dict[str, Any]:
    """Which entries are missed, and how (for improving keywords, data and variants)."""
    search_misses = Counter(r.entry for r in records if not r.search or r.search[0] != r.entry)
    wrong = Counter(r.entry for r in records if r.outcome == "wrong")
    reasons = Counter(r.reason for r in records if r.outcome == "wrong")
    taken_for = Counter(
        f"{r.entry}->{r.search[0] if r.search else 'nothing'}"
        for r in records
        if not r.search or r.search[0] != r.entry
    )
    wrong_as = Counter(f"{r.entry}->{r.got}" for r in records if r.outcome == "wrong")
    return {
        "search_top1_misses_per_entry": dict(search_misses.most_common(12)),
        "search_confusions": dict(taken_for.most_common(12)),
        "assistant_wrong_per_entry": dict(wrong.most_common(12)),
        "assistant_wrong_reasons": dict(reasons),
        "assistant_confusions": dict(wrong_as.most_common(12)),
    }


def run(
    questions_path: Path = DEFAULT_QUESTIONS,
    model_path: Optional[Path] = common.DEFAULT_MODEL,
    data_dir: Path = common.DEFAULT_NLU_DATA,
    config_path: Path = common.DEFAULT_CONFIG,
    with_assistant: bool = True,
) -> Dict[str, Any]:
    """Measure search and the assistant on every question.

    Args:
        questions_path: The questions YAML.
        model_path: Trained Rasa model; when missing, the intent model is trained here.
        data_dir: NLU training data (only without a model).
        config_path: Rasa config (fallback settings, only without a model).
        with_assistant: Also run the assistant path (False: search only).

    Returns:
        The report (see the module docstring).
    """
    from bot.knowledge import default_kb

    questions = read_questions(questions_path)
    kb = default_kb()
    unknown = sorted({q.entry for q in questions} - set(kb.entries))
    questions = [q for q in questions if q.entry in kb.entries]
    records, search_ms = search_all(questions)
    description = "not run"
    if with_assistant:
        training = common.read_nlu_folder(data_dir)
        predictor = common.make_predictor(model_path, training, config_path)
        description = predictor.description
        assistant_all(records, predictor)
    varieties = [v for v in common.VARIETIES if any(q.variety == v for q in questions)]
    training_texts = [e.text for e in common.read_nlu_folder(data_dir)] if data_dir.is_dir() else []
    return {
        "benchmark": "kb",
        "machine": common.machine(),
        "questions_file": str(questions_path),
        "questions": len(questions),
        "entries": len({q.entry for q in questions}),
        "entries_without_questions": sorted(set(kb.entries) - {q.entry for q in questions}),
        "unknown_entries_in_questions": unknown,
        "assistant": description,
        "targets": {"search_top1": TOP1_TARGET, "search_top3": TOP3_TARGET},
        "per_variety": summarise(records, varieties),
        "search_latency": common.latency(search_ms),
        "failures": _failures(records),
        "questions_in_nlu_training": common.normalised_overlap(
            [q.text for q in questions], training_texts
        ),
        "records": [asdict(r) for r in records],
    }


#: The grid ``--tune`` explores for each weight of :data:`bot.knowledge.search.WEIGHTS`.
TUNE_GRID = (
    (0.0, 0.05, 0.1, 0.15, 0.2, 0.3),
    (0.0, 0.05, 0.1),
    (0.0, 0.05, 0.1, 0.2),
    (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
)


def tune(questions_path: Path = DEFAULT_QUESTIONS) -> Dict[str, Any]:
    """Choose search weights on the first question of each entry and variety, check on the rest.

    The score to maximise is top-1 + top-3 / 2 on the first half; the second half, never
    looked at by the choice, shows whether the weights generalise.

    Args:
        questions_path: The questions YAML (two or more questions per entry and variety).

    Returns:
        The current and the best weights with their hit rates on both halves.
    """
    import itertools

    import numpy as np

    from bot.knowledge.search import default_search

    search = default_search()
    seen: Counter[Tuple[str, str]] = Counter()
    halves: Dict[str, List[Tuple[np.ndarray, int]]] = {"choose": [], "check": []}
    for q in read_questions(questions_path):
        if q.entry not in search.kb.entries:
            continue
        half = "choose" if seen[(q.entry, q.variety)] == 0 else "check"
        seen[(q.entry, q.variety)] += 1
        signals, _best = search.components(q.text)
        halves[half].append((signals, list(search.kb.entries).index(q.entry)))

    def rates(weights: Sequence[float], rows: List[Tuple[np.ndarray, int]]) -> Tuple[float, float]:
        w = np.asarray(weights, dtype=float)
        top1 = top3 = 0
        for signals, right in rows:
            order = np.argsort(-(w @ signals), kind="stable")
            top1 += int(order[0] == right)
            top3 += int(right in order[:3])
        return top1 / max(1, len(rows)), top3 / max(1, len(rows))

    best: Tuple[float, Tuple[float, ...]] = (-1.0, tuple(search.weights))
    for weights in itertools.product(*TUNE_GRID):
        if not any(weights):
            continue
        top1, top3 = rates(weights, halves["choose"])
        if top1 + top3 / 2 > best[0] + 1e-9:
            best = (top1 + top3 / 2, weights)

    def report(weights: Sequence[float]) -> Dict[str, Any]:
        return {
            "weights": list(weights),
            **{
                f"{half}_top{k}": round(r, 3)
                for half in ("choose", "check")
                for k, r in zip((1, 3), rates(weights, halves[half]))
            },
        }

    return {
        "benchmark": "kb-tune",
        "questions_file": str(questions_path),
        "choose_questions": len(halves["choose"]),
        "check_questions": len(halves["check"]),
        "current": report(search.weights),
        "best": report(best[1]),
    }


def format_table(report: Dict[str, Any]) -> str:
    """Render a report of :func:`run` as a plain-text table."""
    c = common.cell
    lines = [
        f"Knowledge base: {report['questions']} questions on {report['entries']} entries "
        f"({report['machine']['date']})",
        f"assistant: {report['assistant']}",
        "",
        f"{'variety':<10}{'n':>5}{'top-1':>8}{'top-3':>8}{'direct':>9}{'asked':>8}{'wrong':>8}"
        f"{'intent':>8}{'fb':>7}",
    ]
    lines.append("-" * len(lines[-1]))
    for name, r in report["per_variety"].items():
        lines.append(
            f"{name:<10}{r['n']:>5}{c(r['search_top1']):>8}{c(r['search_top3']):>8}"
            f"{c(r['direct']):>9}{c(r['asked']):>8}{c(r['wrong']):>8}"
            f"{c(r['intent_accuracy']):>8}{c(r['fallback_rate']):>7}"
        )
    t = report["targets"]
    lines.append("")
    lines.append(
        f"top-1/top-3: search; aims {t['search_top1']:.2f} / {t['search_top3']:.2f}. "
        "direct/asked/wrong: the assistant (intent, then the action's entry choice); "
        "intent: classifier's top intent right; fb: ended in nlu_fallback."
    )
    lat = report["search_latency"]
    lines.append(f"search latency: mean {lat['mean_ms']:.2f} ms, p95 {lat['p95_ms']:.2f} ms")
    lines.append(
        f"questions also in NLU training data (normalised): {report['questions_in_nlu_training']}"
    )
    for key, value in report["failures"].items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``mdm bench kb``).

    Returns:
        0 on success, 2 when the questions file is missing.
    """
    parser = argparse.ArgumentParser(prog="mdm bench kb", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="questions YAML")
    parser.add_argument("--model", type=Path, default=common.DEFAULT_MODEL, help="trained model")
    parser.add_argument("--data", type=Path, default=common.DEFAULT_NLU_DATA, help="training NLU")
    parser.add_argument("--config", type=Path, default=common.DEFAULT_CONFIG, help="Rasa config")
    parser.add_argument("--search-only", action="store_true", help="skip the assistant path")
    parser.add_argument(
        "--tune", action="store_true", help="choose search weights on half the questions"
    )
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        print(f"questions file not found: {args.questions}", file=sys.stderr)
        return 2
    if args.tune:
        with common.stdout_to_stderr(True):
            tuned = tune(args.questions)
        print(json.dumps(tuned, indent=2))
        return 0
    with common.stdout_to_stderr(args.json):
        report = run(
            args.questions, args.model, args.data, args.config, with_assistant=not args.search_only
        )
    common.emit(report, args.json, format_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
