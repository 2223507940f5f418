"""Custom Rasa NLU components (the only place in ``bot/`` that imports Rasa)."""
