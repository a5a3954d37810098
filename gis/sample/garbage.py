"""Sample garbage collection groups (5374 day rules, their towns) and collection points (集積所) at settlements."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

from gis.sample.common import CITY_NAMES, IMARI, PREFIX, TAKEO, Inputs, Town, dumps, feature, lonlat_of
from gis.sample.garbage_calendar import CENTER

CATEGORIES = {
    IMARI: [
        "もえるごみ",
        "空き缶・金属類・ガラス類・陶磁器・複合素材",
        "ビン類",
        "ペットボトル",
        "発泡スチロール製トレイ",
    ],
    TAKEO: ["燃えるごみ", "燃えないごみ", "資源物", "ペットボトル"],  # unverified for Takeo
}
LETTERS = "ABCDEF"
GROUP_COLUMNS = ["group_id", "city_code", "code", "name", "areas", "area_master", "center", "schedule", "sample"]
TARGETS = {IMARI: 165, TAKEO: 135}
_PAIRS = [("月", "木"), ("火", "金"), ("水", "土")]
_WEEKDAYS = ["月", "火", "水", "木", "金"]
_ACCESS = [
    "車両通行可・段差なし",
    "歩道沿い・段差なし",
    "坂道の途中（手すりなし）",
    "狭い路地（軽トラックのみ）",
    "ボックス型（蓋付き）・段差なし",
    "カラス除けネット設置・段差あり",
]


def _schedule(city: str, k: int) -> dict[str, str]:
    """A 5374-style day rule per category for group number k (no two groups of a city alike)."""
    burn = _PAIRS[k % 3]
    other = [d for d in _WEEKDAYS if d not in burn]
    a, b = other[(2 * (k // 3)) % 3], other[(2 * (k // 3) + 1) % 3]
    cats = CATEGORIES[city]
    if city == IMARI:
        rules = [" ".join(burn), f"{a}1 {a}3", f"{b}2", f"{b}4", f"{a}2 {a}4"]
    else:
        rules = [" ".join(burn), f"{a}2", f"{b}1 {b}3", f"{a}4"]
    return dict(zip(cats, rules, strict=True))


def town_groups(inputs: Inputs, centre: dict[str, Town], urban: dict[str, list[Town]]) -> dict[str, str]:
    """group_id per town label: A for the urban towns, B–F by bearing from the city centre."""
    out = {}
    for city in (IMARI, TAKEO):
        c = centre[city]
        urban_labels = {t.label for t in urban[city]}
        for t in inputs.city_towns(city):
            if t.label in urban_labels:
                letter = "A"
            else:
                bearing = (np.degrees(np.arctan2(t.y - c.y, t.x - c.x)) + 360) % 360
                letter = LETTERS[1 + int(bearing // 72)]
            out[t.label] = f"{city}-{letter}"
    return out


def schedules() -> dict[str, dict[str, str]]:
    """group_id → category → 5374 day rule, for every sample group."""
    return {f"{city}-{letter}": _schedule(city, k) for city in (IMARI, TAKEO) for k, letter in enumerate(LETTERS)}


def groups(group_of: dict[str, str]) -> list[list[str]]:
    """Rows of garbage_groups_sample.csv (GROUP_COLUMNS); areas are the town labels of each group, in CSV order."""
    rows = []
    for city in (IMARI, TAKEO):
        for k, letter in enumerate(LETTERS):
            group_id = f"{city}-{letter}"
            name = f"{PREFIX}{CITY_NAMES[city]} {letter}地区" + ("（中心部）" if letter == "A" else "")
            areas = [label for label, g in group_of.items() if g == group_id]
            schedule = dumps(_schedule(city, k))
            rows.append([group_id, city, letter, name, dumps(areas), "", CENTER, schedule, "true"])
    return rows


def _allocate(weights: list[float], total: int) -> list[int]:
    """Split total over weights (largest remainder), at least one each."""
    w = np.asarray(weights, dtype=float)
    raw = w / w.sum() * (total - len(w))
    n = np.floor(raw).astype(int) + 1
    for i in np.argsort(-(raw - np.floor(raw)), kind="stable")[: total - int(n.sum())]:
        n[i] += 1
    return [int(v) for v in n]


def points(
    inputs: Inputs,
    rng: np.random.Generator,
    group_of: dict[str, str],
    urban: dict[str, list[Town]],
) -> list[dict[str, Any]]:
    """Sample collection points, numbered per city and per town."""
    out = []
    for city in (IMARI, TAKEO):
        land = inputs.land_m[city].buffer(-5)
        shapely.prepare(land)
        towns = inputs.city_towns(city)
        urban_labels = {t.label for t in urban[city]}
        counts = _allocate([6.0 if t.label in urban_labels else 1.0 for t in towns], TARGETS[city])
        placed: list[tuple[Town, Point]] = []
        for town, n in zip(towns, counts, strict=True):
            sigma = 350.0 if town.label in urban_labels else 500.0
            mine: list[Point] = []
            while len(mine) < n:
                r = min(abs(rng.normal(0, sigma)), 1200.0)
                a = rng.uniform(0, 2 * np.pi)
                p = Point(town.x + r * np.cos(a), town.y + r * np.sin(a))
                if land.contains(p) and all(p.distance(q) > 40 for q in mine):
                    mine.append(p)
            # Number from north-west to south-east so 第1 … 第N read naturally on a map.
            placed += [(town, p) for p in sorted(mine, key=lambda q: (round(-q.y, 3), round(q.x, 3)))]
        per_town: dict[str, int] = {}
        for seq, (town, p) in enumerate(placed, start=1):
            per_town[town.label] = per_town.get(town.label, 0) + 1
            k = per_town[town.label]
            group_id = group_of[town.label]
            props = {
                "point_code": f"{city}-{seq:04d}",
                "name": f"{PREFIX}{town.label} 第{k}集積所",
                "district": f"{town.label} {(k - 1) // 3 + 1}区",
                "group_id": group_id,
                "categories": ",".join(CATEGORIES[city]),  # every group takes all categories
                "contact_org": f"{town.label}区長会",
                "accessibility": _ACCESS[int(rng.integers(len(_ACCESS)))],
                "sample": True,
                "city_code": city,
            }
            out.append(feature(props, Point(*lonlat_of(p.x, p.y))))
    return sorted(out, key=lambda f: f["properties"]["point_code"])
