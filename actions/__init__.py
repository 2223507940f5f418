"""Custom actions of mdm-assistant: thin adapters from Rasa to the ``bot`` library.

The action server imports every module here at start-up, so nothing heavy happens at import
time: knowledge base, search index and database connections are built on first use.
"""
