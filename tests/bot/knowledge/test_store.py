from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from bot.cli import main
from bot.knowledge.store import KnowledgeBase
from bot.settings import LANGUAGES, ROOT

PROCEDURES = ROOT / "knowledge" / "procedures"


def copy_kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(PROCEDURES, folder)
    return folder


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_real_knowledge_base_is_valid():
    kb = KnowledgeBase.load(PROCEDURES)
    assert kb.errors == []
    assert len(kb.entries) >= 30
    for entry in kb.entries.values():
        assert set(entry.content) == set(LANGUAGES)
        assert entry.sources


def test_broken_entries_are_rejected_by_name_and_field_and_the_rest_still_load(tmp_path):
    folder = copy_kb(tmp_path)
    edit(folder / "cnie.yml", lambda d: d["content"].pop("ary"))
    edit(folder / "criminal_record.yml", lambda d: d.update(sources=[]))
    edit(folder / "legalization.yml", lambda d: d.update(last_reviewed="29/11/2026"))
    edit(folder / "passport_new.yml", lambda d: d["content"]["en"].pop("fees"))
    (folder / "broken.yml").write_text("id: [unclosed", encoding="utf-8")
    kb = KnowledgeBase.load(folder)
    messages = [str(e) for e in kb.errors]
    assert any("cnie.yml" in m and "content" in m and "ary" in m for m in messages), messages
    assert any("criminal_record.yml" in m and "sources" in m for m in messages), messages
    assert any("legalization.yml" in m and "last_reviewed" in m for m in messages), messages
    assert any("passport_new.yml" in m and "content.en.fees" in m for m in messages), messages
    assert any("broken.yml" in m and "YAML" in m for m in messages), messages
    assert "passport_renewal" in kb.entries
    assert len(kb.entries) == len(list(PROCEDURES.glob("*.yml"))) - 4


def test_id_must_match_file_name(tmp_path):
    folder = copy_kb(tmp_path)
    edit(folder / "cnie.yml", lambda d: d.update(id="other_id"))
    kb = KnowledgeBase.load(folder)
    assert any("must equal the file name" in str(e) for e in kb.errors)


def test_validate_command_exit_codes_and_stale_warning(tmp_path, capsys):
    folder = copy_kb(tmp_path)
    assert main(["kb", "validate", "--folder", str(folder)]) == 0
    old = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    edit(folder / "cnie.yml", lambda d: d.update(last_reviewed=old))
    assert main(["kb", "validate", "--folder", str(folder)]) == 0
    assert "warning: cnie" in capsys.readouterr().err
    edit(folder / "cnie.yml", lambda d: d["content"].pop("en"))
    assert main(["kb", "validate", "--folder", str(folder)]) == 1
    assert "cnie.yml" in capsys.readouterr().err


def test_future_review_date_and_http_source_are_rejected(tmp_path):
    folder = copy_kb(tmp_path)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    edit(folder / "cnie.yml", lambda d: d.update(last_reviewed=future))
    edit(folder / "legalization.yml", lambda d: d["sources"][0].update(url="http://example.org"))
    messages = [str(e) for e in KnowledgeBase.load(folder).errors]
    assert any("future" in m for m in messages)
    assert any("https" in m for m in messages)


def test_fees_only_cite_figures_from_the_reference_facts():
    """Never invent a fee: every amount in DH must appear in the shared reference facts."""
    import re

    facts = (ROOT.parent / "shared" / "knowledge" / "FACTS.md").read_text(encoding="utf-8")
    known = {n.replace(",", "").replace(" ", "") for n in re.findall(r"\d[\d,]*", facts)}
    for entry in KnowledgeBase.load(PROCEDURES).entries.values():
        for lang, content in entry.content.items():
            for amount in re.findall(r"(\d[\d ,.]*)\s*(?:DH|MAD|درهم)", content.fees):
                number = re.sub(r"[ ,.]", "", amount)
                assert number in known, f"{entry.id}/{lang}: {amount} DH not in FACTS.md"


def test_empty_example_question_is_rejected(tmp_path):
    folder = copy_kb(tmp_path)
    edit(folder / "cnie.yml", lambda d: d["content"]["fr"].update(questions=["ok ?", "  "]))
    kb = KnowledgeBase.load(folder)
    assert any("cnie.yml" in str(e) and "questions" in str(e) for e in kb.errors), kb.errors
    assert "cnie" not in kb.entries and "passport_new" in kb.entries
