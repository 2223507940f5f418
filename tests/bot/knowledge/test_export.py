from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.cli import main
from bot.knowledge import default_kb
from bot.knowledge.export import FILE_NAME, export_nlu, nlu_yaml
from bot.knowledge.store import KnowledgeBase
from bot.settings import LANGUAGES, ROOT

NLU_DIR = ROOT / "data" / "nlu"


def test_committed_files_are_up_to_date():
    assert export_nlu(default_kb(), NLU_DIR, check=True) == []


def test_rasa_reads_every_question_under_its_entrys_intent():
    kb = default_kb()
    data = load_data(str(NLU_DIR / "ary_Latn" / FILE_NAME))
    by_text = {m.get("text"): m.get("intent") for m in data.intent_examples}
    question = kb.get("passport_lost").text("ary_Latn").questions[0]
    assert by_text[question] == "passport"
    assert set(by_text.values()) == {
        e.intents[0] for e in kb.entries.values() if e.text("ary_Latn").questions
    }
    assert not data.entity_examples  # questions carry no entity annotations


def _tiny_kb(tmp_path: Path, questions: list[str]) -> KnowledgeBase:
    folder = tmp_path / "kb"
    folder.mkdir()
    source = yaml.safe_load(
        (ROOT / "knowledge" / "procedures" / "cnie.yml").read_text(encoding="utf-8")
    )
    for lang in LANGUAGES:
        source["content"][lang]["questions"] = questions
    (folder / "cnie.yml").write_text(yaml.safe_dump(source, allow_unicode=True), "utf-8")
    kb = KnowledgeBase.load(folder)
    assert not kb.errors
    return kb


def test_duplicates_and_annotation_like_text_are_left_out(tmp_path):
    kb = _tiny_kb(
        tmp_path,
        [
            "Ma carte d'identité a expiré",
            "ma  carte d'identite a expire",  # the same once normalised
            "carte [cnie](document) perdue",  # would read as an entity annotation
            "déjà écrit à la main",
        ],
    )
    text = nlu_yaml(kb, "fr", skip={"deja ecrit a la main"})
    examples = [line for line in text.splitlines() if line.startswith("      - ")]
    assert examples == ["      - Ma carte d'identité a expiré"]
    assert "intent: national_id_card" in text


def test_check_reports_then_export_writes_and_keeps_hand_written_files(tmp_path):
    kb = _tiny_kb(tmp_path, ["Ma carte d'identité a expiré", "je renouvelle ma CNIE"])
    nlu = tmp_path / "nlu"
    for lang in ("fr", "en"):
        (nlu / lang).mkdir(parents=True)
    hand = nlu / "fr" / "cnie.yml"
    hand.write_text(
        'version: "3.1"\nnlu:\n  - intent: national_id_card\n    examples: |\n'
        "      - je renouvelle ma cnie\n",
        encoding="utf-8",
    )
    before = hand.read_text(encoding="utf-8")
    assert export_nlu(kb, nlu, check=True) == [nlu / "en" / FILE_NAME, nlu / "fr" / FILE_NAME]
    assert not (nlu / "fr" / FILE_NAME).exists()  # check writes nothing
    assert export_nlu(kb, nlu) == [nlu / "en" / FILE_NAME, nlu / "fr" / FILE_NAME]
    assert export_nlu(kb, nlu, check=True) == []
    assert hand.read_text(encoding="utf-8") == before
    generated = (nlu / "fr" / FILE_NAME).read_text(encoding="utf-8")
    assert "Ma carte d'identité a expiré" in generated
    assert "je renouvelle ma CNIE" not in generated  # already in the hand-written file


def test_cli_check_fails_on_a_stale_copy(tmp_path, capsys):
    nlu = tmp_path / "nlu"
    shutil.copytree(NLU_DIR, nlu)
    assert main(["kb", "export-nlu", "--check", "--nlu-dir", str(nlu)]) == 0
    (nlu / "en" / FILE_NAME).write_text("stale\n", encoding="utf-8")
    assert main(["kb", "export-nlu", "--check", "--nlu-dir", str(nlu)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(["kb", "export-nlu", "--nlu-dir", str(nlu)]) == 0
    assert main(["kb", "export-nlu", "--check", "--nlu-dir", str(nlu)]) == 0
