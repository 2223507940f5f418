"""Rasa component that identifies the language variety of every message.

The verdict goes into the parse data as ``language`` (``code``, ``confidence``,
``ambiguous``); the ``language`` slot is then decided by ``action_validate_slot_mappings``,
which knows the conversation's current language and the channel's hint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.identify import LanguageIdentifier

logger = logging.getLogger(__name__)

#: Key of the verdict in Rasa's parse data (``tracker.latest_message["language"]``).
LANGUAGE_KEY = "language"
_MODEL_FILE = "language_identifier.pkl"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class LanguageIdentifierComponent(GraphComponent):
    """Adds the language-variety verdict of :mod:`bot.language` to each message."""

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        identifier: Optional[LanguageIdentifier] = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._identifier = identifier

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageIdentifierComponent":
        """Create the component (Rasa graph API)."""
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Build the identifier from the project's own texts and store it in the model."""
        identifier = LanguageIdentifier.default()
        with self._model_storage.write_to(self._resource) as model_dir:
            identifier.save(Path(model_dir) / _MODEL_FILE)
        self._identifier = identifier
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageIdentifierComponent":
        """Load the identifier stored at training time (Rasa graph API)."""
        try:
            with model_storage.read_from(resource) as model_dir:
                identifier = LanguageIdentifier.load(Path(model_dir) / _MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("No stored language identifier; building one from the repository.")
            identifier = LanguageIdentifier.default()
        return cls(model_storage, resource, identifier)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to training examples."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Attach the verdict to each message."""
        identifier = self._identifier or LanguageIdentifier.default()
        for message in messages:
            guess = identifier.identify(message.get(TEXT) or "")
            message.set(
                LANGUAGE_KEY,
                {
                    "code": guess.code,
                    "confidence": round(float(guess.confidence), 4),
                    "ambiguous": bool(guess.ambiguous),
                },
                add_to_output=True,
            )
        return messages
