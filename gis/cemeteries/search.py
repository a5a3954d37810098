"""Finding a cemetery by name: kanji, hiragana, katakana (full or half width), romaji, small typos.

The index is built in memory once per version of the cemeteries layer (through the one cache) from every row's
published items. Each cemetery has keys in two families, compared with the matching form of the query:

- kana: the name (without the 「（サンプル）」 label) NFKC-normalised with katakana folded to hiragana, its reading
  (名称_カナ, else pykakasi's), and the organisation that runs it (経営者名称; a person's name is never published);
- romaji: pykakasi's Hepburn of the reading, reduced to a spelling-neutral key (shi/si, tsu/tu, long vowels);
- voiceless: the readings without dakuten/handakuten (なかやまでら and なかやまてら meet: place-name readings are
  often voiced where a dictionary reading is not), at 0.9 of the score.

A key equal to the query scores 100, a key starting with it 90-99, containing it 75-89, and a close spelling
(rapidfuzz Indel ratio ≥ 70, or a close window of a longer key) at most 80. The operator's name counts a little less
than the cemetery's own (a temple's name finds its cemetery first).
"""

from __future__ import annotations

import asyncio
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import orjson
from rapidfuzz import fuzz, process

from gis.cemeteries.sql import rows_sql
from gis.garbage.search import fold, reading, romaji_key
from gis.runtime import Runtime
from layers.cemeteries import LAYER

FUZZY_MIN = 70  # rapidfuzz ratio of a whole key
PARTIAL_MIN = 80  # rapidfuzz partial ratio (the query against the best window of a longer key)
OPERATOR_WEIGHT = 0.9
VOICELESS_WEIGHT = 0.9
_VOICING = dict.fromkeys(map(ord, "\u3099\u309a"))
# The label sample rows carry before their names: not part of the name people type.
_SAMPLE_LABEL = re.compile(r"^[（(]サンプル[）)]\s*")


def strip_label(text: str) -> str:
    """A name without the sample label (「（サンプル）中山寺墓地」 → 「中山寺墓地」)."""
    return _SAMPLE_LABEL.sub("", unicodedata.normalize("NFKC", text).strip())


def voiceless(kana: str) -> str:
    """Kana without voicing marks (で → て, ぱ → は); other characters unchanged."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", kana).translate(_VOICING))


def _score(query: str, key: str) -> tuple[float, str] | None:
    if key == query:
        return 100.0, "exact"
    if key.startswith(query):
        return 90 + 9 * len(query) / len(key), "prefix"
    if query in key:
        return 75 + 14 * len(query) / len(key), "contains"
    return None


@dataclass
class Family:
    """Keys of one kind, the cemetery each belongs to, the field it came from and its weight."""

    keys: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def add(self, key: str, owner: int, name: str, weight: float = 1.0) -> None:
        """One more key (empty and repeated keys of the same owner are skipped)."""
        if key and not any(k == key and o == owner for k, o in zip(self.keys, self.owners, strict=True)):
            self.keys.append(key)
            self.owners.append(owner)
            self.fields.append(name)
            self.weights.append(weight)

    def match(self, query: str, found: dict[int, tuple[float, str]], min_contains: int, min_fuzzy: int) -> None:
        """Record each owner's best score for the query (exact, prefix, contains, then close spellings)."""
        if not query:
            return

        def best(i: int, score: float, how: str) -> None:
            owner, score = self.owners[i], score * self.weights[i]
            if owner not in found or score > found[owner][0]:
                found[owner] = (score, f"{how}:{self.fields[i]}")

        for i, key in enumerate(self.keys):
            hit = _score(query, key)
            if hit and (hit[1] != "contains" or len(query) >= min_contains):
                best(i, hit[0], hit[1])
        if len(query) < min_fuzzy:
            return
        for _, ratio, i in process.extract(query, self.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN, limit=None):
            best(i, 0.8 * ratio, "fuzzy")
        partial = process.extract(query, self.keys, scorer=fuzz.partial_ratio, score_cutoff=PARTIAL_MIN, limit=None)
        for _, ratio, i in partial:
            if len(self.keys[i]) > len(query):
                best(i, 0.7 * ratio, "fuzzy")


@dataclass
class Query:
    """The forms of one query, one per family."""

    kana: str
    read: str  # the reading of a query holding kanji ("" otherwise, or when too short to mean one thing)
    romaji: str  # only for a query with Latin letters

    @classmethod
    def of(cls, q: str) -> Query:
        """Normalise the query (without a sample label) and read it with pykakasi."""
        text = strip_label(q)
        kana = fold(text)
        hira, hepburn = reading(text)
        read = fold(hira)
        read = read if read != kana and len(read) >= 3 else ""
        latin = any("a" <= ch <= "z" for ch in kana)
        return cls(kana, read, romaji_key(hepburn) if latin else "")


@dataclass
class CemeteryIndex:
    """Every cemetery with its keys; `search` is pure Python over a few hundred short strings."""

    items: list[dict[str, Any]]
    kana: Family
    romaji: Family
    voiceless: Family
    nbytes: int = 0

    def search(self, q: str, city: str | None, limit: int) -> list[dict[str, Any]]:
        """Cemeteries best matching q, best first (ties: the shorter name, then the id)."""
        query = Query.of(q)
        found: dict[int, tuple[float, str]] = {}
        self.kana.match(query.kana, found, min_contains=1, min_fuzzy=3)
        read: dict[int, tuple[float, str]] = {}
        self.kana.match(query.read, read, min_contains=3, min_fuzzy=3)
        self.romaji.match(query.romaji, found, min_contains=3, min_fuzzy=4)
        for text in dict.fromkeys((voiceless(query.kana), voiceless(query.read))):
            self.voiceless.match(text, read, min_contains=3, min_fuzzy=3)
        for owner, (score, how) in read.items():  # a kanji query's reading: a little less sure than its spelling
            if owner not in found or 0.95 * score > found[owner][0]:
                found[owner] = (0.95 * score, how)
        hits = [(i, s) for i, s in found.items() if city is None or self.items[i]["city_code"] == city]
        hits.sort(key=lambda kv: (-kv[1][0], len(self.items[kv[0]]["name"]), self.items[kv[0]]["id"]))
        return [self.items[i] | {"match": how, "score": round(score, 1)} for i, (score, how) in hits[:limit]]

    def provenance(self, city: str | None) -> tuple[list[int], bool]:
        """The source ids and sample flag of the cemeteries searched."""
        rows = [i for i in self.items if city is None or i["city_code"] == city]
        return sorted({i["_source"] for i in rows}), any(i["sample"] for i in rows)


def build_index(rows: list[dict[str, Any]]) -> CemeteryIndex:
    """Index the cemeteries (readings from pykakasi where 名称_カナ is empty); runs off the event loop."""
    kana, romaji, unvoiced = Family(), Family(), Family()
    size = 0
    for owner, row in enumerate(rows):
        name = strip_label(row["name"])
        hira, hepburn = reading(name)
        kana.add(fold(name), owner, "name")
        kana.add(fold(row.get("name_kana") or ""), owner, "name_kana")
        kana.add(fold(hira), owner, "reading")
        unvoiced.add(voiceless(fold(row.get("name_kana") or "")), owner, "name_kana", VOICELESS_WEIGHT)
        unvoiced.add(voiceless(fold(hira)), owner, "reading", VOICELESS_WEIGHT)
        romaji.add(romaji_key(hepburn), owner, "romaji")
        if row.get("name_kana"):
            romaji.add(romaji_key(reading(row["name_kana"])[1]), owner, "romaji")
        if row.get("operator_name"):
            kana.add(fold(strip_label(row["operator_name"])), owner, "operator_name", OPERATOR_WEIGHT)
        size += len(orjson.dumps(row)) * 4 + 800
    return CemeteryIndex(rows, kana, romaji, unvoiced, nbytes=size + sys.getsizeof(rows))


async def cached_index(rt: Runtime, version: int) -> CemeteryIndex:
    """The index for this version of the cemeteries layer: built once (concurrent callers share it), then cached."""

    async def build() -> CemeteryIndex:
        async with rt.public_conn() as conn:
            rows = orjson.loads(await conn.fetchval(rows_sql()))
        return await asyncio.to_thread(build_index, rows)

    return await rt.cache.get_or_build(
        ("meta", "cemetery-index", version), build, tag=((LAYER.id, version),), cost=lambda i: i.nbytes
    )
