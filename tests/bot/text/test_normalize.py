"""Tests of bot.text.normalize: Arabic folding, Latin folding, tokens, robustness."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # also runnable as plain `pytest` from elsewhere
    sys.path.insert(0, str(ROOT))

from bot.text.normalize import (  # noqa: E402
    arabizi_skeleton,
    arabizi_variants,
    clean,
    fold_latin,
    normalize,
    normalize_arabic,
    tokens,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مَرْحَبًا", "مرحبا"),  # tashkeel
        ("شُكْرًا", "شكرا"),
        ("رحمٰن", "رحمن"),  # superscript alef U+0670
        ("جميـــــل", "جميل"),  # tatweel
        ("أحمد إبراهيم آمنة ٱلله", "احمد ابراهيم امنه الله"),  # alef variants, teh marbuta
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("مؤسسة", "موسسه"),  # waw hamza
        ("مسائل", "مسايل"),  # yeh hamza
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),  # Arabic-Indic digits
        ("۰۱۲۳", "0123"),  # Extended (Persian) digits
        ("پاسپورت hello", "پاسپورت hello"),  # other letters/scripts untouched
        ("", ""),
    ],
)
def test_normalize_arabic(raw: str, expected: str) -> None:
    assert normalize_arabic(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Été", "ete"),
        ("Ça va? Très bien", "ca va? tres bien"),
        ("cœur Œuvre", "coeur oeuvre"),
        ("3AFAK 7ta 9RIT", "3afak 7ta 9rit"),  # Arabizi digits kept
        ("Ñandú Ü", "nandu u"),
        ("ديالي", "ديالي"),  # Arabic untouched (no hamza split)
        ("أنا", "أنا"),
        ("", ""),
    ],
)
def test_fold_latin(raw: str, expected: str) -> None:
    assert fold_latin(raw) == expected


def test_normalize_combines_everything() -> None:
    assert normalize("  Bghit\tnjded \n LPASPOR   ديالي ") == "bghit njded lpaspor ديالي"
    assert normalize("إِسْتِمَارَة Réglée ١٢") == "استماره reglee 12"
    assert normalize("l’paspor") == "l'paspor"


@pytest.mark.parametrize(
    "raw",
    ["", None, "   ", "\x00\x01\x02", "\u200b\u200f\ufeff", "👍", "😀😀😀", "\ud800"],
)
def test_normalize_degenerate_inputs(raw) -> None:
    out = normalize(raw)
    assert isinstance(out, str)
    assert "\x00" not in out and "\u200b" not in out


def test_normalize_removes_control_characters() -> None:
    assert normalize("bon\x00jour\x07 à\x1b tous\u200b") == "bon jour a tous"
    assert normalize("a\r\nb\x0bc") == "a b c"


def test_normalize_emoji_only_is_kept_but_has_no_tokens() -> None:
    assert normalize("👍") == "👍"
    assert tokens("👍😀 !!") == []


def test_normalize_bytes_and_binary_like() -> None:
    assert normalize(b"caf\xc3\xa9") == "cafe"
    out = normalize(bytes(range(256)))
    assert isinstance(out, str)
    assert "\ufffd" not in out


def test_normalize_huge_input_is_linear() -> None:
    text = "Bonjour, je voudrais renouveler mon passeport. بغيت نجدد الباسبور ديالي. " * 2000
    start = time.perf_counter()
    out = normalize(text)
    assert time.perf_counter() - start < 2.0
    assert out.startswith("bonjour, je voudrais")


def test_clean_keeps_case_and_accents() -> None:
    assert clean("  Été\x00 à\u200b Paris ") == "Été à Paris"
    assert clean(None) == ""


def test_tokens_mixed_scripts() -> None:
    assert tokens("Wach kayn chi rendez-vous f l'consulat ?") == [
        "wach",
        "kayn",
        "chi",
        "rendez",
        "vous",
        "f",
        "l",
        "consulat",
    ]
    assert tokens("بغيت، نجدد؟ الباسبور!") == ["بغيت", "نجدد", "الباسبور"]
    assert tokens("3afak m3a 2024") == ["3afak", "m3a", "2024"]
    assert tokens("snake_case") == ["snake", "case"]
    assert tokens("") == []


def test_arabizi_variants() -> None:
    assert arabizi_variants("3afak") == {"3afak", "aafak", "afak"}
    assert "hta" in arabizi_variants("7ta")
    assert {"qra", "kra"} <= arabizi_variants("9ra")
    assert "ghzal" in arabizi_variants("8zal")
    assert arabizi_variants("bonjour") == {"bonjour"}
    assert len(arabizi_variants("3232323232323232")) <= 33


def test_arabizi_skeleton_merges_spellings() -> None:
    assert arabizi_skeleton("bezzaf") == arabizi_skeleton("bzaf") == arabizi_skeleton("bzzaf")
    assert arabizi_skeleton("chokran") == arabizi_skeleton("shukran")
    assert arabizi_skeleton("") == ""
