"""Sample facilities that widen the 1号区域 (schools, 保育所, hospitals, …), some beside industrial zones."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely import Geometry
from shapely.geometry import Point

from gis.sample.common import IMARI, PREFIX, TAKEO, Inputs, Town, feature, lonlat_of, point_near, to_metric

TYPES = [
    "小学校",
    "中学校",
    "高等学校",
    "保育所",
    "幼保連携型認定こども園",
    "病院",
    "診療所",
    "図書館",
    "特別養護老人ホーム",
]
_COUNTS = {
    IMARI: {
        "小学校": 7,
        "中学校": 3,
        "高等学校": 2,
        "保育所": 4,
        "幼保連携型認定こども園": 2,
        "病院": 2,
        "診療所": 4,
        "図書館": 1,
        "特別養護老人ホーム": 2,
    },
    TAKEO: {
        "小学校": 6,
        "中学校": 3,
        "高等学校": 2,
        "保育所": 3,
        "幼保連携型認定こども園": 2,
        "病院": 2,
        "診療所": 3,
        "図書館": 1,
        "特別養護老人ホーム": 2,
    },
}
# Types placed 20–70 m from an industrial zone, so the 80 m buffer reaches into it.
_BY_INDUSTRY = {
    IMARI: ["中学校", "保育所", "幼保連携型認定こども園"],
    TAKEO: ["小学校", "保育所", "診療所", "特別養護老人ホーム"],
}
_INDUSTRIAL = ("準工業地域", "工業地域", "工業専用地域")
# Zones where a type may not be built (建築基準法 別表第二, simplified); the default is _NO_SCHOOLS.
_NO_SCHOOLS = ("工業地域", "工業専用地域")
_BANNED: dict[str, tuple[str, ...]] = {
    "保育所": (),
    "診療所": (),
    "病院": ("第1種低層住居専用地域", "第2種低層住居専用地域", "工業地域", "工業専用地域"),
}
_URBAN_TYPES = {"高等学校", "病院", "図書館"}
# Kinds with real rows now (MHLW hospitals and 特養, the schools of the GSI shelter list): the generator still draws
# them (so every other sample file stays the same) but they are not written.
REAL_KINDS = frozenset({"小学校", "中学校", "病院", "特別養護老人ホーム"})


def _name(kind: str, town: Town) -> str:
    """A sample display name for a facility of this type in this town."""
    s = town.short
    return (
        PREFIX
        + {
            "小学校": f"{s}小学校",
            "中学校": f"{s}中学校",
            "高等学校": f"{s}高等学校",
            "保育所": f"{s}保育所",
            "幼保連携型認定こども園": f"{s}こども園",
            "病院": f"{s}病院",
            "診療所": f"{s}診療所",
            "図書館": f"{s}図書館",
            "特別養護老人ホーム": f"特別養護老人ホーム{s}苑",
        }[kind]
    )


def _beds(rng: np.random.Generator, kind: str, by_industry: bool) -> int | None:
    """病床数: 20–300 for 病院, 0 or 1–19 for 診療所 (always with beds beside industry), else None."""
    if kind == "病院":
        return int(rng.integers(20, 301))
    if kind == "診療所":
        return int(rng.integers(1, 20)) if by_industry or rng.random() < 0.5 else 0
    return None


def _beside(rng: np.random.Generator, zone_m: Geometry, ok: Geometry) -> Point:
    """A point 20–70 m outside an industrial zone polygon, inside the allowed area ok."""
    part = max(shapely.get_parts(zone_m), key=lambda g: g.area)
    ring = part.buffer(rng.uniform(20, 70)).exterior
    for _ in range(200):
        p = ring.interpolate(rng.uniform(0, ring.length))
        if ok.contains(p):
            return p
    raise RuntimeError("no land beside the industrial zone")


def _place(rng: np.random.Generator, town: Town, areas: list[Geometry]) -> Point:
    """A point 80–600 m from the town in the first of the areas that has room (the last is the fallback)."""
    for area in areas[:-1]:
        try:
            return point_near(rng, town.x, town.y, 80, 600, area, tries=60)
        except RuntimeError:
            continue
    return point_near(rng, town.x, town.y, 80, 500, areas[-1])


def facilities(
    inputs: Inputs, rng: np.random.Generator, zones: dict[str, list[tuple[str, Geometry]]], urban: dict[str, list[Town]]
) -> list[dict[str, Any]]:
    """Sample facility features; zones (lon/lat) and urban towns are per city."""
    out = []
    for city in (IMARI, TAKEO):
        land = inputs.land_m[city].buffer(-5)
        zones_m = [(n, to_metric(g)) for n, g in zones[city]]
        zoned = shapely.union_all([g for _, g in zones_m]).buffer(-10)
        ok_by_kind: dict[str, Geometry] = {}
        near_by_kind: dict[str, Geometry] = {}
        for kind in TYPES:
            banned = shapely.union_all([g for n, g in zones_m if n in _BANNED.get(kind, _NO_SCHOOLS)])
            ok_by_kind[kind] = land.difference(banned.buffer(5))
            near_by_kind[kind] = ok_by_kind[kind].intersection(zoned)
            shapely.prepare(ok_by_kind[kind])
            shapely.prepare(near_by_kind[kind])
        towns = [t for t in inputs.city_towns(city) if not t.koaza]
        urban_labels = {t.label for t in urban[city]}
        industrial = [g for n, g in zones_m if n in _INDUSTRIAL]
        spare = list(_BY_INDUSTRY[city])
        names: set[str] = set()
        for kind in TYPES:
            ok = ok_by_kind[kind]
            for _ in range(_COUNTS[city][kind]):
                by_industry = kind in spare
                if by_industry:
                    spare.remove(kind)
                    p = _beside(rng, industrial[int(rng.integers(len(industrial)))], ok)
                    free = [t for t in towns if _name(kind, t) not in names]
                    town = min(free, key=lambda t: (t.x - p.x) ** 2 + (t.y - p.y) ** 2)
                else:
                    pool = urban[city] if kind in _URBAN_TYPES else towns
                    pool = [t for t in pool if _name(kind, t) not in names] or towns
                    town = pool[int(rng.integers(len(pool)))]
                    areas = [near_by_kind[kind], ok] if town.label in urban_labels else [ok]
                    p = _place(rng, town, areas)
                name = _name(kind, town)
                names.add(name)
                beds = _beds(rng, kind, by_industry)
                props = {
                    "name": name,
                    "facility_type": kind,
                    "beds": beds,
                    "widens_1go": bool(beds) if kind in ("病院", "診療所") else True,
                    "address": town.address,
                    "sample": True,
                    "city_code": city,
                }
                out.append(feature(props, Point(*lonlat_of(p.x, p.y))))
    return sorted(
        out,
        key=lambda f: (
            f["properties"]["city_code"],
            TYPES.index(f["properties"]["facility_type"]),
            f["properties"]["name"],
        ),
    )
