from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_mdm_lang_prints_one_code_per_line():
    lines = [
        "je voudrais renouveler mon passeport",
        "أريد تجديد جواز السفر الخاص بي",
        "بغيت نجدد الباسبور ديالي عافاك",
        "bghit njded lpaspor dyali 3afak",
        "I would like to renew my passport",
        "Vorrei rinnovare il mio passaporto, per favore",
        "",
    ]
    result = subprocess.run(
        [str(BIN / "mdm"), "lang"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    codes = result.stdout.split()
    assert codes[:6] == ["fr", "ar", "ary", "ary_Latn", "en", "other"]
    assert len(result.stdout.splitlines()) == len(lines)


def test_mdm_kb_search_json():
    result = subprocess.run(
        [str(BIN / "mdm"), "kb", "search", "--json", "fiche anthropométrique"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert '"criminal_record"' in result.stdout
