"""Rule-based entity extraction: places, follow-up details and ticket references.

Places and details come from small editable gazetteers (``bot/nlu/gazetteer/*.yml``) matched
with spaCy's ``PhraseMatcher`` on normalised token forms, so "Bruxelles", "bruxelles",
"بروكسيل" and "فبروكسيل" (with a glued preposition) all give ``city = Brussels``. A learned
extractor would need thousands of annotated examples per variety to do as well on rare names.
Ticket references are matched by a pattern and returned in canonical form (``MDM-XXXX-XXXX``);
whether they are valid is for the ticket service to say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

import yaml

from bot.text.normalize import normalize

GAZETTEER_DIR = Path(__file__).resolve().parent / "gazetteer"

# "MDM-7K3P-Q9XZ", "mdm7k3pq9xz", "MDM 7K3P Q9XZ", "mdm_7k3p_q9xz"
TICKET_REF_PATTERN = re.compile(
    r"(?<![0-9a-z])mdm[\s\-_.]*([0-9a-z]{4})[\s\-_.]*([0-9a-z]{4})(?![0-9a-z])", re.IGNORECASE
)
# One-letter prepositions/conjunctions glued to Arabic words (f-, b-, l-, w-, k-) and "al-".
_ARABIC_CLITICS = ("وب", "ول", "وف", "فال", "بال", "لل", "وال", "ال", "ف", "ب", "ل", "و", "ك")
_LATIN_CLITICS = ("l", "f", "b")


@dataclass(frozen=True)
class Span:
    """An entity found in a text."""

    entity: str
    value: str
    start: int
    end: int
    text: str

    def as_rasa(self) -> Dict[str, Any]:
        """The dict shape Rasa uses for entities."""
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "confidence_entity": 1.0,
        }


def find_ticket_refs(text: str) -> List[Span]:
    """Ticket references in ``text``, upper-cased with dashes (``MDM-7K3P-Q9XZ``)."""
    return [
        Span(
            "ticket_ref",
            f"MDM-{m.group(1).upper()}-{m.group(2).upper()}",
            m.start(),
            m.end(),
            m.group(0),
        )
        for m in TICKET_REF_PATTERN.finditer(text)
    ]


def _norm(word: str) -> str:
    return normalize(word).lower()


class Gazetteer:
    """Phrase lists of several entity types, matched on normalised tokens with spaCy."""

    def __init__(self, entries: Dict[str, Dict[str, List[str]]]) -> None:
        """Build the matcher.

        Args:
            entries: ``{entity: {value: [surface forms]}}``.
        """
        import spacy  # noqa: PLC0415 (heavy import, only when a gazetteer is built)
        from spacy.matcher import PhraseMatcher  # noqa: PLC0415

        self._nlp = spacy.blank("xx")
        self._matcher = PhraseMatcher(self._nlp.vocab, attr="NORM")
        self._labels: Dict[str, Tuple[str, str]] = {}
        self._single_words: set[str] = set()
        for entity, values in entries.items():
            for value, forms in values.items():
                key = f"{entity}::{value}"
                self._labels[key] = (entity, value)
                patterns = []
                # Place values are names too ("Brussels"); language values are codes ("en").
                names = {value} if entity in ("city", "country") else set()
                for form in {str(f) for f in forms} | names:
                    doc = self._nlp.make_doc(form)
                    for token in doc:
                        token.norm_ = _norm(token.text)
                        self._single_words.add(token.norm_)
                    patterns.append(doc)
                self._matcher.add(key, patterns)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> "Gazetteer":
        """Load and merge gazetteer YAML files."""
        merged: Dict[str, Dict[str, List[str]]] = {}
        for path in paths:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            for entity, values in data.items():
                merged.setdefault(entity, {}).update(values or {})
        return cls(merged)

    def _token_norm(self, text: str) -> str:
        norm = _norm(text)
        if norm in self._single_words:
            return norm
        # Strip one glued clitic (فليون -> ليون, lfransa -> fransa) only if that makes a known word.
        clitics = (
            _ARABIC_CLITICS if any("\u0600" <= ch <= "\u06ff" for ch in norm) else _LATIN_CLITICS
        )
        for clitic in clitics:
            rest = norm[len(clitic) :]
            if norm.startswith(clitic) and len(rest) >= 3 and rest in self._single_words:
                return rest
        return norm

    def find(self, text: str) -> List[Span]:
        """Non-overlapping matches in ``text``, longest first."""
        doc = self._nlp.make_doc(text)
        for token in doc:
            token.norm_ = self._token_norm(token.text)
        matches = sorted(self._matcher(doc), key=lambda m: (-(m[2] - m[1]), m[1]))
        taken: set[int] = set()
        spans: List[Span] = []
        for match_id, start, end in matches:
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            entity, value = self._labels[self._nlp.vocab.strings[match_id]]
            span = doc[start:end]
            spans.append(Span(entity, value, span.start_char, span.end_char, span.text))
        return sorted(spans, key=lambda s: s.start)


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The project's gazetteer (built once per process, on first use)."""
    return Gazetteer.from_files(sorted(GAZETTEER_DIR.glob("*.yml")))


def extract_entities(text: str) -> List[Span]:
    """Every entity the rules find in ``text``: ticket references, places, details."""
    refs = find_ticket_refs(text)
    ref_chars = {i for r in refs for i in range(r.start, r.end)}
    others = [
        s
        for s in default_gazetteer().find(text)
        if not ref_chars.intersection(range(s.start, s.end))
    ]
    return sorted(refs + others, key=lambda s: s.start)
