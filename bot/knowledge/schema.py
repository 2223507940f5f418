"""The shape of a knowledge-base entry, checked when entries are loaded.

pydantic (already a Rasa dependency) gives error messages that name the exact field, which is
what ministry staff editing the YAML need.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Dict, List, Optional

from pydantic import BaseModel, Extra, Field, validator

from bot.settings import LANGUAGES

#: The parts of an answer a user can ask for on their own (buttons and follow-up questions).
DETAIL_FIELDS = ("documents", "fees", "steps", "where", "delay")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Source(BaseModel, extra=Extra.forbid):
    """An official source: its name and, where it has one, its address."""

    name: str = Field(..., min_length=3)
    url: Optional[str] = None

    @validator("url")
    def _url_is_https(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// address")
        return value


class Content(BaseModel, extra=Extra.forbid):
    """What an entry says in one language variety."""

    title: str = Field(..., min_length=2, max_length=60)
    summary: str = Field(..., min_length=10)
    steps: List[str] = Field(..., min_items=1)
    documents: List[str]
    fees: str = Field(..., min_length=2)
    where: str = Field(..., min_length=2)
    delay: str = Field(..., min_length=2)
    keywords: List[str] = Field(..., min_items=1)
    #: How people ask for this entry in their own words (search examples; never shown).
    questions: List[str] = Field(default_factory=list)

    @validator("steps", "documents", "keywords", "questions", each_item=True)
    def _no_empty_item(cls, value: str) -> str:  # noqa: N805
        if not str(value).strip():
            raise ValueError("empty item")
        return str(value)


class Entry(BaseModel, extra=Extra.forbid):
    """One procedure or topic, in every language variety."""

    id: str
    intents: List[str] = Field(..., min_items=1)
    variant: Optional[str] = None
    urgent: bool = False
    last_reviewed: dt.date
    portal: Optional[str] = None
    sources: List[Source] = Field(..., min_items=1)
    content: Dict[str, Content]

    @validator("id")
    def _id_format(cls, value: str) -> str:  # noqa: N805
        if not _ID.match(value):
            raise ValueError("must be snake_case (a-z, 0-9, _)")
        return value

    @validator("portal")
    def _portal_is_https(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// address")
        return value

    @validator("content")
    def _every_language(cls, value: Dict[str, Content]) -> Dict[str, Content]:  # noqa: N805
        missing = [lang for lang in LANGUAGES if lang not in value]
        if missing:
            raise ValueError(f"missing language(s): {', '.join(missing)}")
        extra = [lang for lang in value if lang not in LANGUAGES]
        if extra:
            raise ValueError(f"unknown language(s): {', '.join(extra)}")
        return value

    @validator("last_reviewed")
    def _not_in_future(cls, value: dt.date) -> dt.date:  # noqa: N805
        if value > dt.date.today():
            raise ValueError("is in the future")
        return value

    def text(self, lang: str) -> Content:
        """The content in ``lang`` (entries always have all five varieties)."""
        return self.content[lang]
