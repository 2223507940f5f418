"""Ticket references: generation and normalisation (no database)."""

from __future__ import annotations

import pytest

from bot.tickets.refs import ALPHABET, REF_PATTERN, is_ref, new_ref, normalize_ref


def test_alphabet_is_crockford_base32():
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_new_ref_is_canonical_and_random():
    refs = {new_ref() for _ in range(5000)}
    assert len(refs) == 5000
    for ref in refs:
        assert REF_PATTERN.fullmatch(ref)
        assert is_ref(ref)
        assert normalize_ref(ref) == ref
    used = set("".join(r[4:8] + r[9:] for r in refs))
    assert used == set(ALPHABET)


@pytest.mark.parametrize(
    "text",
    [
        "MDM-AB12-CD34",
        "mdm-ab12-cd34",
        "Mdm-Ab12-cD34",
        "MDMAB12CD34",
        "mdmab12cd34",
        "mdm ab12 cd34",
        "  MDM - AB12 - CD34  ",
        "MDM AB12CD34",
        "AB12-CD34",
        "ab12cd34",
        "ab12 cd34",
        "MDM_AB12_CD34",
        "MDM.AB12.CD34",
        "MDM–AB12—CD34",  # en and em dashes
        "MDM\u00a0AB12\u00a0CD34",  # non-breaking spaces
        "ＭＤＭ－ＡＢ１２－ＣＤ３４",  # full-width
        "MDM-AB١٢-CD٣٤",  # Arabic-Indic digits
        "\tmdm-ab12-cd34\n",
    ],
)
def test_normalize_accepts_variants(text):
    assert normalize_ref(text) == "MDM-AB12-CD34"


def test_body_starting_with_mdm_is_kept():
    assert normalize_ref("MDM-MDM1-2345") == "MDM-MDM1-2345"
    assert normalize_ref("mdm12345") == "MDM-MDM1-2345"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "MDM-AB12-CD3I",  # I is not in the alphabet
        "MDM-AB12-CD3L",
        "MDM-AB12-CD3O",
        "MDM-AB12-CD3U",
        "mdm-ab12-cd3o",
        "MDM-0O00-0000",
        "MDM-AB12-CD3",  # too short
        "MDM-AB12-CD345",  # too long
        "AB12CD3",
        "AB12CD345",
        "MDM",
        "MDM-",
        "XYZ-AB12-CD34",  # wrong prefix
        "MD-AB12-CD34",
        "MDM-AB12-CD34-EF56",
        "MDM-AB12-CD3!",
        "MDM-AB12-CD3?",
        "MDM-AB#2-CD34",
        "ticket MDM-AB12-CD34",  # extraction is not normalisation
        "MDM-AB12-CD34 please",
        "héllo wörld",
        "MDM-ÀB12-CD34",
        "MDM-AB12-CDß4",  # "ß".upper() == "SS" must not sneak in
        "🙂🙂🙂🙂🙂🙂🙂🙂",
        "مرحبا",
        "x" * 10_000,
        "' OR 1=1 --",
        "'; DROP TABLE tickets; --",
        "MDM-AB12-CD34'; DROP TABLE tickets; --",
        '" OR ""="',
        "1; SELECT pg_sleep(10)",
        "%",
        "MDM-%%%%-____",
        "MDM-AB12-CD3\x00",
        "<script>alert(1)</script>",
    ],
)
def test_normalize_rejects_garbage(text):
    assert normalize_ref(text) is None


@pytest.mark.parametrize("value", [123, 12345678, b"MDM-AB12-CD34", ["MDM-AB12-CD34"]])
def test_normalize_rejects_non_strings(value):
    assert normalize_ref(value) is None


def test_is_ref_is_strict():
    assert is_ref("MDM-AB12-CD34")
    assert not is_ref("mdm-ab12-cd34")
    assert not is_ref("MDMAB12CD34")
    assert not is_ref("MDM-AB12-CD34\n")
    assert not is_ref(None)
