"""Precomputed lookup tables over the reference towns: keys, 町 stems, parcels, uncertainty."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from .model import PARCEL, Town
from .normalize import fold_key

MIN_UNCERTAINTY_M = 300.0
MAX_UNCERTAINTY_M = 3000.0
CITY_MIN_UNCERTAINTY_M = 5000.0


def _name_variants(name: str) -> list[str]:
    """Spellings of one 町字 with 大字/字 present or omitted (武雄町大字武雄 = 武雄町武雄 = 武雄町字武雄)."""
    if "大字" in name:
        return [name, name.replace("大字", "", 1), name.replace("大字", "字", 1)]
    cut = name.find("町")
    if 0 < cut < len(name) - 1 and name[cut + 1] != "字":
        # Imari's ××町○○ inherited a 大字 that people sometimes still write.
        head, tail = name[: cut + 1], name[cut + 1 :]
        return [name, f"{head}大字{tail}", f"{head}字{tail}"]
    return [name]


def _stems(key: str) -> list[str]:
    """Proper prefixes of a key that end a 町 part (山代町, 武雄町大字), used for ambiguity."""
    out = []
    for i, c in enumerate(key[:-1]):
        if c != "町":
            continue
        out.append(key[: i + 1])
        if key.startswith("大字", i + 1) and i + 3 < len(key):
            out.append(key[: i + 3])
        elif key.startswith("字", i + 1) and i + 2 < len(key):
            out.append(key[: i + 2])
    return out


def _bare(key: str) -> str | None:
    """The 大字 part of a 町 + 大字 name (朝日町大字甘久 → 甘久, 山代町楠久 → 楠久), when two characters or more."""
    head, sep, tail = key.partition("町")
    tail = tail.removeprefix("大字").removeprefix("字")
    return tail if sep and head and len(tail) >= 2 else None


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Equirectangular is accurate to well under 1 % at city scale.
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371008.8 * math.hypot(x, y)


def _add(table: dict[str, list[Town]], key: str, town: Town) -> None:
    bucket = table.setdefault(key, [])
    if town not in bucket:
        bucket.append(town)


class TownIndex:
    """Dictionaries from folded name keys to towns, per city and across both cities."""

    def __init__(self, towns: Iterable[Town], cities: Mapping[str, tuple[str, float, float]]) -> None:
        self.keys: dict[str, dict[str, list[Town]]] = {code: {} for code in cities}
        self.stems: dict[str, dict[str, list[Town]]] = {code: {} for code in cities}
        # Only 大字/町-level keys take part in typo matching; 小字 typos must not move the 大字.
        # (key, town, length of the key's 町 part) per city.
        self.typo_keys: dict[str, list[tuple[str, Town, int]]] = {code: [] for code in cities}
        self.all_keys: dict[str, list[Town]] = {}
        # The 大字 part alone (甘久 for 朝日町大字甘久), per city and across both: taken only when unique.
        self.bare: dict[str, dict[str, list[Town]]] = {code: {} for code in cities}
        self.all_bare: dict[str, list[Town]] = {}
        self.parcels: dict[tuple[str, str, str], Town] = {}
        self.primary_key: dict[Town, str] = {}
        for town in towns:
            if town.city_code not in self.keys:
                continue
            if town.level == PARCEL and town.chiban:
                self.parcels[(town.city_code, town.name, town.chiban)] = town
                continue
            self._index_town(town)
        self.max_key_len = max((len(k) for table in self.keys.values() for k in table), default=0)
        self.uncertainty = self._town_uncertainty()
        self.city_uncertainty = self._city_uncertainty(cities)

    def _index_town(self, town: Town) -> None:
        keys, stems = self.keys[town.city_code], self.stems[town.city_code]
        names = [town.name, *town.aliases]
        variants = [fold_key(v) for n in names for v in _name_variants(n)]
        self.primary_key[town] = fold_key(town.name)
        if town.koaza:
            koaza = fold_key(town.koaza)
            for v in variants:
                for key in (v + koaza, f"{v}字{koaza}", f"{v}小字{koaza}"):
                    _add(keys, key, town)
                    _add(self.all_keys, key, town)
            return
        bare = _bare(self.primary_key[town])
        if bare:
            _add(self.bare[town.city_code], bare, town)
            _add(self.all_bare, bare, town)
        for key in variants:
            _add(keys, key, town)
            _add(self.all_keys, key, town)
            key_stems = _stems(key)
            self.typo_keys[town.city_code].append((key, town, max(map(len, key_stems), default=0)))
            for stem in key_stems:
                _add(stems, stem, town)

    def _town_uncertainty(self) -> dict[Town, float]:
        """Per-town radius: distance to the nearest other 大字 point of the city, clamped to 300–3000 m."""
        out: dict[Town, float] = {}
        for code in self.keys:
            towns = [t for t in self.primary_key if t.city_code == code and not t.koaza]
            for t in towns:
                near = min(
                    (_distance_m(t.lat, t.lon, o.lat, o.lon) for o in towns if o.name != t.name),
                    default=MAX_UNCERTAINTY_M,
                )
                out[t] = round(min(max(near, MIN_UNCERTAINTY_M), MAX_UNCERTAINTY_M), -1)
        return out

    def _city_uncertainty(self, cities: Mapping[str, tuple[str, float, float]]) -> dict[str, float]:
        """Per-city radius: farthest 大字 point from the city's representative point, at least 5 km."""
        out: dict[str, float] = {}
        for code, (_name, lat, lon) in cities.items():
            far = max(
                (_distance_m(lat, lon, t.lat, t.lon) for t in self.primary_key if t.city_code == code),
                default=0.0,
            )
            out[code] = round(max(far, CITY_MIN_UNCERTAINTY_M), -2)
        return out

    def longest(self, table: Mapping[str, list[Town]], text: str) -> tuple[str, list[Town]] | None:
        """The longest key of `table` that prefixes `text`, with its towns."""
        for length in range(min(self.max_key_len, len(text)), 0, -1):
            hit = table.get(text[:length])
            if hit:
                return text[:length], hit
        return None
