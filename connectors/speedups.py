"""Speed-ups of Rasa's own code inside the Rasa server process.

Installed when the REST channel is imported (``connectors/rest.py``), so every Rasa server
started with our ``credentials.yml`` has them, whatever its model (the load benchmark's
default-pipeline servers too, which keeps that comparison about the pipelines).

* **Action responses validated against a compiled schema.** Rasa 3.6 checks every response of
  the action server with ``jsonschema.validate(result, schema)``, and ``validate`` first checks
  the *schema itself* against its meta-schema, on every call. With two action calls per message
  (``action_validate_slot_mappings``, then the answer) that was about half of the Rasa server's
  CPU (py-spy, docs/benchmarks.md "Load"). The replacement validates against the same schema
  and raises the same ``ValidationError`` with the same message; the validator is built, and the
  schema checked, once.

``MDM_RASA_SPEEDUPS=0`` leaves Rasa as it is (to measure the difference).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Text

from bot.settings import get_settings

_lock = threading.Lock()
_validator: Optional[Any] = None
#: Rasa's own functions, before :func:`install` replaced them (for tests and comparisons).
originals: Dict[str, Any] = {}


def _response_validator(schema: Dict[Text, Any]) -> Any:
    """The schema's validator, built (and the schema checked) on first use only."""
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for  # noqa: PLC0415

        with _lock:
            if _validator is None:
                cls = validator_for(schema)
                cls.check_schema(schema)
                _validator = cls(schema)
    return _validator


def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with a compiled validator (same errors).

    Args:
        self: The ``RemoteAction``.
        result: The action server's JSON response.

    Returns:
        True when the response is valid.

    Raises:
        jsonschema.ValidationError: As Rasa's own version, with the same message.
    """
    from jsonschema import exceptions  # noqa: PLC0415
    from rasa.shared.constants import DOCS_BASE_URL  # noqa: PLC0415

    error = exceptions.best_match(
        _response_validator(self.action_response_format_spec()).iter_errors(result)
    )
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> bool:
    """Apply the speed-ups (once; not at all when ``MDM_RASA_SPEEDUPS=0``).

    Returns:
        True when Rasa now runs with them.
    """
    if not get_settings().rasa_speedups:
        return False
    from rasa.core.actions.action import RemoteAction  # noqa: PLC0415

    if RemoteAction._validate_action_result is not validate_action_result:
        originals["_validate_action_result"] = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = validate_action_result
    return True
