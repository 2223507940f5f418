"""Shared pieces of the benchmarks: data readers, metrics, intent predictors, output.

Kept free of Rasa imports at module level so the metric code can be tested (and the
baselines run) without paying Rasa's start-up time; Rasa is imported only when a trained
model is actually loaded or trained.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

import yaml

from bot.settings import LANGUAGES, ROOT

#: External evaluation data (evaluation only, never copied into the repository).
SHARED_EVAL = ROOT.parent / "shared" / "eval"
#: The trained assistant (``make train``).
DEFAULT_MODEL = ROOT / "models" / "mdm.tar.gz"
DEFAULT_CONFIG = ROOT / "config.yml"
DEFAULT_NLU_DATA = ROOT / "data" / "nlu"
#: The five varieties, in the order tables show them.
VARIETIES: Tuple[str, ...] = LANGUAGES
FALLBACK_INTENT = "nlu_fallback"

# Rasa's own pattern for inline entity annotations: [text](entity), [text]{...}, [text][...].
_ENTITY_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}|\[(?P<list>.*?)\])"
)


class Example(NamedTuple):
    """One labelled message."""

    text: str
    intent: str


# ---------------------------------------------------------------------------- data


def strip_entities(text: str) -> str:
    """The plain text of a Rasa example (``[Lyon](city)`` -> ``Lyon``)."""
    return _ENTITY_ANNOTATION.sub(lambda m: m.group("text"), text).strip()


def read_nlu_file(path: Path) -> List[Example]:
    """Intent examples of one Rasa 3 NLU YAML file.

    A light reader (no Rasa import): ``nlu:`` items with ``intent`` and ``examples``,
    given either as a ``- text`` block or as a list of ``text:`` mappings. Synonyms,
    regexes and lookup tables are ignored (they are not intent examples).

    Args:
        path: The YAML file.

    Returns:
        The examples, in file order, entity annotations removed.
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    examples: List[Example] = []
    for item in raw.get("nlu") or []:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        intent = str(item["intent"])
        block = item.get("examples") or []
        if isinstance(block, str):
            lines = [ln.strip() for ln in block.splitlines()]
            texts = [ln[1:].strip() for ln in lines if ln.startswith("-")]
        else:
            texts = [str(x.get("text", "")) if isinstance(x, dict) else str(x) for x in block]
        examples += [Example(strip_entities(t), intent) for t in texts if t.strip()]
    return unique(examples)


def unique(examples: Iterable[Example]) -> List[Example]:
    """Examples without repeats, first occurrence kept (Rasa drops repeats too)."""
    return list(dict.fromkeys(examples))


def read_nlu_folder(folder: Path) -> List[Example]:
    """Intent examples of every ``*.yml`` under ``folder`` (recursively, sorted paths)."""
    out: List[Example] = []
    for path in sorted(Path(folder).rglob("*.yml")):
        out += read_nlu_file(path)
    return unique(out)


def variety_of(path: Path) -> Optional[str]:
    """The variety named by a held-out file: ``ary.yml``, ``out_of_scope_ary_Latn.yml``...

    Returns:
        The variety, or None when the name ends with none of them.
    """
    stem = Path(path).stem
    for variety in sorted(VARIETIES, key=len, reverse=True):
        if stem == variety or stem.endswith("_" + variety):
            return variety
    return None


def fallback_settings(config_path: Path = DEFAULT_CONFIG) -> Dict[str, float]:
    """Threshold and ambiguity threshold of the FallbackClassifier in a Rasa config.

    Returns:
        ``{"threshold": ..., "ambiguity_threshold": ...}`` (Rasa's defaults, 0.3 and 0.1,
        when the config has no FallbackClassifier or does not set them).
    """
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return {
                "threshold": float(component.get("threshold", 0.3)),
                "ambiguity_threshold": float(component.get("ambiguity_threshold", 0.1)),
            }
    return {"threshold": 0.3, "ambiguity_threshold": 0.1}


def newest_mtime(folder: Path) -> Optional[float]:
    """Modification time of the newest ``*.yml`` under ``folder`` (None when there is none)."""
    times = [p.stat().st_mtime for p in Path(folder).rglob("*.yml")]
    return max(times) if times else None


def normalised_overlap(texts: Iterable[str], training: Iterable[str]) -> int:
    """How many ``texts`` also occur in ``training`` once normalised (should be 0)."""
    from bot.text.normalize import normalize

    seen = {normalize(t).lower() for t in training}
    return sum(normalize(t).lower() in seen for t in texts)


# ------------------------------------------------------------------------- metrics


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> Optional[float]:
    """Share of exact matches; None on an empty set."""
    if not gold:
        return None
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)


def per_label_scores(gold: Sequence[str], pred: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """Precision, recall, F1 and support of every gold label.

    A prediction of a label absent from ``gold`` still costs the recall of the gold
    label; such labels get no row themselves (the way scikit-learn's macro/weighted
    averages with ``labels=`` set to the gold labels behave). 0/0 counts as 0.

    Returns:
        ``{label: {"precision", "recall", "f1", "support"}}`` sorted by label.
    """
    tp: Counter[str] = Counter()
    n_pred: Counter[str] = Counter(pred)
    n_gold: Counter[str] = Counter(gold)
    for g, p in zip(gold, pred):
        if g == p:
            tp[g] += 1
    scores: Dict[str, Dict[str, float]] = {}
    for label in sorted(n_gold):
        precision = tp[label] / n_pred[label] if n_pred[label] else 0.0
        recall = tp[label] / n_gold[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": float(n_gold[label]),
        }
    return scores


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> Optional[float]:
    """Unweighted mean F1 over the gold labels; None on an empty set."""
    scores = per_label_scores(gold, pred)
    return statistics.fmean(s["f1"] for s in scores.values()) if scores else None


def weighted_f1(gold: Sequence[str], pred: Sequence[str]) -> Optional[float]:
    """Mean F1 over the gold labels weighted by their support; None on an empty set."""
    scores = per_label_scores(gold, pred)
    if not scores:
        return None
    return sum(s["f1"] * s["support"] for s in scores.values()) / len(gold)


def confusions(gold: Sequence[str], pred: Sequence[str], top: int = 10) -> Dict[str, int]:
    """The most frequent errors as ``"gold->predicted": count``, most frequent first."""
    counts = Counter(f"{g}->{p}" for g, p in zip(gold, pred) if g != p)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


def weakest(scores: Mapping[str, Mapping[str, float]], top: int = 5) -> Dict[str, float]:
    """The ``top`` labels with the lowest F1 below 1, as ``{label: f1}``."""
    weak = [(lab, s["f1"]) for lab, s in scores.items() if s["f1"] < 1.0]
    return {lab: round(f1, 4) for lab, f1 in sorted(weak, key=lambda kv: (kv[1], kv[0]))[:top]}


def latency(times_ms: Sequence[float]) -> Dict[str, float]:
    """Mean and 95th percentile (nearest rank) of per-message times in milliseconds."""
    if not times_ms:
        return {"mean_ms": 0.0, "p95_ms": 0.0}
    ordered = sorted(times_ms)
    p95 = ordered[min(len(ordered) - 1, max(0, math.ceil(0.95 * len(ordered)) - 1))]
    return {"mean_ms": round(statistics.fmean(ordered), 3), "p95_ms": round(p95, 3)}


def round4(value: Optional[float]) -> Optional[float]:
    """Round a metric for the report (None stays None)."""
    return None if value is None else round(value, 4)


def share(flags: Sequence[bool]) -> Optional[float]:
    """Share of true flags, rounded; None on an empty set."""
    return round4(sum(flags) / len(flags)) if flags else None


def group_by(keys: Sequence[str], *columns: Sequence[Any]) -> Dict[str, Tuple[List[Any], ...]]:
    """Split parallel columns by key: ``{key: (column1_values, column2_values, ...)}``."""
    out: Dict[str, Tuple[List[Any], ...]] = defaultdict(lambda: tuple([] for _ in columns))
    for i, key in enumerate(keys):
        for col, values in zip(out[key], columns):
            col.append(values[i])
    return dict(out)


# ---------------------------------------------------------------------- predictors


@dataclass(frozen=True)
class Parse:
    """What the NLU made of one message.

    Attributes:
        final: The intent the dialogue sees (``nlu_fallback`` when the fallback fired).
        intent: The classifier's best intent, before the fallback.
        confidence: The classifier's confidence in ``intent``.
        ms: Time to parse this message, in milliseconds.
    """

    final: str
    intent: str
    confidence: float
    ms: float


class Predictor:
    """Something that parses messages one at a time (one call per message, as in chat)."""

    #: What the report calls it.
    description = "predictor"

    def parse(self, texts: Sequence[str]) -> List[Parse]:
        """Parse each text on its own, timing each call."""
        raise NotImplementedError


def apply_fallback(
    ranking: Sequence[Tuple[str, float]], threshold: float, ambiguity_threshold: float
) -> str:
    """The intent after Rasa's FallbackClassifier rule (low or ambiguous -> nlu_fallback)."""
    if not ranking:
        return FALLBACK_INTENT
    if ranking[0][1] < threshold:
        return FALLBACK_INTENT
    if len(ranking) >= 2 and ranking[0][1] - ranking[1][1] < ambiguity_threshold:
        return FALLBACK_INTENT
    return ranking[0][0]


class InRunPredictor(Predictor):
    """The project's intent model (:class:`bot.nlu.model.IntentModel`) trained here.

    Used when no trained Rasa model exists (and by the tests): same classifier and
    same fallback rule as the pipeline, without language id and entities.
    """

    description = "bot.nlu.model.IntentModel trained in this run + fallback rule"

    def __init__(
        self,
        examples: Sequence[Example],
        C: float = 1.0,  # noqa: N803 - the SVM's name for it
        temperature: float = 4.0,
        threshold: float = 0.4,
        ambiguity_threshold: float = 0.03,
    ) -> None:
        """Train on ``examples``.

        Args:
            examples: Training examples.
            C: SVM regularisation (as in config.yml).
            temperature: Softmax temperature (as in config.yml).
            threshold: Fallback threshold.
            ambiguity_threshold: Fallback ambiguity threshold.
        """
        from bot.nlu.model import IntentModel

        start = time.perf_counter()
        self.model = IntentModel(C=C, temperature=temperature).fit(
            [e.text for e in examples], [e.intent for e in examples]
        )
        self.train_seconds = time.perf_counter() - start
        self.threshold = threshold
        self.ambiguity_threshold = ambiguity_threshold

    def parse(self, texts: Sequence[str]) -> List[Parse]:
        """Parse each text on its own."""
        out: List[Parse] = []
        for text in texts:
            start = time.perf_counter()
            ranking = self.model.rank([text])[0]
            final = apply_fallback(ranking, self.threshold, self.ambiguity_threshold)
            ms = (time.perf_counter() - start) * 1000.0
            out.append(Parse(final, ranking[0][0], ranking[0][1], ms))
        return out


def quiet_rasa() -> None:
    """Send Rasa's and TensorFlow's chatter to stderr at warning level.

    Rasa's structlog prints debug events to stdout by default, which would break ``--json``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "bot", "actions"):
        logging.getLogger(name).setLevel(logging.WARNING)


def parse_result(result: Mapping[str, Any], ms: float) -> Parse:
    """Turn one Rasa parse result into a :class:`Parse` (the classifier's top is kept)."""
    final = (result.get("intent") or {}).get("name") or FALLBACK_INTENT
    ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    if ranking:
        top, confidence = str(ranking[0]["name"]), float(ranking[0]["confidence"])
    else:
        top, confidence = final, float((result.get("intent") or {}).get("confidence") or 0.0)
    return Parse(str(final), top, confidence, ms)


class RasaPredictor(Predictor):
    """A trained Rasa model, parsing through the full NLU pipeline (Agent.parse_message)."""

    def __init__(self, model_path: Path) -> None:
        """Load the model.

        Args:
            model_path: A model archive (or a folder of archives: the newest is used).
        """
        quiet_rasa()
        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):
            from rasa.core.agent import Agent
            from rasa.model import get_local_model

            self.model_path = get_local_model(str(model_path))
            self.agent = Agent.load(self.model_path)
        self.load_seconds = time.perf_counter() - start
        trained = dt.datetime.fromtimestamp(Path(self.model_path).stat().st_mtime).astimezone()
        self.trained_at = trained.isoformat(timespec="seconds")
        self.description = f"Rasa model {self.model_path} (full NLU pipeline)"
        self.settings = self._settings()

    def _settings(self) -> Dict[str, Dict[str, Any]]:
        """The settings the model was trained with, per component (classifier, fallback).

        The model may predate ``config.yml``: its own fallback threshold is what decides.
        """
        out: Dict[str, Dict[str, Any]] = {}
        schema = (
            self.agent.processor.model_metadata.predict_schema if self.agent.processor else None
        )
        for node in schema.nodes.values() if schema else []:
            name = node.uses.__name__
            if name in ("FallbackClassifier", "LinearIntentClassifier"):
                out[name] = dict(node.config)
        return out

    def parse(self, texts: Sequence[str]) -> List[Parse]:
        """Parse each text on its own with ``await agent.parse_message``."""

        async def go() -> List[Parse]:
            out: List[Parse] = []
            for text in texts:
                start = time.perf_counter()
                result = await self.agent.parse_message(text)
                out.append(parse_result(result, (time.perf_counter() - start) * 1000.0))
            return out

        with contextlib.redirect_stdout(sys.stderr):
            # One warm-up call: the first parse builds lazily loaded pieces.
            asyncio.run(self.agent.parse_message("warm up"))
            return asyncio.run(go())


def make_predictor(
    model_path: Optional[Path], training: Sequence[Example], config_path: Path
) -> Predictor:
    """The trained Rasa model if there is one, else the intent model trained here."""
    if model_path is not None and Path(model_path).exists():
        return RasaPredictor(Path(model_path))
    settings = fallback_settings(config_path)
    # Same classifier settings as the pipeline, so the in-run model stands in for it fairly.
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    classifier: Dict[str, Any] = next(
        (
            c
            for c in config.get("pipeline") or []
            if str(c.get("name", "")).endswith("LinearIntentClassifier")
        ),
        {},
    )
    return InRunPredictor(
        training,
        C=float(classifier.get("C", 1.0)),
        temperature=float(classifier.get("temperature", 4.0)),
        threshold=settings["threshold"],
        ambiguity_threshold=settings["ambiguity_threshold"],
    )


def timed_predict(
    predict: Callable[[str], str], texts: Sequence[str]
) -> Tuple[List[str], List[float]]:
    """Run a one-message predictor over ``texts``; returns labels and times in ms."""
    labels: List[str] = []
    times: List[float] = []
    for text in texts:
        start = time.perf_counter()
        labels.append(predict(text))
        times.append((time.perf_counter() - start) * 1000.0)
    return labels, times


def word_baseline() -> Any:
    """TF-IDF word unigrams+bigrams + LinearSVC, no normalisation beyond lower-casing."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("clf", LinearSVC(C=1.0)),
        ]
    )


def char_word_baseline() -> Any:
    """TF-IDF char_wb 1-5 + word 1-2 grams + LinearSVC, no normalisation beyond lower-casing."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )
    return Pipeline([("features", features), ("clf", LinearSVC(C=1.0))])


def fit_timed(model: Any, texts: Sequence[str], labels: Sequence[str]) -> float:
    """Fit a scikit-learn model; returns the seconds it took."""
    start = time.perf_counter()
    model.fit(list(texts), list(labels))
    return time.perf_counter() - start


# --------------------------------------------------------------------------- output


def machine() -> Dict[str, Any]:
    """Where and when the benchmark ran (for the report)."""
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        # Other jobs on a shared machine slow every timing: keep the load with the figures.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def cell(value: Optional[float], digits: int = 3) -> str:
    """A table cell: ``-`` for missing values."""
    return "-" if value is None else f"{value:.{digits}f}"


def emit(report: Dict[str, Any], as_json: bool, table: Callable[[Dict[str, Any]], str]) -> None:
    """Print the report as one JSON object or as a readable table."""
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(table(report))


@contextlib.contextmanager
def stdout_to_stderr(enabled: bool = True) -> Iterator[None]:
    """Keep stdout clean for ``--json``: everything printed inside goes to stderr."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield
