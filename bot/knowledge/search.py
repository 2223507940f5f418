"""Free-text search over the knowledge base, in any of the five varieties.

BM25 (the ``bm25s`` library: small, maintained, fast sparse scoring) over normalised tokens
of every entry in every variety, so a question finds its entry whatever script it is in.
Typos and spelling variants are absorbed before scoring: each query word that is not in the
index vocabulary is mapped to its closest vocabulary words with ``rapidfuzz``; Arabic words
also index without a glued article or preposition (``بالقنصلية`` -> ``قنصليه``) and Arabizi
words also index by their spelling-independent skeleton.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.schema import Entry
from bot.knowledge.store import KnowledgeBase, default_kb
from bot.text.normalize import arabizi_skeleton, tokens

_ARABIC_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")
#: Words this short carry little meaning and make fuzzy matching noisy.
_MIN_FUZZY_LEN = 4
_FUZZY_CUTOFF = 84


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
    elif any(ch.isalpha() for ch in token):
        skeleton = arabizi_skeleton(token)
        if skeleton and skeleton != token:
            terms.append("~" + skeleton)
    return terms


def analyse(text: str) -> List[str]:
    """Normalised index terms of a text."""
    return [term for tok in tokens(text) for term in expand(tok)]


def _entry_text(entry: Entry, lang: str) -> str:
    c = entry.text(lang)
    # Title and keywords are what people type; repeat them to weigh them more.
    parts = [c.title, c.title, " ".join(c.keywords), " ".join(c.keywords), c.summary]
    parts += c.steps + c.documents
    return " \n ".join(parts)


@dataclass(frozen=True)
class Hit:
    """One search result."""

    entry: Entry
    score: float
    lang: str


class KnowledgeSearch:
    """A BM25 index of every entry in every variety."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """Index ``kb``."""
        self.kb = kb
        self._docs: List[Tuple[str, str]] = []
        corpus: List[List[str]] = []
        for entry in kb.entries.values():
            for lang in entry.content:
                self._docs.append((entry.id, lang))
                corpus.append(analyse(_entry_text(entry, lang)))
        self._vocab: List[str] = sorted({t for doc in corpus for t in doc})
        self._vocab_set: Set[str] = set(self._vocab)
        self._retriever = bm25s.BM25()
        if corpus:
            self._retriever.index(corpus, show_progress=False)

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

    def search(self, text: str, k: int = 3, among: Optional[Iterable[str]] = None) -> List[Hit]:
        """The best entries for ``text``.

        Args:
            text: A free-text question in any variety.
            k: How many entries to return at most.
            among: If given, only these entry ids compete.

        Returns:
            Up to ``k`` hits with a positive score, best first (one per entry).
        """
        terms = self._query_terms(text or "")
        if not terms or not self._docs:
            return []
        scores = self._retriever.get_scores(terms)
        allowed = set(among) if among is not None else None
        best: Dict[str, Tuple[float, str]] = {}
        for index in np.argsort(scores)[::-1]:
            score = float(scores[index])
            if score <= 0:
                break
            entry_id, lang = self._docs[index]
            if allowed is not None and entry_id not in allowed:
                continue
            if entry_id not in best:
                best[entry_id] = (score, lang)
                if len(best) >= k:
                    break
        return [Hit(self.kb.entries[eid], score, lang) for eid, (score, lang) in best.items()]


@lru_cache(maxsize=1)
def _default_search(kb_id: int) -> KnowledgeSearch:
    return KnowledgeSearch(default_kb())


def default_search() -> KnowledgeSearch:
    """Search over :func:`bot.knowledge.store.default_kb`, built once per process."""
    return _default_search(id(default_kb()))


def rank_entries(search: KnowledgeSearch, text: str, entry_ids: Sequence[str]) -> List[Hit]:
    """Rank a few candidate entries for ``text`` (all of them, best first)."""
    return search.search(text, k=len(entry_ids), among=entry_ids)
