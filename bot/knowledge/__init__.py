"""The procedures knowledge base: load and validate entries, search them, render answers."""

from bot.knowledge.schema import DETAIL_FIELDS, Entry
from bot.knowledge.store import KnowledgeBase, LoadError, default_kb

__all__ = ["DETAIL_FIELDS", "Entry", "KnowledgeBase", "LoadError", "default_kb"]
