"""Sample Imari 用途地域 and 都市計画区域: Voronoi cells around the centre, typed by distance and direction."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely import Geometry
from shapely.geometry import LineString, MultiPoint, Point
from shapely.ops import nearest_points

from gis.sample.common import IMARI, PREFIX, Inputs, feature, snap, to_lonlat, to_metric

# name → (建ぺい率 %, 容積率 %, 高さの限度 m); the standard combinations of the 12 zones.
ZONES: dict[str, tuple[int, int, int | None]] = {
    "第1種低層住居専用地域": (50, 80, 10),
    "第2種低層住居専用地域": (60, 100, 10),
    "第1種中高層住居専用地域": (60, 200, None),
    "第2種中高層住居専用地域": (60, 200, None),
    "第1種住居地域": (60, 200, None),
    "第2種住居地域": (60, 200, None),
    "準住居地域": (60, 200, None),
    "近隣商業地域": (80, 200, None),
    "商業地域": (80, 400, None),
    "準工業地域": (60, 200, None),
    "工業地域": (60, 200, None),
    "工業専用地域": (60, 200, None),
}
ORDER = list(ZONES)

# Residential rings around a centre; cells in a ring are typed in turn by bearing, so neighbours differ.
_RING_2 = ["第1種住居地域", "第2種住居地域", "第1種住居地域", "準住居地域"]
_RING_3 = ["第1種中高層住居専用地域", "第1種住居地域", "第2種中高層住居専用地域", "第1種中高層住居専用地域"]
_RING_4 = ["第1種低層住居専用地域", "第2種低層住居専用地域", "第1種中高層住居専用地域", "第1種低層住居専用地域"]

CENTRE_TOWN = "伊万里町甲"
SECOND_TOWNS = ("山代町楠久", "山代町楠久津")


def _cells(rng: np.random.Generator, area: Geometry, n: int, rounds: int = 3) -> list[Geometry]:
    """n Voronoi cells covering area, relaxed by Lloyd rounds so they are of similar size."""
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    seeds: list[Point] = []
    while len(seeds) < n:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if area.contains(p):
            seeds.append(p)
    cells: list[Geometry] = []
    for _ in range(rounds + 1):
        vor = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=area, ordered=True)
        cells = [c.intersection(area) for c in vor.geoms]
        seeds = [c.centroid if not c.is_empty else s for c, s in zip(cells, seeds, strict=True)]
    return [c for c in cells if c.area > 1.0]


def _typed(
    cells: list[Geometry], centre: Point, port: Point, rings: tuple[float, ...], industry: tuple[float, ...]
) -> list[str]:
    """Zone name per cell: commerce at the centre, industry toward the port, housing in rings."""
    u = np.array([port.x - centre.x, port.y - centre.y])
    reach = float(np.hypot(*u))
    u /= reach
    names: list[str] = []
    ring_members: dict[int, list[tuple[float, int]]] = {2: [], 3: [], 4: []}
    for i, c in enumerate(cells):
        p = c.centroid
        v = np.array([p.x - centre.x, p.y - centre.y])
        d = float(np.hypot(*v))
        along = float(v @ u) / reach
        angle = float(np.degrees(np.arccos(np.clip(v @ u / max(d, 1e-9), -1, 1))))
        if d < rings[0]:
            names.append("商業地域")
        elif d < rings[1]:
            names.append("近隣商業地域")
        elif angle < 55 and along > industry[0]:
            names.append("工業専用地域" if along > industry[2] else "工業地域" if along > industry[1] else "準工業地域")
        else:
            ring = 2 if d < rings[2] else 3 if d < rings[3] else 4
            ring_members[ring].append((float(np.arctan2(v[1], v[0])), i))
            names.append("")
    for ring, members in ring_members.items():
        cycle = {2: _RING_2, 3: _RING_3, 4: _RING_4}[ring]
        for k, (_, i) in enumerate(sorted(members)):
            names[i] = cycle[k % len(cycle)]
    return names


def _area_near(
    towns: list[Point], centre: Point, port: Point, r_centre: float, r_town: float, r_port: float, land: Geometry
) -> Geometry:
    """A smooth urban envelope: the centre, nearby towns and a corridor to the port, on land."""
    corridor = LineString([centre, shapely.line_interpolate_point(LineString([centre, port]), 0.88, normalized=True)])
    shapes = [centre.buffer(r_centre), corridor.buffer(r_port)] + [t.buffer(r_town) for t in towns]
    # A closing (grow then shrink) fills the notches between the discs; simplify gives straight, road-like edges.
    env = shapely.union_all(shapes).buffer(600, quad_segs=4).buffer(-600).simplify(40)
    return env.intersection(land.buffer(-5))


def _nearest_coast(inputs: Inputs, p: Point) -> Point:
    """The nearest point of Imari's sea coast to p."""
    return nearest_points(inputs.imari_coast_m, p)[0]


def imari_zoning(inputs: Inputs, rng: np.random.Generator) -> list[tuple[str, Geometry]]:
    """Sample Imari zoning as (zone name, lon/lat geometry), not overlapping and clipped to land."""
    towns = {t.oaza + t.koaza: t for t in inputs.city_towns(IMARI)}
    land_m, land_ll = inputs.land_m[IMARI], inputs.land_ll[IMARI]
    c = towns[CENTRE_TOWN]
    centre = Point(c.x, c.y)
    port = _nearest_coast(inputs, centre)
    near = [Point(t.x, t.y) for t in towns.values() if Point(t.x, t.y).distance(centre) < 1900]
    main = _area_near(near, centre, port, 1250, 450, 600, land_m)
    cells = _cells(rng, main, 44)
    names = _typed(cells, centre, port, (380, 760, 1150, 1600), (0.35, 0.6, 0.8))

    k1, k2 = (towns[n] for n in SECOND_TOWNS)
    k_centre = Point((k1.x + k2.x) / 2, (k1.y + k2.y) / 2)
    k_port = _nearest_coast(inputs, k_centre)
    second = _area_near([Point(k1.x, k1.y), Point(k2.x, k2.y)], k_centre, k_port, 520, 420, 300, land_m)
    second = second.difference(main.buffer(30))
    k_cells = _cells(rng, second, 9)
    k_names = _typed(k_cells, k_centre, k_port, (0, 260, 520, 700), (0.25, 0.6, 9.0))

    out = []
    for name in ORDER:
        parts = [g for g, n in zip(cells + k_cells, names + k_names, strict=True) if n == name]
        if not parts:
            continue
        merged = shapely.union_all(parts)
        for part in shapely.get_parts(merged):
            if part.area < 3000:
                continue
            geom = snap(to_lonlat(part).intersection(land_ll))
            if not geom.is_empty:
                out.append((name, geom))
    return out


def zoning_features(zones: list[tuple[str, Geometry]]) -> list[dict[str, Any]]:
    """GeoJSON features of the sample zoning, sorted by zone then position."""
    rows = sorted(zones, key=lambda z: (ORDER.index(z[0]), round(z[1].centroid.x, 6), round(z[1].centroid.y, 6)))
    out = []
    for name, geom in rows:
        kenpei, yoseki, height = ZONES[name]
        props = {
            "youto_name": name,
            "kenpei": kenpei,
            "yoseki": yoseki,
            "height_limit_m": height,
            "custodian": "伊万里市",
            "decision_date": None,
            "sample": True,
            "city_code": IMARI,
        }
        out.append(feature(props, geom))
    return out


def planning_area(inputs: Inputs, zones: list[tuple[str, Geometry]], margin_m: float = 3000) -> Geometry:
    """A sample 都市計画区域: the zoning plus a margin, clipped to Imari land (lon/lat)."""
    zoning_m = shapely.union_all([to_metric(g) for _, g in zones])
    area_m = zoning_m.buffer(margin_m, quad_segs=8).simplify(50)
    return snap(to_lonlat(area_m).intersection(inputs.land_ll[IMARI]))


def planning_features(area: Geometry) -> list[dict[str, Any]]:
    """The one feature of the sample Imari planning area."""
    props = {
        "name": PREFIX + "伊万里都市計画区域",
        "area_classification": "非線引き",
        "custodian": "佐賀県",
        "note": "サンプル: 区域界は実データではない",
        "sample": True,
        "city_code": IMARI,
    }
    return [feature(props, area)]
