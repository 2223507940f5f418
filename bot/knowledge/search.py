"""Free-text search over the knowledge base, in any of the five varieties.

A hybrid of three signals, because questions rarely use an entry's own words:

* BM25 (the ``bm25s`` library: small, maintained, fast sparse scoring) over normalised content
  words of every entry in every variety; function words are dropped, Arabic words also index
  without a glued article or preposition (``بالقنصلية`` -> ``قنصليه``), Arabizi words with digits
  also by a spelling-independent skeleton, and a query word missing from the vocabulary is
  mapped to its closest vocabulary words with ``rapidfuzz`` (typos);
* character n-gram TF-IDF similarity between the question and each entry (robust to
  morphology and spelling across scripts);
* how likely each intent is for the question, from the project's intent model
  (:class:`bot.nlu.model.IntentModel`) trained on the NLU examples, which say how people really
  ask; an entry inherits the probability of its intents;
* how likely each entry is, from the same kind of model trained on the entries' own example
  questions, titles and keywords (``questions`` in each variety): it tells apart entries that
  share an intent (the four passport entries) and knows the everyday phrasings of each.

Both models are cached on disk, keyed by their training files, so only the first process after
a data change trains them (a few seconds).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Collection, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import bm25s
import joblib
import numpy as np
import yaml
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.knowledge.schema import Entry
from bot.knowledge.store import KnowledgeBase, default_kb
from bot.nlu.model import IntentModel
from bot.settings import ROOT
from bot.text.normalize import arabizi_skeleton, normalize, tokens
from bot.text.stopwords import ALL_STOPWORDS

_ARABIC_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")
#: Words this short carry little meaning and make fuzzy matching noisy.
_MIN_FUZZY_LEN = 5
_FUZZY_CUTOFF = 88
#: Weights of BM25 on titles and keywords, BM25 on the whole entry, character similarity,
#: the intent model and the entry model in the final score.
WEIGHTS = (0.05, 0.0, 0.0, 0.3, 0.7)
logger = logging.getLogger(__name__)
CACHE_DIR = ROOT / "var" / "cache"
_ENTITY = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\{[^}\n]*\})")
NLU_DIR = ROOT / "data" / "nlu"


def _is_arabic(token: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in token)


def expand(token: str) -> List[str]:
    """The index terms of one normalised token (itself, without clitics, its skeleton)."""
    terms = [token]
    if _is_arabic(token):
        for prefix in _ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                terms.append(token[len(prefix) :])
                break
    elif any(ch.isdigit() for ch in token) and any(ch.isalpha() for ch in token):
        terms.append("~" + arabizi_skeleton(token))
    elif len(token) >= 5 and token[0] == "l" and token[1] not in "aeiouy":
        terms.append(token[1:])  # Darija article glued to a loanword: lpaspor -> paspor
    return terms


def analyse(text: str) -> List[str]:
    """Normalised index terms of a text, function words left out."""
    return [term for tok in tokens(text) if tok not in ALL_STOPWORDS for term in expand(tok)]


def _entry_head(entry: Entry, lang: str) -> str:
    """Title and keywords: the words people type for this entry."""
    c = entry.text(lang)
    return " \n ".join([c.title, *c.keywords])


def _entry_text(entry: Entry, lang: str) -> str:
    c = entry.text(lang)
    return " \n ".join([c.title, *c.keywords, c.summary, *c.steps, *c.documents])


def load_intent_examples(
    folder: Path = NLU_DIR, skip: Collection[str] = ()
) -> Dict[str, List[str]]:
    """``{intent: [examples]}`` from the project's NLU files, annotations removed.

    Args:
        folder: Where the NLU files are (searched recursively).
        skip: File names to leave out.
    """
    examples: Dict[str, List[str]] = {}
    for path in sorted(folder.rglob("*.yml")):
        if path.name in skip:
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, OSError):
            continue
        for block in data.get("nlu") or []:
            if not isinstance(block, dict) or "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.setdefault(block["intent"], []).append(_ENTITY.sub(r"\1", line[2:]))
    return examples


def _prepare(text: str) -> str:
    return normalize(text[:1000]).lower()


@dataclass(frozen=True)
class Hit:
    """One search result: the combined score and two of its parts.

    ``specific`` leaves out the intent model's part, which entries of one intent share, so it
    is what tells the variants of an intent apart (words, similarity, entry model);
    ``lexical`` is the words and similarity alone: what the user literally wrote.
    """

    entry: Entry
    score: float
    lang: str
    specific: float = 0.0
    lexical: float = 0.0


class KnowledgeSearch:
    """A hybrid index of every entry in every variety."""

    def __init__(
        self,
        kb: KnowledgeBase,
        intent_model: Optional[IntentModel] = None,
        entry_model: Optional[IntentModel] = None,
    ) -> None:
        """Index ``kb``; the models add the intent and entry signals (see the module docstring)."""
        self.kb = kb
        total = sum(WEIGHTS)
        # Scores stay on a 0-1 scale whatever the weights (thresholds elsewhere rely on it).
        self.weights: Tuple[float, ...] = tuple(w / total for w in WEIGHTS)
        self._entry_model = entry_model
        self._docs: List[Tuple[str, str]] = []
        texts: List[str] = []
        for entry in kb.entries.values():
            for lang in entry.content:
                self._docs.append((entry.id, lang))
                texts.append(_entry_text(entry, lang))
        corpus = [analyse(t) for t in texts]
        heads = [analyse(_entry_head(kb.entries[eid], lang)) for eid, lang in self._docs]
        self._vocab: List[str] = sorted({t for doc in corpus for t in doc})
        self._vocab_set: Set[str] = set(self._vocab)
        self._retriever = bm25s.BM25()
        self._head_retriever = bm25s.BM25()
        if corpus:
            self._retriever.index(corpus, show_progress=False)
            self._head_retriever.index(heads, show_progress=False)
        self._entry_ids = list(kb.entries)
        self._doc_entry = np.array([self._entry_ids.index(eid) for eid, _ in self._docs], dtype=int)
        self._intent_model = intent_model
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=_prepare
        )
        if texts:
            self._doc_matrix = self._vectorizer.fit_transform(texts)

    def _query_terms(self, text: str) -> List[str]:
        terms: List[str] = []
        for term in analyse(text):
            if term in self._vocab_set:
                terms.append(term)
            elif len(term) >= _MIN_FUZZY_LEN and not term.startswith("~"):
                for match, _score, _i in process.extract(
                    term, self._vocab, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=2
                ):
                    terms.append(match)
        return terms

    def components(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """Per entry, the five signals of :data:`WEIGHTS` (rows), and its best variety's index.

        Public so that ``mdm bench kb --tune`` can weigh them without searching again.
        """
        n = len(self._entry_ids)
        terms = self._query_terms(text)

        def bm25_per_entry(retriever: bm25s.BM25) -> np.ndarray:
            per_entry = np.zeros(n)
            if terms:
                doc_scores = np.asarray(retriever.get_scores(terms), dtype=float)
                np.maximum.at(per_entry, self._doc_entry, doc_scores)
                if per_entry.max() > 0:
                    per_entry /= per_entry.max()
            return per_entry

        bm25_head = bm25_per_entry(self._head_retriever)
        bm25 = bm25_per_entry(self._retriever)
        query = self._vectorizer.transform([text])
        doc_sim = (self._doc_matrix @ query.T).toarray().ravel()
        best_doc = np.full(n, -1)
        entry_sim = np.zeros(n)
        for doc, entry_index in enumerate(self._doc_entry):
            if doc_sim[doc] > entry_sim[entry_index] or best_doc[entry_index] < 0:
                entry_sim[entry_index] = max(entry_sim[entry_index], doc_sim[doc])
                best_doc[entry_index] = doc
        intent_prob = np.zeros(n)
        if self._intent_model is not None:
            probs = dict(self._intent_model.rank([text], top=len(self._intent_model.classes))[0])
            intent_prob = np.array(
                [
                    max(probs.get(i, 0.0) for i in self.kb.entries[eid].intents)
                    for eid in self._entry_ids
                ]
            )
        entry_prob = np.zeros(n)
        if self._entry_model is not None:
            probs = dict(self._entry_model.rank([text], top=len(self._entry_model.classes))[0])
            entry_prob = np.array([probs.get(eid, 0.0) for eid in self._entry_ids])
        return np.vstack([bm25_head, bm25, entry_sim, intent_prob, entry_prob]), best_doc

    def _scores(self, text: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per entry: combined score, its specific and lexical parts, best variety index."""
        signals, best_doc = self.components(text)
        weights = np.asarray(self.weights, dtype=float)
        combined = weights @ signals
        # lexical: what the user literally wrote, whatever the weights (pick_variant uses it)
        return combined, combined - weights[3] * signals[3], signals[:3].mean(axis=0), best_doc

    def search(self, text: str, k: int = 3, among: Optional[Iterable[str]] = None) -> List[Hit]:
        """The best entries for ``text``.

        Args:
            text: A free-text question in any variety.
            k: How many entries to return at most.
            among: If given, only these entry ids compete.

        Returns:
            Up to ``k`` hits with a positive score, best first (one per entry).
        """
        if not self._entry_ids or not analyse(text or ""):
            return []
        combined, specific, lexical, best_doc = self._scores(text)
        allowed = set(among) if among is not None else None
        hits: List[Hit] = []
        for index in np.argsort(-combined, kind="stable"):
            entry_id = self._entry_ids[index]
            if combined[index] <= 0:
                break
            if allowed is not None and entry_id not in allowed:
                continue
            lang = self._docs[best_doc[index]][1] if best_doc[index] >= 0 else "fr"
            hits.append(
                Hit(
                    self.kb.entries[entry_id],
                    float(combined[index]),
                    lang,
                    float(specific[index]),
                    float(lexical[index]),
                )
            )
            if len(hits) >= k:
                break
        return hits


def _cached_model(
    name: str, fingerprint: str, build: Callable[[], Tuple[List[str], List[str]]], cache_dir: Path
) -> IntentModel:
    """Fit an :class:`IntentModel` on ``build()``, or load the one cached for ``fingerprint``."""
    cached = cache_dir / f"{name}-{fingerprint}.joblib"
    if cached.exists():
        try:
            return joblib.load(cached)
        except Exception:  # noqa: BLE001 (a stale or truncated cache is rebuilt)
            logger.warning("Unreadable search cache %s; rebuilding it.", cached.name)
    texts, labels = build()
    model = IntentModel().fit(texts, labels)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(cache_dir.glob(f"{name}-*.joblib"), key=lambda p: p.stat().st_mtime)[:-3]:
        old.unlink(missing_ok=True)  # keep a few: branches switch back and forth
    partial = cached.with_suffix(f".{uuid.uuid4().hex}.tmp")
    joblib.dump(model, partial)
    partial.replace(cached)  # atomic: concurrent processes never read half a file
    return model


def intent_model(folder: Path = NLU_DIR, cache_dir: Path = CACHE_DIR) -> IntentModel:
    """The intent model trained on ``folder``'s examples, cached on disk by content hash."""

    def build() -> Tuple[List[str], List[str]]:
        examples = load_intent_examples(folder)
        texts = [t for items in examples.values() for t in items]
        labels = [intent for intent, items in examples.items() for _ in items]
        return texts, labels

    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.yml")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return _cached_model("search-intents", digest.hexdigest()[:16], build, cache_dir)


def entry_examples(kb: KnowledgeBase) -> Dict[str, List[str]]:
    """``{entry_id: [texts]}``: every variety's example questions and title.

    Keywords are left out: entries of one intent share generic ones ("passeport"), and a
    one-word example would teach the model that the bare word means one of them.
    """
    examples: Dict[str, List[str]] = {}
    for entry in kb.entries.values():
        texts = examples.setdefault(entry.id, [])
        for lang in entry.content:
            c = entry.text(lang)
            texts.extend([*c.questions, c.title])
    return examples


def entry_model(kb: KnowledgeBase, cache_dir: Path = CACHE_DIR) -> Optional[IntentModel]:
    """The entry model trained on :func:`entry_examples`, cached on disk by content hash."""
    examples = entry_examples(kb)
    if len(examples) < 2:
        return None  # a classifier needs two classes

    def build() -> Tuple[List[str], List[str]]:
        texts = [t for items in examples.values() for t in items]
        labels = [eid for eid, items in examples.items() for _ in items]
        return texts, labels

    digest = hashlib.sha256(json.dumps(examples, sort_keys=True).encode()).hexdigest()[:16]
    return _cached_model("search-entries", digest, build, cache_dir)


@lru_cache(maxsize=1)
def _default_search(kb_id: int) -> KnowledgeSearch:
    kb = default_kb()
    return KnowledgeSearch(kb, intent_model(), entry_model(kb))


def default_search() -> KnowledgeSearch:
    """Search over :func:`bot.knowledge.store.default_kb`, built once per process."""
    return _default_search(id(default_kb()))


def rank_entries(search: KnowledgeSearch, text: str, entry_ids: Sequence[str]) -> List[Hit]:
    """Rank a few candidate entries for ``text`` (all of them, best first)."""
    return search.search(text, k=len(entry_ids), among=entry_ids)
