from __future__ import annotations

import pytest

from bot.knowledge import default_kb
from bot.knowledge.render import payload, render_detail, render_summary, variant_buttons
from bot.knowledge.search import default_search


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("renouveler mon passeport", "passport_renewal"),
        ("bghit njded lpaspor dyali 3afak", "passport_renewal"),
        ("ضاع لي جواز السفر", "passport_lost"),
        ("كيفاش نجيب الطوموبيل للمغرب", "vehicle_temporary_admission"),
        ("fiche anthropometrique", "criminal_record"),
        ("pasport for my kid", "passport_minor"),  # typo absorbed
        ("بالقنصلية التسجيل", "consular_registration"),
    ],
)
def test_search_finds_the_entry(text, expected):
    hits = default_search().search(text, k=3)
    assert expected in [h.entry.id for h in hits]


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "x" * 20_000, "'; DROP TABLE x; --", "<b>"])
def test_search_survives_bad_input(text):
    assert isinstance(default_search().search(text), list)


def test_search_can_be_restricted():
    hits = default_search().search("passeport perdu", among=["passport_new", "passport_lost"])
    assert {h.entry.id for h in hits} <= {"passport_new", "passport_lost"}
    assert hits[0].entry.id == "passport_lost"


def test_render_summary_has_source_date_and_buttons():
    entry = default_kb().get("cnie")
    reply = render_summary(entry, "ary")
    assert entry.text("ary").summary in reply.text
    assert entry.last_reviewed.strftime("%d/%m/%Y") in reply.text
    assert [b["payload"] for b in reply.buttons][0] == payload(
        "procedure_detail", detail="documents"
    )


def test_render_detail_lists_steps_in_order_and_drops_its_own_button():
    entry = default_kb().get("passport_renewal")
    reply = render_detail(entry, "en", "steps")
    assert reply.text.splitlines()[1].startswith("1. ")
    assert all("steps" not in b["payload"] for b in reply.buttons)


def test_unknown_language_falls_back_to_french():
    entry = default_kb().get("cnie")
    assert entry.text("fr").summary in render_summary(entry, "de").text


def test_variant_buttons_carry_the_variant():
    entries = default_kb().for_intent("passport")
    payloads = [b["payload"] for b in variant_buttons(entries, "fr", "passport")]
    assert '/passport{"variant":"lost"}' in payloads
