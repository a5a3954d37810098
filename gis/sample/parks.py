"""Sample Imari parks: rounded rectangles of the size their 種別 implies, near town points."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely import Geometry
from shapely.affinity import rotate, translate
from shapely.geometry import Point, box

from gis.sample.common import IMARI, PREFIX, Inputs, Town, feature, point_near, snap, to_lonlat, to_metric

# (種別, target ha, how many, nearest-town rank range, max offset m)
_PLAN: list[tuple[str, float, int, tuple[int, int], float]] = [
    ("街区公園", 0.25, 6, (0, 10), 450),
    ("近隣公園", 2.0, 3, (3, 16), 600),
    ("地区公園", 4.0, 2, (8, 22), 700),
    ("総合公園", 12.0, 1, (10, 25), 900),
    ("運動公園", 8.0, 1, (14, 30), 900),
]
_FACILITIES = ["遊具", "トイレ", "多機能トイレ", "駐車場", "防災倉庫", "広場", "運動施設"]
# 種別 → (always, sometimes)
_KIT: dict[str, tuple[set[str], set[str]]] = {
    "街区公園": ({"遊具", "広場"}, {"トイレ"}),
    "近隣公園": ({"遊具", "トイレ", "広場"}, {"多機能トイレ", "駐車場"}),
    "地区公園": ({"遊具", "多機能トイレ", "駐車場", "広場"}, {"防災倉庫", "トイレ"}),
    "総合公園": ({"遊具", "トイレ", "多機能トイレ", "駐車場", "防災倉庫", "広場", "運動施設"}, set()),
    "運動公園": ({"トイレ", "多機能トイレ", "駐車場", "運動施設"}, {"防災倉庫", "広場"}),
}


def _shape(rng: np.random.Generator, centre: Point, hectares: float) -> Geometry:
    """A rotated rectangle with rounded corners of about the given area (metric)."""
    area = hectares * 1e4 * rng.uniform(0.85, 1.2)
    aspect = rng.uniform(1.0, 1.7)
    w = float(np.sqrt(area / aspect))
    h = w * aspect
    r = min(w, h) * 0.12
    rect = box(-w / 2 + r, -h / 2 + r, w / 2 - r, h / 2 - r).buffer(r, quad_segs=3)
    return translate(rotate(rect, rng.uniform(0, 180), origin=(0, 0)), centre.x, centre.y)


def imari_parks(inputs: Inputs, rng: np.random.Generator, centre: Town) -> list[tuple[dict[str, Any], Geometry]]:
    """Sample parks as (properties, lon/lat polygon), sorted by name."""
    land = inputs.land_m[IMARI].buffer(-10)
    shapely.prepare(land)
    towns = sorted(inputs.city_towns(IMARI), key=lambda t: (t.x - centre.x) ** 2 + (t.y - centre.y) ** 2)
    placed: list[Geometry] = []
    used: set[str] = set()
    out = []
    for kind, hectares, count, (lo, hi), reach in _PLAN:
        for _ in range(count):
            for _attempt in range(200):
                town = towns[int(rng.integers(lo, hi))]
                if town.short in used:
                    continue
                p = point_near(rng, town.x, town.y, 60, reach, land)
                poly = _shape(rng, p, hectares)
                if land.contains(poly) and not any(poly.distance(q) < 40 for q in placed):
                    break
            else:
                raise RuntimeError(f"could not place a {kind}")
            used.add(town.short)
            placed.append(poly)
            geom = snap(to_lonlat(poly))
            always, sometimes = _KIT[kind]
            kit = always | {f for f in sorted(sometimes) if rng.random() < 0.5}
            props = {
                "name": f"{PREFIX}{town.short}{kind}",
                "park_type": kind,
                "function": "公園",
                "area_ha": round(to_metric(geom).area / 1e4, 2),
                "facilities": "、".join(f for f in _FACILITIES if f in kit),
                "sample": True,
                "city_code": IMARI,
            }
            out.append((props, geom))
    return sorted(out, key=lambda pg: pg[0]["name"])


def park_features(parks: list[tuple[dict[str, Any], Geometry]]) -> list[dict[str, Any]]:
    """GeoJSON features of the sample parks."""
    return [feature(p, g) for p, g in parks]
