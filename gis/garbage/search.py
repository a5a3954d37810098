"""Item search (ごみの分別): kanji, hiragana, katakana (full or half width), romaji, small typos, other languages.

The index is built in memory once per garbage data version (through the one cache), per city, from garbage_items:
three families of keys per item, each compared with the matching form of the query.

- kana: the name NFKC-normalised with katakana folded to hiragana, and the reading (the `reading` column, or the
  name's reading by pykakasi when the column is empty); the query in the same form and, when it holds kanji, its
  pykakasi reading.
- romaji: the `romaji` column (or pykakasi's Hepburn of the reading) and the query's Hepburn, both reduced to a
  spelling-neutral key (shi/si, tsu/tu, long vowels, macrons, spaces), so Hepburn, kunrei and loose spellings meet.
- text: the names in other languages (`names`: en, zh, ko, vi, any other member) and the name, lower-cased.

A key equal to the query scores 100, a key starting with it 90-99, containing it 75-89, and a close spelling
(rapidfuzz, Indel ratio ≥ 70, or a close window of a longer key) at most 80.
"""

from __future__ import annotations

import asyncio
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import orjson
import pykakasi
from rapidfuzz import fuzz, process

from gis.garbage.sql import ITEMS_SQL
from gis.garbage.tables import VERSION_ID
from gis.runtime import Runtime

ITEM_FIELDS = ("id", "city_code", "name", "category", "notice", "names", "fee_type", "fee", "fee_note", "note")
FUZZY_MIN = 70  # rapidfuzz ratio of a whole key
PARTIAL_MIN = 80  # rapidfuzz partial ratio (the query against the best window of a longer key)
_KAKASI: pykakasi.kakasi | None = None
_DROP = ("P", "Z", "S", "C")  # punctuation, spaces, symbols, controls: never part of a key
_ROMAJI = (
    ("tsu", "tu"),
    ("shi", "si"),
    ("chi", "ti"),
    ("sh", "sy"),
    ("ch", "ty"),
    ("ji", "zi"),
    ("j", "zy"),
    ("fu", "hu"),
    ("dzu", "du"),
)
_LONG = re.compile(r"(ou|oo|uu|aa|ii|ee)")
_M_BEFORE = re.compile(r"m(?=[bpm])")


def _kakasi() -> pykakasi.kakasi:
    global _KAKASI
    if _KAKASI is None:  # half a second to load its dictionaries: once per process
        _KAKASI = pykakasi.kakasi()
    return _KAKASI


def fold(text: str) -> str:
    """NFKC, lower case, katakana → hiragana, without spaces or punctuation (ｰ and ー stay: they are sounds)."""
    out = []
    for ch in unicodedata.normalize("NFKC", text).lower():
        if "ァ" <= ch <= "ヶ":
            ch = chr(ord(ch) - 0x60)
        elif unicodedata.category(ch)[0] in _DROP:
            continue
        out.append(ch)
    return "".join(out)


def romaji_key(text: str) -> str:
    """A spelling-neutral romaji key: ASCII letters only, kunrei-like, single vowels, n before b/p/m."""
    plain = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    key = "".join(ch for ch in plain if "a" <= ch <= "z")
    for a, b in _ROMAJI:
        key = key.replace(a, b)
    return _M_BEFORE.sub("n", _LONG.sub(lambda m: m[0][0], key))


def reading(text: str) -> tuple[str, str]:
    """(hiragana reading, Hepburn romaji) of Japanese text by pykakasi."""
    parts = _kakasi().convert(unicodedata.normalize("NFKC", text))
    return "".join(p["hira"] for p in parts), "".join(p["hepburn"] for p in parts)


def _text(value: str) -> str:
    """Lower case, single spaces, Latin letters without accents (nhựa → nhua); other scripts untouched."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value).lower().replace("đ", "d")):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return " ".join(unicodedata.normalize("NFKC", "".join(out)).split())


@dataclass
class Family:
    """Keys of one kind with the item each belongs to and the field it came from."""

    keys: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)

    def add(self, key: str, owner: int, name: str) -> None:
        """One more key (empty keys are skipped)."""
        if key:
            self.keys.append(key)
            self.owners.append(owner)
            self.fields.append(name)


@dataclass
class Query:
    """The forms of one query, one per family."""

    kana: str
    read: str  # the reading of a query holding kanji ("" otherwise, or when too short to mean one thing)
    romaji: str  # only for a query with Latin letters (kana queries are matched as kana)
    text: str

    @classmethod
    def of(cls, q: str) -> Query:
        """Normalise the query and read it with pykakasi."""
        kana = fold(q)
        hira, hepburn = reading(q)
        read = fold(hira)
        # One kanji has many readings (缶 かん would find 乾電池): a reading counts from three kana on.
        read = read if read != kana and len(read) >= 3 else ""
        latin = any("a" <= ch <= "z" for ch in kana)
        return cls(kana, read, romaji_key(hepburn) if latin else "", _text(q))


def _score(query: str, key: str) -> tuple[float, str] | None:
    if key == query:
        return 100.0, "exact"
    if key.startswith(query):
        return 90 + 9 * len(query) / len(key), "prefix"
    if query in key:
        return 75 + 14 * len(query) / len(key), "contains"
    return None


def _best(found: dict[int, tuple[float, str]], owner: int, score: float, how: str) -> None:
    if owner not in found or score > found[owner][0]:
        found[owner] = (score, how)


def _match(
    fam: Family, query: str, found: dict[int, tuple[float, str]], min_contains: int, min_fuzzy: int, weight: float = 1
) -> None:
    if not query:
        return
    for i, key in enumerate(fam.keys):
        hit = _score(query, key)
        if hit and (hit[1] != "contains" or len(query) >= min_contains):
            _best(found, fam.owners[i], weight * hit[0], f"{hit[1]}:{fam.fields[i]}")
    if len(query) < min_fuzzy:
        return
    for _, ratio, i in process.extract(query, fam.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN, limit=None):
        _best(found, fam.owners[i], weight * 0.8 * ratio, f"fuzzy:{fam.fields[i]}")
    for _, ratio, i in process.extract(
        query, fam.keys, scorer=fuzz.partial_ratio, score_cutoff=PARTIAL_MIN, limit=None
    ):
        if len(fam.keys[i]) > len(query):
            _best(found, fam.owners[i], weight * 0.7 * ratio, f"fuzzy:{fam.fields[i]}")


@dataclass
class CityIndex:
    """The keys of one city's items."""

    kana: Family = field(default_factory=Family)
    romaji: Family = field(default_factory=Family)
    text: Family = field(default_factory=Family)


@dataclass
class ItemIndex:
    """Every item by city, with its keys; `search` is pure Python over a few thousand short strings."""

    items: list[dict[str, Any]]
    cities: dict[str, CityIndex]
    sources: dict[str, set[int]]
    samples: dict[str, bool]
    nbytes: int = 0

    def search(self, q: str, city: str | None, limit: int) -> list[dict[str, Any]]:
        """Items best matching q, best first (ties: the shorter name, then the id)."""
        query = Query.of(q)
        found: dict[int, tuple[float, str]] = {}
        for code, idx in self.cities.items():
            if city is not None and code != city:
                continue
            _match(idx.kana, query.kana, found, min_contains=1, min_fuzzy=3)
            _match(idx.kana, query.read, found, min_contains=3, min_fuzzy=3, weight=0.95)
            _match(idx.romaji, query.romaji, found, min_contains=3, min_fuzzy=4)
            _match(idx.text, query.text, found, min_contains=2, min_fuzzy=4)
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], len(self.items[kv[0]]["name"]), kv[0]))
        return [self.items[i] | {"match": how, "score": round(score, 1)} for i, (score, how) in ranked[:limit]]

    def provenance(self, city: str | None) -> tuple[list[int], bool]:
        """The source ids and sample flag of the items searched."""
        codes = [c for c in self.sources if city is None or c == city]
        ids = sorted({i for c in codes for i in self.sources[c]})
        return ids, any(self.samples.get(c, False) for c in codes)


def _names(value: Any) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    return value if isinstance(value, dict) else {}


def build_index(rows: list[dict[str, Any]]) -> ItemIndex:
    """Index the items (readings and romaji from pykakasi where the data has none); runs off the event loop."""
    _kakasi()  # loaded here, off the event loop, before any query needs it
    items: list[dict[str, Any]] = []
    cities: dict[str, CityIndex] = {}
    sources: dict[str, set[int]] = {}
    samples: dict[str, bool] = {}
    size = 0
    for row in rows:
        owner = len(items)
        item = {k: row[k] for k in ITEM_FIELDS} | {"names": _names(row["names"])}
        items.append(item)
        code = row["city_code"]
        idx = cities.setdefault(code, CityIndex())
        sources.setdefault(code, set()).add(row["source_id"])
        samples[code] = samples.get(code, False) or bool(row["sample"])
        hira, hepburn = reading(row["name"]) if not (row["reading"] and row["romaji"]) else ("", "")
        idx.kana.add(fold(row["name"]), owner, "name")
        idx.kana.add(fold(row["reading"] or hira), owner, "reading")
        idx.romaji.add(romaji_key(row["romaji"] or hepburn), owner, "romaji")
        idx.text.add(_text(row["name"]), owner, "name")
        for lang, value in item["names"].items():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str):
                    idx.text.add(_text(v), owner, lang)
        size += len(orjson.dumps(item)) * 4 + 600
    return ItemIndex(items, cities, sources, samples, nbytes=size + sys.getsizeof(items))


async def cached_index(rt: Runtime, version: int) -> ItemIndex:
    """The index for this garbage data version: built once (concurrent callers share the build), then cached."""

    async def build() -> ItemIndex:
        async with rt.public_conn() as conn:
            rows = [dict(r) for r in await conn.fetch(ITEMS_SQL)]
        return await asyncio.to_thread(build_index, rows)

    return await rt.cache.get_or_build(
        ("meta", "garbage-items", version), build, tag=((VERSION_ID, version),), cost=lambda i: i.nbytes
    )
