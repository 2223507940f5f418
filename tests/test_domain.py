"""The domain, training data, rules and knowledge base agree with each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.knowledge import default_kb
from bot.settings import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
CONDITIONAL = [lang for lang in LANGUAGES if lang != "fr"]


def nlu_examples(folder: Path) -> dict:
    """{(variety, intent): [examples]} of a data/nlu-like folder."""
    found: dict = {}
    for path in folder.rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in block:
                lines = [
                    line[2:].strip()
                    for line in block["examples"].splitlines()
                    if line.startswith("- ")
                ]
                found.setdefault((path.parent.name, block["intent"]), []).extend(lines)
    return found


def test_every_response_exists_in_all_five_varieties(domain):
    for name, variants in domain["responses"].items():
        unconditional = [v for v in variants if not v.get("condition")]
        assert len(unconditional) == 1, f"{name}: needs exactly one French default variant"
        langs = [
            c["value"] for v in variants for c in v.get("condition", []) if c["name"] == "language"
        ]
        assert sorted(langs) == sorted(CONDITIONAL), f"{name}: varieties {langs}"
        button_payloads = {tuple(b["payload"] for b in v.get("buttons", [])) for v in variants}
        assert len(button_payloads) == 1, f"{name}: buttons differ between varieties"


def test_button_titles_fit_whatsapp(domain):
    for name, variants in domain["responses"].items():
        for variant in variants:
            for button in variant.get("buttons", []):
                assert len(button["title"]) <= 20, f"{name}: {button['title']!r}"


def test_arabic_script_responses_are_arabic(domain):
    arabic = re.compile("[\u0600-\u06ff]")
    for name, variants in domain["responses"].items():
        for variant in variants:
            for cond in variant.get("condition", []):
                if cond["value"] in ("ar", "ary"):
                    assert arabic.search(variant["text"]), name


#: Intents that channels send as payloads ("/unsupported_media"), never typed: a few examples
#: are enough (Rasa's validator wants some), not 20 per variety.
PAYLOAD_ONLY_INTENTS = {"unsupported_media", "rate"}


def test_every_intent_has_at_least_20_examples_per_variety(domain):
    examples = nlu_examples(ROOT / "data" / "nlu")
    for intent in domain["intents"]:
        if intent in PAYLOAD_ONLY_INTENTS:
            assert any(i == intent for _, i in examples), f"{intent}: no example at all"
            continue
        for lang in LANGUAGES:
            assert len(examples.get((lang, intent), [])) >= 20, f"{lang}/{intent}"


def test_held_out_split_is_not_in_training_data():
    train = {e.lower() for ex in nlu_examples(ROOT / "data" / "nlu").values() for e in ex}
    held = [e.lower() for ex in nlu_examples(ROOT / "tests" / "nlu").values() for e in ex]
    assert held, "tests/nlu is empty"
    overlap = [e for e in held if e in train]
    assert not overlap, overlap[:5]


def test_training_data_has_nothing_from_shared_eval():
    """shared/eval is for evaluation only: no sentence of it may be trained on."""
    import csv

    from bot.text.normalize import normalize

    eval_dir = ROOT.parent / "shared" / "eval"
    assert eval_dir.is_dir(), "../shared/eval is missing"
    evaluation = set()
    for path in eval_dir.rglob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                evaluation.add(normalize(row["text"]).lower())
    strip = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
    train = {
        normalize(strip.sub(r"\1", e)).lower()
        for ex in nlu_examples(ROOT / "data" / "nlu").values()
        for e in ex
    }
    # One- and two-word formulas ("yes", "thanks", "صباح الخير") belong to every corpus;
    # anything longer shared with the evaluation data would be a copy.
    shared = sorted(t for t in train & evaluation if len(t.split()) > 2)
    assert not shared, shared[:5]


ANSWERED_BY_TICKETS = {"ticket_status", "delete_my_data"}


def test_every_procedure_intent_has_a_knowledge_entry():
    rules = yaml.safe_load((ROOT / "data" / "rules" / "procedures.yml").read_text(encoding="utf-8"))
    intents = {
        step["intent"]
        for rule in rules["rules"]
        for step in rule["steps"]
        if "intent" in step and rule["steps"][1].get("action") == "action_answer_procedure"
    }
    kb = default_kb()
    missing = sorted(i for i in intents - ANSWERED_BY_TICKETS if not kb.for_intent(i))
    assert not missing


@pytest.mark.parametrize("intent", ["passport", "civil_status", "vehicle_import"])
def test_intents_with_several_entries_name_a_variant_on_each(intent):
    entries = default_kb().for_intent(intent)
    assert len(entries) > 1
    assert all(e.variant for e in entries)
    assert len({e.variant for e in entries}) == len(entries)
