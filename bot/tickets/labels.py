"""Names of ticket values in the five varieties, and typed answers to button questions.

The sentences the assistant says about tickets are domain responses (``domain.yml``); they
show values such as a category or a status, whose names in each variety live in
``labels.yml`` next to this module. The same file lists the words users type instead of
pressing a button ("par e-mail", "القنصلية", "f tilifoun"), for :func:`match_option`.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from bot.settings import DEFAULT_LANGUAGE, LANGUAGES
from bot.text.normalize import normalize

LABELS_FILE = Path(__file__).resolve().parent / "labels.yml"

_NON_WORD = re.compile(r"[^\w]+")


def _fold(text: str) -> str:
    """Lower-cased, normalised words separated by single spaces, padded with spaces."""
    return f" {' '.join(_NON_WORD.sub(' ', normalize(text).lower()).split())} "


@lru_cache(maxsize=1)
def _data() -> Tuple[Dict[str, Dict[str, str]], Dict[str, Tuple[str, ...]]]:
    raw = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))
    labels = {
        lang: {str(k): str(v) for k, v in values.items()} for lang, values in raw["labels"].items()
    }
    keywords = {
        str(option): tuple(sorted({_fold(str(word)) for word in words}, key=len, reverse=True))
        for option, words in raw["keywords"].items()
    }
    return labels, keywords


def labels() -> Dict[str, Dict[str, str]]:
    """Every label: ``{lang: {key: text}}``."""
    return _data()[0]


def label(lang: str, key: str) -> str:
    """The name of a value in ``lang`` (French for an unknown variety).

    Args:
        lang: One of :data:`bot.settings.LANGUAGES`.
        key: ``category.<code>``, ``status.<code>``, ``contact_kind.<code>``, ``kind.<code>``,
            ``field.<name>`` or ``empty``.

    Returns:
        The label; the key itself when it is unknown (never raises in a conversation).
    """
    table = labels()
    values = table.get(lang if lang in LANGUAGES else DEFAULT_LANGUAGE, table[DEFAULT_LANGUAGE])
    return values.get(key, table[DEFAULT_LANGUAGE].get(key, key))


def keywords(option: str) -> Tuple[str, ...]:
    """The folded keywords of an option (empty for an unknown option)."""
    return _data()[1].get(option, ())


def matching_options(text: Optional[str], choices: Iterable[str]) -> List[str]:
    """The options among ``choices`` whose keywords occur in ``text`` as whole words.

    Args:
        text: What the user typed.
        choices: Option codes allowed at this step (``consular``, ``email``...).

    Returns:
        The matching options, in the order of ``choices``.
    """
    if not text or not text.strip():
        return []
    folded = _fold(text[:500])
    return [c for c in choices if any(k.strip() and k in folded for k in keywords(c))]


def match_option(text: Optional[str], choices: Iterable[str]) -> Optional[str]:
    """The one option the user typed, or None when none or several match.

    Args:
        text: What the user typed.
        choices: Option codes allowed at this step.

    Returns:
        The option code, or None.
    """
    found = matching_options(text, choices)
    return found[0] if len(found) == 1 else None


def format_date(value: Optional[dt.datetime]) -> str:
    """A date as ``dd/mm/yyyy`` (UTC), the same in every variety; ``—`` for None."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%d/%m/%Y")


__all__ = ["format_date", "keywords", "label", "labels", "match_option", "matching_options"]
