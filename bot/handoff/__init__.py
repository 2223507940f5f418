"""Human handoff: escalated conversations, their queue and routing, staff hours, Rasa's API.

Used by the action server (``actions/handoff.py``, to escalate) and by the staff console
(``bot/console/``, to take, answer and hand back). Nothing here imports Rasa.
"""
