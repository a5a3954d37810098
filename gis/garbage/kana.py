"""Hiragana reading and Hepburn romaji of item names (pykakasi), so search can match kana and romaji."""

from __future__ import annotations

import functools
import re
import unicodedata

import pykakasi

_WORD = re.compile(r"[a-z0-9]+")


@functools.cache
def _kakasi() -> pykakasi.kakasi:
    # Loading the dictionaries takes about half a second: once per process.
    return pykakasi.kakasi()


@functools.lru_cache(maxsize=4096)
def readings(name: str) -> tuple[str | None, str | None]:
    """(hiragana reading, romaji words separated by spaces) of a name; None for a name with no letters."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    if not text:
        return None, None
    tokens = _kakasi().convert(text)
    reading = "".join(t["hira"] for t in tokens).strip()
    romaji = " ".join(w for t in tokens for w in _WORD.findall(t["hepburn"].lower()))
    return reading or None, romaji or None


__all__ = ["readings"]
