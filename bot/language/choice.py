"""Which variety the conversation continues in, given what the user just wrote.

Kept apart from Rasa so the rule is testable on its own: an explicit request wins; a confident
verdict on the message switches; a short or ambiguous message keeps the conversation's
language; the channel's hint (Telegram ``language_code``, the widget's chosen language) only
decides when nothing else does; an unsupported language gets French.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from bot.settings import DEFAULT_LANGUAGE, LANGUAGES

#: Below this confidence a verdict is not strong enough to switch language.
SWITCH_CONFIDENCE = 0.6

_HINT_ALIASES = {
    "fr": "fr",
    "ar": "ar",
    "ary": "ary",
    "ary_latn": "ary_Latn",
    "ary-latn": "ary_Latn",
    "en": "en",
}


def hint_from_metadata(metadata: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The variety a channel suggests (``language`` or ``language_code`` in metadata).

    ``"fr-FR"`` gives ``fr``; ``"ar-MA"`` and ``"ar"`` give ``ar`` (Telegram cannot tell
    Darija from MSA, so the message itself decides that); unknown codes give ``None``.
    """
    if not metadata:
        return None
    for key in ("language", "language_code"):
        raw = metadata.get(key)
        if isinstance(raw, str) and raw:
            code = raw.strip().lower().replace("_", "-")
            if code in _HINT_ALIASES:
                return _HINT_ALIASES[code]
            base = code.split("-")[0]
            if base in _HINT_ALIASES:
                return _HINT_ALIASES[base]
    return None


def choose_language(
    current: Optional[str],
    verdict: Optional[Mapping[str, Any]],
    *,
    hint: Optional[str] = None,
    requested: Optional[str] = None,
) -> str:
    """Decide the conversation language after one user message.

    Args:
        current: The ``language`` slot before this message (None at the start).
        verdict: The identifier's verdict from the parse data (``code``, ``confidence``,
            ``ambiguous``), or None.
        hint: The channel's suggestion (see :func:`hint_from_metadata`).
        requested: A variety the user explicitly asked for (``change_language``).

    Returns:
        One of :data:`bot.settings.LANGUAGES`.
    """
    if requested in LANGUAGES:
        return str(requested)
    code = verdict.get("code") if verdict else None
    confident = bool(
        verdict
        and not verdict.get("ambiguous")
        and code in LANGUAGES
        and float(verdict.get("confidence") or 0.0) >= SWITCH_CONFIDENCE
    )
    if confident:
        return str(code)
    if current in LANGUAGES:
        return str(current)
    # First message with little signal: the channel's hint, then the weak verdict.
    if hint in LANGUAGES:
        return str(hint)
    if code in LANGUAGES:
        return str(code)
    return DEFAULT_LANGUAGE
