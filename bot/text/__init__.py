"""Text normalisation shared by language identification and knowledge-base search."""
