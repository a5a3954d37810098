"""Place names from our own layers (stations, bus stops, schools, shelters, parks, cemeteries, public buildings).

A layer whose `label` is a name people search for declares `place_names=True`. The names are read through the
public role with the address reference, and tried only when the address path found no 大字/町: a place name never
overrides an address. One place (or several rows that are the same place, such as the platforms of one station)
answers with its position and an honest uncertainty (a polygon's reach from its inner point); several different
places with that name answer as candidates.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from gis.cities import CITIES, PREFECTURE
from gis.geocode.normalize import fold_key
from layers import LAYERS
from layers.base import Layer

LANDMARK = "landmark"
POINT_UNCERTAINTY_M = 30.0  # a stop or a building's point: where its entrance may be
SAME_PLACE_M = 400.0  # rows of one name within this distance are one place (a station's stops)
MIN_PREFIX = 3  # a typed name at least this long may match names that start with it (武雄温泉駅 → 武雄温泉駅前)
_SUFFIXES = ("バス停", "停留所", "前")
_FOLD_SPACE = re.compile(r"[\s・･]")


@dataclass(frozen=True)
class Place:
    """One named row of a layer: where it is and how far it reaches."""

    layer: str
    name: str
    city_code: str
    lat: float
    lon: float
    reach_m: float
    sample: bool


def place_layers() -> list[Layer]:
    """The layers whose labels are searchable place names."""
    return [layer for layer in LAYERS.values() if layer.place_names and layer.label]


def places_sql() -> str | None:
    """One statement reading every searchable name: inner point, reach from it in metres, sample flag."""
    parts = []
    for layer in place_layers():
        parts.append(
            f"""SELECT '{layer.id}' AS layer, t."{layer.label}" AS name, t.city_code, ST_Y(p) AS lat, ST_X(p) AS lon,
                   ST_Length(ST_LongestLine(p, t.geom)::geography) AS reach_m, coalesce(t.sample, false) AS sample
            FROM "{layer.id}" t CROSS JOIN LATERAL (SELECT ST_PointOnSurface(t.geom) AS p) q
            WHERE t."{layer.label}" IS NOT NULL AND t."{layer.label}" <> ''"""
        )
    return "\nUNION ALL\n".join(parts) if parts else None


def name_key(text: str) -> str:
    """A place name as a matching key: widths, spaces and ヶ/ケ/の folded."""
    return fold_key(_FOLD_SPACE.sub("", unicodedata.normalize("NFKC", text)))


def _distance_m(a: Place, b: Place) -> float:
    dy = (a.lat - b.lat) * 111_000
    dx = (a.lon - b.lon) * 111_000 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


def _groups(places: list[Place]) -> list[list[Place]]:
    """Rows within SAME_PLACE_M of the first of a group are that place (greedy; names are few per key)."""
    groups: list[list[Place]] = []
    for p in places:
        for g in groups:
            if g[0].city_code == p.city_code and _distance_m(g[0], p) <= SAME_PLACE_M:
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


class Landmarks:
    """Searchable place names, keyed by name_key."""

    def __init__(self, rows: list[Place]) -> None:
        self.by_key: dict[str, list[Place]] = defaultdict(list)
        for p in rows:
            self.by_key[name_key(p.name)].append(p)

    def __len__(self) -> int:
        return len(self.by_key)

    def find(self, text: str, city_code: str | None = None) -> list[list[Place]]:
        """The places a typed name means: exact name first, else names starting with it (or it minus 前/バス停)."""
        key = name_key(text)
        for city in CITIES.values():  # 「武雄市 武雄温泉駅」: the city narrows, the rest is the name
            for prefix in (PREFECTURE + city.name, city.name):
                if key.startswith(prefix) and len(key) > len(prefix):
                    city_code, key = city.code, key[len(prefix) :]
                    break
        if not key:
            return []
        hits = list(self.by_key.get(key, []))
        if not hits and len(key) >= MIN_PREFIX:
            stem = key
            for suffix in _SUFFIXES:
                stem = stem.removesuffix(suffix)
            hits = [p for k, ps in self.by_key.items() if k.startswith(stem) for p in ps]
        if city_code:
            hits = [p for p in hits if p.city_code == city_code]
        return _groups(hits)


def place_answer(group: list[Place]) -> dict:
    """The centre of one place and an uncertainty that covers all its rows."""
    lat = sum(p.lat for p in group) / len(group)
    lon = sum(p.lon for p in group) / len(group)
    centre = Place(group[0].layer, group[0].name, group[0].city_code, lat, lon, 0, False)
    reach = max(_distance_m(centre, p) + max(p.reach_m, POINT_UNCERTAINTY_M) for p in group)
    return {
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "uncertainty_m": round(reach, 1),
        "name": group[0].name,
        "layer": group[0].layer,
        "layer_title": LAYERS[group[0].layer].title,
        "city_code": group[0].city_code,
        "sample": any(p.sample for p in group),
    }


def candidate(group: list[Place]) -> dict:
    """A place offered as a candidate when a name means several."""
    a = place_answer(group)
    return {
        "city_code": a["city_code"],
        "town": a["name"],
        "koaza": f"（{a['layer_title']}{'・サンプル' if a['sample'] else ''}）",
        "lat": a["lat"],
        "lon": a["lon"],
        "layer": a["layer"],
    }
