"""Training text for the language identifier: only text the project owns.

Two sources:

* the seed corpora in ``bot/language/seeds/<code>.txt``, short everyday
  sentences written for this project (``#`` starts a comment line);
* the project's Rasa NLU training data, ``data/nlu/<variety>/*.yml``: the
  ``- text`` lines of every ``examples: |`` block of an intent, with
  ``[value](entity)`` annotations reduced to ``value``.

NLU files are written by several people while the project grows, so this
loader is defensive: unreadable files are skipped, and examples that plainly
belong to another variety than their folder (an Arabizi greeting in the French
file, say) are filtered out so they do not teach the model the wrong label.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable

from bot.text.normalize import normalize

logger = logging.getLogger(__name__)

#: Varieties with NLU folders, and the seed files (one more: ``other``).
NLU_VARIETIES = ("fr", "ar", "ary", "ary_Latn", "en")
SEED_CODES = NLU_VARIETIES + ("other",)

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
#: ``<repo>/bot/language/corpus.py`` -> ``<repo>``.
REPO_ROOT = Path(__file__).resolve().parents[2]

# [value](entity), [value]{"entity": ...}, and the rarer [value](entity:syn).
_ENTITY = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\{[^}\n]*\})")
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN_LETTER = re.compile(r"[a-z]")
_WORD = re.compile(r"[^\W_]+")

# Cap on NLU examples per variety, so a large NLU file does not drown the
# seeds, which are the only general-purpose (non consular) text we have, and
# the build stays fast as the NLU data grows (800 measured as good as 1500).
MAX_NLU_PER_VARIETY = 800


def read_seed_file(path: Path) -> list[str]:
    """Read one seed file.

    Args:
        path: A ``seeds/<code>.txt`` file.

    Returns:
        Its non-empty, non-comment lines, stripped.

    """
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def load_seeds(seeds_dir: Path = SEEDS_DIR) -> dict[str, list[str]]:
    """Load all seed corpora.

    Args:
        seeds_dir: Folder holding ``<code>.txt`` files.

    Returns:
        Map from code (``fr``, ``ar``, ``ary``, ``ary_Latn``, ``en``,
        ``other``) to its sentences; missing files give empty lists.

    """
    out: dict[str, list[str]] = {}
    for code in SEED_CODES:
        path = seeds_dir / f"{code}.txt"
        out[code] = read_seed_file(path) if path.is_file() else []
    return out


def strip_entities(text: str) -> str:
    """Reduce Rasa entity annotations to their surface text.

    Args:
        text: An NLU example such as ``"renouveler mon [passeport](document)"``.

    Returns:
        The example as a user would type it: ``"renouveler mon passeport"``.

    """
    return _ENTITY.sub(r"\1", text)


def _examples_from_block(block: object) -> Iterable[str]:
    """Yield example texts from a Rasa ``examples`` value (string or list)."""
    if isinstance(block, str):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield strip_entities(line[2:].strip())
    elif isinstance(block, list):  # the rarer "examples with metadata" form
        for item in block:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                yield strip_entities(item["text"].strip())


def read_nlu_file(path: Path) -> list[str]:
    """Extract the intent examples of one Rasa NLU YAML file.

    Lookup tables, synonyms and regexes are skipped: they list entity values,
    not sentences. A file that cannot be parsed yields nothing (it is being
    edited by someone else) rather than breaking identification.

    Args:
        path: A ``*.yml`` file.

    Returns:
        The example texts, entity annotations stripped.

    """
    import yaml  # local import: PyYAML is only needed when training

    # The C loader is ~20x faster; pure-Python PyYAML installs lack it.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader
    except Exception as exc:  # noqa: BLE001 - any parse error means "skip"
        logger.warning("Skipping unreadable NLU file %s: %s", path, exc)
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("nlu"), list):
        return []
    texts: list[str] = []
    for item in doc["nlu"]:
        if isinstance(item, dict) and "intent" in item and "examples" in item:
            texts.extend(t for t in _examples_from_block(item["examples"]) if t)
    return texts


def _plausible_for(code: str, text: str) -> bool:
    """Tell whether an NLU example looks like its folder's variety.

    The check is deliberately cheap and conservative: script first, then for
    French/English files the absence of Arabizi markers.
    """
    from bot.language.lexicon import latin_lexicon, latin_pattern_evidence

    norm = normalize(text)
    toks = _WORD.findall(norm)
    if len(toks) < 2:
        return False  # greetings like "salam", "ok": no variety signal
    n_ar = len(_ARABIC_LETTER.findall(norm))
    n_lat = len(_LATIN_LETTER.findall(norm))
    if code in ("ar", "ary"):
        return n_ar > n_lat
    if n_ar >= n_lat:
        return False
    lex = latin_lexicon()
    darija = sum(lex.get(t, 0.0) + latin_pattern_evidence(t) for t in toks)
    if code in ("fr", "en"):
        return darija < 2.0
    return darija >= 1.0  # ary_Latn: must carry at least some Darija marker


def load_nlu(repo_root: Path = REPO_ROOT) -> dict[str, list[str]]:
    """Load the project's NLU examples per variety, filtered and capped.

    Args:
        repo_root: Repository root holding ``data/nlu/<variety>/``.

    Returns:
        Map from variety code to example texts (possibly empty lists).

    """
    out: dict[str, list[str]] = {code: [] for code in NLU_VARIETIES}
    keys: dict[str, str] = {}  # text -> normalised text, computed once
    nlu_root = repo_root / "data" / "nlu"
    for code in NLU_VARIETIES:
        folder = nlu_root / code
        if not folder.is_dir():
            continue
        seen: set[str] = set()
        for path in sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml")):
            for text in read_nlu_file(path):
                key = keys.setdefault(text, normalize(text))
                if key and key not in seen and _plausible_for(code, text):
                    seen.add(key)
                    out[code].append(text)
    # An example found under two varieties ("ok merci") teaches nothing.
    owners: dict[str, set[str]] = {}
    for code, texts in out.items():
        for text in texts:
            owners.setdefault(keys[text], set()).add(code)
    for code in out:
        kept = [t for t in out[code] if len(owners[keys[t]]) == 1]
        # Deterministic thinning keeps the spread of intents when capping.
        if len(kept) > MAX_NLU_PER_VARIETY:
            step = len(kept) / MAX_NLU_PER_VARIETY
            kept = [kept[int(i * step)] for i in range(MAX_NLU_PER_VARIETY)]
        out[code] = kept
    return out


def training_files(repo_root: Path = REPO_ROOT, seeds_dir: Path = SEEDS_DIR) -> list[Path]:
    """List the files training text is read from (for cache keys).

    Args:
        repo_root: Repository root (for ``data/nlu``).
        seeds_dir: Seed folder.

    Returns:
        Seed files and NLU files, sorted.

    """
    files = sorted(seeds_dir.glob("*.txt"))
    nlu_root = repo_root / "data" / "nlu"
    for code in NLU_VARIETIES:
        folder = nlu_root / code
        if folder.is_dir():
            files.extend(sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml")))
    return files


def load_training_texts(
    repo_root: Path = REPO_ROOT, seeds_dir: Path = SEEDS_DIR
) -> dict[str, list[str]]:
    """Load seeds plus NLU examples, per code.

    Args:
        repo_root: Repository root (for ``data/nlu``).
        seeds_dir: Seed folder.

    Returns:
        Map from code (the five varieties and ``other``) to training texts.

    """
    data = load_seeds(seeds_dir)
    for code, texts in load_nlu(repo_root).items():
        data.setdefault(code, []).extend(texts)
    return data
