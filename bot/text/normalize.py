"""Text normalisation shared by language identification and knowledge-base search.

Users of the assistant write French, English, Modern Standard Arabic, Moroccan
Darija in Arabic letters and Darija in Latin letters with digits (Arabizi).  The
same word reaches us in many spellings (``أريد``/``اريد``, ``été``/``ete``,
``٣``/``3``), so both the language identifier and the search index compare
texts after the folding implemented here.

Everything in this module is pure, dependency free and cheap: no work happens at
import time beyond compiling a few regular expressions and translation tables.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

__all__ = [
    "clean",
    "normalize_arabic",
    "fold_latin",
    "normalize",
    "tokens",
    "arabizi_variants",
    "arabizi_skeleton",
]

# Tashkeel (U+064B-U+0652), the other Arabic combining marks (U+0653-U+065F:
# maddah/hamza above and below written as separate marks), superscript alef
# (U+0670) and the Quranic annotation marks (U+06D6-U+06ED).  None of them
# changes which word is meant, and users rarely type them.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
_TATWEEL = "\u0640"

_ARABIC_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        # Persian/Urdu keyboards are common in the diaspora: their yeh and
        # keheh are the same letters for our purposes.
        "ی": "ي",
        "ک": "ك",
        _TATWEEL: None,
    }
)

# Arabic-Indic (U+0660-U+0669) and Extended Arabic-Indic (U+06F0-U+06F9) digits.
_DIGIT_MAP = str.maketrans(
    {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
)

_ARABIC_MAP = {**_ARABIC_LETTER_MAP, **_DIGIT_MAP}

# Latin ligatures that NFKD does not decompose.
_LATIN_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ı": "i"})

# Typographic quotes and dashes folded to ASCII so "l’paspor" == "l'paspor".
_PUNCT_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)

_WHITESPACE = re.compile(r"\s+")
# Latin letters that may carry accents (Latin-1 Supplement, Extended-A/B,
# Extended Additional); other scripts are never decomposed.
_ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")
# Word tokens: runs of letters or digits (any script), no underscore.
_TOKEN = re.compile(r"[^\W_]+")

# Arabizi digits and the Arabic letters they stand for, in Latin transliteration.
_ARABIZI_DIGITS: dict[str, tuple[str, ...]] = {
    "2": ("a", ""),
    "3": ("a", ""),
    "5": ("kh",),
    "6": ("t",),
    "7": ("h",),
    "8": ("gh",),
    "9": ("q", "k"),
}
_MAX_VARIANTS = 32


def normalize_arabic(text: str) -> str:
    """Fold the spelling variation of Arabic-script text.

    Removes diacritics and tatweel, unifies alef variants to bare alef, maps
    alef maqsura to yeh, teh marbuta to heh, hamza carriers to their base
    letter, Persian yeh/keheh to Arabic yeh/kaf and Arabic-Indic digits to ASCII
    digits. Characters of other scripts are left untouched.

    Args:
        text: Any text.

    Returns:
        The text with its Arabic letters folded.

    Example:
        >>> normalize_arabic("إِسْتِمَارَة ١٢")
        'استماره 12'

    """
    if not text or text.isascii():
        return text or ""
    text = _ARABIC_MARKS.sub("", text)
    return text.translate(_ARABIC_MAP)


def fold_latin(text: str) -> str:
    """Lower-case Latin text and strip its accents, keeping digits.

    Digits are kept on purpose: in Arabizi they are letters (``3afak``,
    ``7ta``, ``9ra``). Only characters of the Latin blocks are decomposed, so
    Arabic letters are never split into base letter plus hamza here.

    Args:
        text: Any text.

    Returns:
        The lower-cased text without accents on Latin letters.

    Example:
        >>> fold_latin("Ça a été Réglé, 3AFAK")
        'ca a ete regle, 3afak'

    """
    if not text:
        return ""
    text = text.lower()
    if text.isascii():
        return text
    return _ACCENTED.sub(_strip_accents, text.translate(_LATIN_LIGATURES))


def _strip_accents(match: re.Match[str]) -> str:
    """Decompose one accented Latin letter and drop its combining marks."""
    return "".join(
        p for p in unicodedata.normalize("NFKD", match.group()) if not unicodedata.combining(p)
    )


# Control characters become spaces; format characters (zero-width, bidi
# marks, BOM), lone surrogates, private-use code points and the decoding
# replacement character carry no language signal and are dropped. A regex
# is much faster than checking unicodedata.category() per character.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufffd\ud800-\udfff\ue000-\uf8ff]"
    "|[\U000f0000-\U0010ffff]|[\U000e0000-\U000e007f]"
)


def _drop_controls(text: str) -> str:
    """Replace control characters by spaces and drop invisible format characters."""
    return _INVISIBLE.sub("", _CONTROLS.sub(" ", text))


def _to_str(text: str | bytes | None) -> str:
    """Coerce input to ``str``: bytes decoded leniently, None as empty."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    return text if isinstance(text, str) else str(text)


def clean(text: str | bytes | None) -> str:
    """Make text safe to process without changing its spelling.

    Applies Unicode NFKC, replaces control characters by spaces, drops
    invisible format characters and collapses whitespace. Case, accents and
    Arabic letters are kept, which detectors that rely on them need.

    Args:
        text: The raw message (``bytes`` decoded as UTF-8, ``None`` as empty).

    Returns:
        The cleaned text.

    Example:
        >>> clean("  Été   à Paris ")
        'Été à Paris'

    """
    text = _to_str(text)
    if not text:
        return ""
    text = _drop_controls(unicodedata.normalize("NFKC", text))
    return _WHITESPACE.sub(" ", text).strip()


def normalize(text: str | bytes | None) -> str:
    r"""Fully normalise a user message for comparison and identification.

    Applies Unicode NFKC (folds full-width letters and Arabic presentation
    forms), removes control/format characters, folds Arabic spelling variants
    (:func:`normalize_arabic`), lower-cases and strips accents from Latin
    letters (:func:`fold_latin`), folds typographic quotes and dashes, and
    collapses whitespace. Safe on empty, emoji-only or binary-like input; it
    never raises for ``str``/``bytes``/``None``.

    Args:
        text: The raw message. ``bytes`` are decoded as UTF-8 with replacement,
            ``None`` is treated as empty.

    Returns:
        The normalised text, stripped, with single spaces.

    Example:
        >>> normalize("  Bghit   njded\tLPASPOR ديالي   ")
        'bghit njded lpaspor ديالي'

    """
    text = _to_str(text)
    if not text:
        return ""
    text = _drop_controls(unicodedata.normalize("NFKC", text))
    text = normalize_arabic(text)
    text = fold_latin(text)
    if not text.isascii():
        text = text.translate(_PUNCT_MAP)
    return _WHITESPACE.sub(" ", text).strip()


def tokens(text: str | bytes | None) -> list[str]:
    """Split a message into normalised word tokens.

    Tokens are maximal runs of letters and digits (Arabic or Latin or any other
    script) of the normalised text; punctuation, emoji and symbols separate
    tokens and are dropped.

    Args:
        text: The raw message.

    Returns:
        The list of tokens, in order, possibly empty.

    Example:
        >>> tokens("Wach kayn chi rendez-vous f l'consulat ?")
        ['wach', 'kayn', 'chi', 'rendez', 'vous', 'f', 'l', 'consulat']

    """
    return _TOKEN.findall(normalize(text))


def arabizi_skeleton(token: str) -> str:
    """Reduce an Arabizi or French-like token to a spelling-independent key.

    Digits are mapped to their most common letter, ``sh``/``ch`` and ``ou``/``u``
    are unified, vowels other than a leading one are removed and doubled
    letters collapsed, so ``bezzaf``, ``bzaf`` and ``bzzaf`` share a key.

    Args:
        token: One normalised Latin token.

    Returns:
        The skeleton key (may be empty for an empty token).

    Example:
        >>> arabizi_skeleton("bezzaf") == arabizi_skeleton("bzaf")
        True

    """
    t = fold_latin(token)
    for digit, letters in _ARABIZI_DIGITS.items():
        t = t.replace(digit, letters[0])
    t = t.replace("sh", "ch").replace("ou", "u").replace("kh", "x").replace("gh", "g")
    if not t:
        return ""
    head, rest = t[0], re.sub(r"[aeiouy]", "", t[1:])
    t = head + rest
    return re.sub(r"(.)\1+", r"\1", t)


def arabizi_variants(token: str) -> set[str]:
    """Spell an Arabizi token in the plain-letter ways people also write it.

    Each Arabizi digit is replaced by the letters it usually stands for
    (``3`` -> ``a`` or nothing, ``7`` -> ``h``, ``9`` -> ``q``/``k``, ``2`` ->
    ``a`` or nothing, ``5`` -> ``kh``, ``8`` -> ``gh``, ``6`` -> ``t``), which
    lets fuzzy search match ``3afak`` with ``afak`` or ``9ra`` with ``qra``.
    The result always contains the folded token itself and is capped to a
    few dozen variants.

    Args:
        token: One token (normalised or not).

    Returns:
        The set of spellings, including the token itself.

    Example:
        >>> sorted(arabizi_variants("3afak"))
        ['3afak', 'aafak', 'afak']

    """
    base = fold_latin(token)
    variants: list[str] = [""]
    for ch in base:
        options = _ARABIZI_DIGITS.get(ch, (ch,))
        variants = [v + o for v in variants for o in options][:_MAX_VARIANTS]
    result = {base}
    result.update(v for v in variants if v)
    return result


def iter_normalized(texts: Iterable[str]) -> Iterable[str]:
    """Normalise many texts lazily.

    Args:
        texts: Raw messages.

    Yields:
        Each message normalised with :func:`normalize`.

    """
    for text in texts:
        yield normalize(text)
