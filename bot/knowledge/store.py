"""Loading the knowledge base from its folder of YAML files."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import yaml
from pydantic import ValidationError

from bot.knowledge.schema import Entry
from bot.settings import get_settings

logger = logging.getLogger(__name__)

#: Entries older than this are flagged for review.
REVIEW_AFTER_DAYS = 365


@dataclass(frozen=True)
class LoadError:
    """Why one file could not be loaded; the other files still are."""

    path: Path
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path.name}: entry '{self.entry}': {self.field}: {self.message}"


@dataclass
class KnowledgeBase:
    """The valid entries of a folder, with the errors of the invalid ones."""

    entries: Dict[str, Entry] = field(default_factory=dict)
    errors: List[LoadError] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> "KnowledgeBase":
        """Load every ``*.yml`` under ``folder``; broken files are reported, not fatal.

        Args:
            folder: The knowledge folder.

        Returns:
            The knowledge base; check ``errors`` for files that were skipped.
        """
        kb = cls()
        for path in sorted(Path(folder).glob("*.yml")):
            kb._load_file(path)
        if not kb.entries and not kb.errors:
            kb.errors.append(LoadError(Path(folder), "-", "folder", "no *.yml entries found"))
        return kb

    def _load_file(self, path: Path) -> None:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            self.errors.append(LoadError(path, path.stem, "file", f"not valid YAML: {exc}"))
            return
        if not isinstance(raw, dict):
            self.errors.append(LoadError(path, path.stem, "file", "must be a YAML mapping"))
            return
        entry_id = str(raw.get("id", path.stem))
        try:
            entry = Entry.parse_obj(raw)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                self.errors.append(LoadError(path, entry_id, where, err["msg"]))
            return
        if entry.id != path.stem:
            self.errors.append(
                LoadError(path, entry.id, "id", f"must equal the file name '{path.stem}'")
            )
            return
        if entry.id in self.entries:
            self.errors.append(LoadError(path, entry.id, "id", "duplicate id"))
            return
        self.entries[entry.id] = entry

    def get(self, entry_id: str) -> Optional[Entry]:
        """The entry with this id, if any."""
        return self.entries.get(entry_id)

    def for_intent(self, intent: str) -> List[Entry]:
        """Entries that answer ``intent``, in file order."""
        return [e for e in self.entries.values() if intent in e.intents]

    def for_intent_variant(self, intent: str, variant: Optional[str]) -> Optional[Entry]:
        """The entry of ``intent`` whose variant is ``variant``."""
        for entry in self.for_intent(intent):
            if variant is not None and entry.variant == variant:
                return entry
        return None

    def stale(self, today: Optional[dt.date] = None) -> List[Entry]:
        """Entries not reviewed for more than :data:`REVIEW_AFTER_DAYS` days."""
        today = today or dt.date.today()
        return [
            e for e in self.entries.values() if (today - e.last_reviewed).days > REVIEW_AFTER_DAYS
        ]


@lru_cache(maxsize=4)
def _load_cached(folder: str) -> KnowledgeBase:
    kb = KnowledgeBase.load(Path(folder))
    for error in kb.errors:
        logger.error("Knowledge base entry skipped: %s", error)
    return kb


def default_kb() -> KnowledgeBase:
    """The knowledge base of the configured folder, loaded once per process."""
    return _load_cached(str(get_settings().knowledge_dir))
