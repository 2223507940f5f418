from __future__ import annotations

import pytest

from bot.nlu.entities import extract_entities, find_ticket_refs


def values(text):
    return [(s.entity, s.value) for s in extract_entities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je vis à Bruxelles", [("city", "Brussels")]),
        ("كنسكن فليون", [("city", "Lyon")]),
        ("bghit nmchi lfransa mn casa", [("country", "France"), ("city", "Casablanca")]),
        ("الدار البيضاء", [("city", "Casablanca")]),
        ("parle moi en arabe", [("language", "ar")]),
        ("hder m3aya b darija", [("language", "ary")]),
        ("w chhal?", [("detail", "fees")]),
        ("how long does it take", [("detail", "delay")]),
    ],
)
def test_gazetteer(text, expected):
    assert values(text) == expected


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("ma réclamation MDM-7K3P-Q9XZ", "MDM-7K3P-Q9XZ"),
        ("mdm7k3pq9xz", "MDM-7K3P-Q9XZ"),
        ("MDM 7K3P Q9XZ svp", "MDM-7K3P-Q9XZ"),
        ("رقم mdm-7k3p-q9xz", "MDM-7K3P-Q9XZ"),
    ],
)
def test_ticket_refs_are_canonical(text, ref):
    assert [s.value for s in find_ticket_refs(text)] == [ref]


def test_ticket_ref_is_not_also_a_place():
    assert values("MDM-NANT-ES22") == [("ticket_ref", "MDM-NANT-ES22")]


@pytest.mark.parametrize("text", ["", "😀", "\x00\x01", "x" * 20_000, "<script>", "mdm"])
def test_bad_input(text):
    assert isinstance(extract_entities(text), list)
