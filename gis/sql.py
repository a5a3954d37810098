"""SQL text helpers: identifiers and literals that come from declarations, never from user input."""

from __future__ import annotations


def q(name: str) -> str:
    """Quote an identifier from a layer declaration (user values always go in as bind parameters)."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal of declared text (layer ids, titles)."""
    return "'" + text.replace("'", "''") + "'"
