"""The widget's source: one plain ES2019 file that never turns text into HTML, and its demo page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.settings import ROOT

WIDGET = ROOT / "web" / "widget" / "mdm-widget.js"
SOURCE = WIDGET.read_text(encoding="utf-8")
# The code without its comments and string/regex contents is enough for these checks.
CODE = re.sub(r"/\*.*?\*/|//[^\n]*", "", SOURCE, flags=re.S)


def test_one_file_no_build_step():
    assert sorted(p.name for p in WIDGET.parent.iterdir()) == ["mdm-widget.js"]
    assert "import " not in CODE and "require(" not in CODE


def test_no_html_parsing_of_any_text():
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
    ):
        assert sink not in CODE, sink


def test_no_syntax_newer_than_es2019():
    # optional chaining, nullish coalescing, logical assignment, numeric separators, ES2020+ APIs
    for token in ("?.", "??", "||=", "&&=", "replaceAll(", "globalThis", ".at(", "Object.hasOwn"):
        assert token not in CODE, token
    assert not re.search(r"\b\d+_\d", CODE)
    # no classes at all, hence no class fields or private members (ES2022)
    assert not re.search(r"\bclass\s+\w", CODE)


def test_every_interface_text_exists_in_the_five_varieties():
    block = SOURCE.split("var T = {", 1)[1].split("\n  };", 1)[0]
    varieties = re.findall(r"\n    (\w+): \{", block)
    assert varieties == ["fr", "ar", "ary", "ary_Latn", "en"]
    keys = [re.findall(r"\n      (\w+):", part) for part in re.split(r"\n    \w+: \{", block)[1:]]
    assert all(k == keys[0] for k in keys), "a variety misses a text"
    assert {"open", "close", "send", "typing", "offline", "language", "staff"} <= set(keys[0])


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def test_demo_page_embeds_the_widget_with_one_tag():
    parser = _Scripts()
    parser.feed((ROOT / "web" / "index.html").read_text(encoding="utf-8"))
    [tag] = [s for s in parser.scripts if "src" in s]
    assert tag["src"] == "widget/mdm-widget.js"
    assert tag["data-server"] == "http://127.0.0.1:5005"  # `mdm serve`'s Rasa
    assert tag["data-lang"] == "fr" and "defer" in tag
