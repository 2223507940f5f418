"""The console's interface texts (``i18n.yml``), in French and Arabic."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Dict

import yaml

I18N_FILE = Path(__file__).with_name("i18n.yml")
#: Interface languages; Arabic pages are right to left.
UI_LANGUAGES = ("fr", "ar")


@functools.lru_cache(maxsize=1)
def texts() -> Dict[str, Dict[str, str]]:
    """``{language: {key: text}}`` from ``i18n.yml``."""
    return yaml.safe_load(I18N_FILE.read_text(encoding="utf-8"))


def translator(lang: str) -> Callable[[str], str]:
    """A ``t(key)`` function for one language (French, then the key, as fallbacks)."""
    table = texts().get(lang) or texts()["fr"]
    french = texts()["fr"]

    def t(key: str) -> str:
        return table.get(key) or french.get(key) or key

    return t
