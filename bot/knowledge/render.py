"""Turning knowledge-base entries into short chat messages with buttons.

Answers are built for a phone screen: the summary first, then one button per detail the user
can open, and the source with its review date at the end. Every word of procedure content
comes from the entry; this module only arranges it with the labels of ``knowledge/ui.yml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

import yaml

from bot.knowledge.schema import DETAIL_FIELDS, Entry
from bot.settings import DEFAULT_LANGUAGE, LANGUAGES, ROOT

UI_FILE = ROOT / "knowledge" / "ui.yml"


@lru_cache(maxsize=1)
def ui_labels(path: Path = UI_FILE) -> Dict[str, Dict[str, str]]:
    """Labels per variety (``{lang: {key: label}}``)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def label(lang: str, key: str) -> str:
    """One label in ``lang`` (French when the variety is unknown)."""
    labels = ui_labels()
    return labels.get(lang, labels[DEFAULT_LANGUAGE])[key]


def safe_lang(lang: Any) -> str:
    """``lang`` if the assistant speaks it, else the default variety."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@dataclass
class Reply:
    """A message to send: text and optional buttons (title, payload)."""

    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


def payload(intent: str, **entities: str) -> str:
    """A Rasa button payload that triggers ``intent`` with ``entities``."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


def source_line(entry: Entry, lang: str) -> str:
    """The line naming the official sources and the review date."""
    names = []
    for source in entry.sources:
        names.append(f"{source.name} ({source.url})" if source.url else source.name)
    reviewed = entry.last_reviewed.strftime("%d/%m/%Y")
    line = f"{label(lang, 'source')} : {'; '.join(names)} — {label(lang, 'reviewed')} {reviewed}"
    if entry.portal:
        line += f"\n{label(lang, 'portal')} : {entry.portal}"
    return line


def detail_buttons(entry: Entry, lang: str, exclude: str = "") -> List[Dict[str, str]]:
    """One button per detail of ``entry`` (documents, fees, ...), ``exclude`` left out."""
    content = entry.text(lang)
    buttons = []
    for name in DETAIL_FIELDS:
        if name == exclude or (name == "documents" and not content.documents):
            continue
        buttons.append(
            {"title": label(lang, name), "payload": payload("procedure_detail", detail=name)}
        )
    return buttons


def render_summary(entry: Entry, lang: str) -> Reply:
    """Title and summary, source, and buttons for the details."""
    lang = safe_lang(lang)
    content = entry.text(lang)
    text = f"{content.title}\n{content.summary}\n\n{source_line(entry, lang)}"
    buttons = detail_buttons(entry, lang)
    return Reply(text, buttons)


def render_detail(entry: Entry, lang: str, detail: str) -> Reply:
    """One detail of ``entry`` (a list becomes numbered or bulleted lines)."""
    lang = safe_lang(lang)
    content = entry.text(lang)
    value = getattr(content, detail)
    if isinstance(value, list):
        if detail == "steps":
            body = "\n".join(f"{i}. {item}" for i, item in enumerate(value, 1))
        else:
            body = "\n".join(f"• {item}" for item in value)
    else:
        body = str(value)
    text = f"{content.title} — {label(lang, detail)}\n{body}"
    return Reply(text, detail_buttons(entry, lang, exclude=detail))


def variant_buttons(entries: List[Entry], lang: str, intent: str) -> List[Dict[str, str]]:
    """Buttons to choose among the variants of one intent, titled by entry titles."""
    lang = safe_lang(lang)
    return [
        {
            "title": e.text(lang).title,
            "payload": payload(intent, variant=e.variant) if e.variant else payload(intent),
        }
        for e in entries
    ]
