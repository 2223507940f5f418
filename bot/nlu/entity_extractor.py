"""Rasa component wrapping :mod:`bot.nlu.entities` (places, details, ticket references)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import default_gazetteer, extract_entities


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class RuleEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds ``city``, ``country``, ``detail`` and ``ticket_ref`` entities found by rules."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RuleEntityExtractor":
        """Create the component and build the gazetteer once (Rasa graph API)."""
        default_gazetteer()
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Append the entities found in each message's text."""
        for message in messages:
            text = message.get(TEXT) or ""
            # Button payloads ("/passport{...}") carry their own entities.
            if text.startswith("/"):
                continue
            found = [span.as_rasa() for span in extract_entities(text)]
            if found:
                found = self.add_extractor_name(found)
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
