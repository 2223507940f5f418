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


def test_every_entry_has_example_questions_in_every_variety():
    for entry in default_kb().entries.values():
        for lang, content in entry.content.items():
            assert len(content.questions) >= 5, (entry.id, lang)
            assert len(set(content.questions)) == len(content.questions), (entry.id, lang)


def test_entry_model_is_trained_once_and_cached(tmp_path):
    from bot.knowledge.search import entry_examples, entry_model

    kb = default_kb()
    first = entry_model(kb, cache_dir=tmp_path)
    [cached] = tmp_path.glob("search-entries-*.joblib")
    stamp = cached.stat().st_mtime_ns
    second = entry_model(kb, cache_dir=tmp_path)
    assert cached.stat().st_mtime_ns == stamp  # loaded, not retrained
    assert first is not None and second is not None
    assert second.classes == sorted(entry_examples(kb))
    assert second.predict(["passport for my daughter who is 5"]) == ["passport_minor"]


def test_a_corrupt_cache_is_rebuilt(tmp_path):
    from bot.knowledge.search import entry_model

    kb = default_kb()
    entry_model(kb, cache_dir=tmp_path)
    [cached] = tmp_path.glob("search-entries-*.joblib")
    cached.write_bytes(b"not a model")
    assert entry_model(kb, cache_dir=tmp_path) is not None
    assert cached.read_bytes() != b"not a model"


def test_the_entry_signal_separates_entries_of_one_intent():
    # the four passport entries share the intent "passport": only the entry model and the
    # words tell them apart
    search = default_search()
    signals, _ = search.components("un passeport pour mon bébé né à Lyon")
    ids = list(search.kb.entries)
    passports = {i: signals[4][ids.index(i)] for i in ids if i.startswith("passport_")}
    assert max(passports, key=passports.get) == "passport_minor"


def test_scores_stay_on_a_0_1_scale_whatever_the_weights():
    search = default_search()
    assert abs(sum(search.weights) - 1.0) < 1e-9
    for text in ("passeport perdu", "bghit njded lpaspor dyali 3afak", "qsdkfjh"):
        for hit in search.search(text, k=3):
            assert 0.0 <= hit.lexical <= 1.0 and 0.0 <= hit.specific <= hit.score <= 1.0


def test_old_cached_models_are_pruned(tmp_path):
    import os

    from bot.knowledge.search import entry_model

    for i in range(5):
        old = tmp_path / f"search-entries-old{i}.joblib"
        old.write_bytes(b"x")
        os.utime(old, (i, i))  # oldest first
    entry_model(default_kb(), cache_dir=tmp_path)
    left = sorted(p.name for p in tmp_path.glob("search-entries-*.joblib"))
    assert len(left) == 4 and "search-entries-old4.joblib" in left
    assert "search-entries-old0.joblib" not in left
