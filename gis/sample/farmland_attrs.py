"""Sample farmland: MAFF 筆ポリゴン features plus the parcels' ledger facts the ledger and crop files are made from.

`parcels` draws, per polygon, the MAFF columns and the 台帳 facts of the land under it (大字, 地番, area, classes,
intention, lease, cultivator, names); gis/sample/farmland_ledger.py turns those into the 農地台帳 and 作付 CSVs
with their many-to-many cases. Every name is fake and contains 見本.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import Geometry

from gis.sample.common import LG_CODES, Inputs, dumps, fake_name, feature, rng_uuid, snap, to_lonlat
from gis.sample.farmland import Block

NOUSHIN = ["農用地区域内", "農振地域内（農用地区域外）", "農振地域外"]
ISSUE_YEAR = 2025


@dataclass
class Parcels:
    """The polygons (lon/lat and metric), their MAFF properties and the 台帳 facts per polygon."""

    lonlat: np.ndarray
    metric: np.ndarray
    block_of: np.ndarray
    near_zoning: np.ndarray
    maff: list[dict[str, Any]]
    facts: list[dict[str, Any]]


def _chiban(rng: np.random.Generator, oaza: np.ndarray) -> list[str]:
    """地番 per parcel, increasing in generation order within each 大字, some with 枝番; unique per 大字."""
    base: dict[str, int] = {}
    branch: dict[str, int] = {}
    out = []
    for name in oaza:
        if name in base and rng.random() < 0.15:
            branch[name] += 1
            out.append(f"{base[name]}-{branch[name]}")
            continue
        base[name] = base[name] + int(rng.integers(1, 9)) if name in base else int(rng.integers(20, 1500))
        branch[name] = 1
        out.append(str(base[name]))
    return out


def _cultivator_name(rng: np.random.Generator, no: int) -> str:
    """A fake cultivator: mostly a person, sometimes a farm company; always marked 見本."""
    roll = rng.random()
    if roll < 0.08:
        return f"株式会社見本ファーム{no % 97}"
    if roll < 0.14:
        return f"農事組合法人見本{no % 89}営農組合"
    return fake_name(rng)


def chiban_key(c: str) -> tuple[int, int]:
    """Numeric sort key of a 地番 such as 1234-2."""
    head, _, tail = c.partition("-")
    return int(head), int(tail or 0)


def _oaza(inputs: Inputs, city: np.ndarray, metric: np.ndarray) -> np.ndarray:
    """Each parcel's 大字: the nearest town of its city."""
    mc = shapely.centroid(metric)
    mx, my = shapely.get_x(mc), shapely.get_y(mc)
    oaza = np.empty(len(metric), dtype=object)
    for c in np.unique(city):
        towns = inputs.city_towns(str(c))
        sel = city == c
        d = (mx[sel, None] - np.array([t.x for t in towns])) ** 2 + (
            my[sel, None] - np.array([t.y for t in towns])
        ) ** 2
        oaza[sel] = [towns[int(i)].oaza for i in d.argmin(axis=1)]
    return oaza


def _maff(rng: np.random.Generator, land_type: int, city: str, lng: float, lat: float) -> dict[str, Any]:
    """The MAFF 筆ポリゴン properties of one polygon (plus the sample flag and city code)."""
    edit_year = int(rng.integers(2019, 2025))
    roll = rng.random()
    new = roll < 0.18
    history = (
        [{"type": "発生", "year": edit_year}] if new else ([{"type": "関連", "year": edit_year}] if roll > 0.96 else [])
    )
    last = None if new else rng_uuid(rng)
    prev = rng_uuid(rng) if last and rng.random() < 0.8 else None
    return {
        "polygon_uuid": rng_uuid(rng),
        "land_type": land_type,
        "issue_year": ISSUE_YEAR,
        "edit_year": edit_year,
        "history": dumps(history),
        "last_polygon_uuid": last,
        "prev_last_polygon_uuid": prev,
        "local_government_cd": LG_CODES[city],
        "point_lng": lng,
        "point_lat": lat,
        "sample": True,
        "city_code": city,
    }


def parcels(inputs: Inputs, rng: np.random.Generator, blocks: list[Block], planning_ll: Geometry) -> Parcels:
    """The polygons of the blocks, sorted by city, 大字 and 地番, with their MAFF columns and 台帳 facts."""
    metric = np.concatenate([b.parcels for b in blocks])
    n = len(metric)
    block_of = np.concatenate([np.full(len(b.parcels), i) for i, b in enumerate(blocks)])
    city = np.array([blocks[i].city for i in block_of])
    land_type = np.concatenate([b.land_types for b in blocks])
    lonlat = snap(to_lonlat(metric))
    cent = shapely.centroid(lonlat)
    lng, lat = np.round(shapely.get_x(cent), 7), np.round(shapely.get_y(cent), 7)
    oaza = _oaza(inputs, city, metric)
    chiban = _chiban(rng, oaza)
    area = np.round(shapely.area(metric) * rng.uniform(0.971, 1.029, n), 1)
    shapely.prepare(planning_ll)
    in_plan = shapely.contains_xy(planning_ll, lng, lat)

    # Per block: 農振 class (contiguous in reality) and 1–4 cultivators.
    noushin_p = {True: [0.3, 0.4, 0.3], False: [0.78, 0.17, 0.05]}
    block_noushin = [NOUSHIN[int(rng.choice(3, p=noushin_p[b.near_zoning]))] for b in blocks]
    next_no = int(rng.integers(100, 400))
    block_cult: list[list[int]] = []
    names: dict[int, str] = {}
    for _ in blocks:
        k = int(rng.integers(1, 5))
        block_cult.append(list(range(next_no, next_no + k)))
        for no in block_cult[-1]:
            names[no] = _cultivator_name(rng, no)
        next_no += k + int(rng.integers(0, 3))

    rows = []
    for i in range(n):
        b = int(block_of[i])
        maff = _maff(rng, int(land_type[i]), str(city[i]), float(lng[i]), float(lat[i]))
        cultivated = rng.random() > 0.08
        no = block_cult[b][int(rng.integers(len(block_cult[b])))] if cultivated else None
        lease = None
        if no is not None and rng.random() < 0.4:
            lease = "賃借権" if rng.random() < 0.75 else "使用貸借による権利"
        lease_end = (
            f"{int(rng.integers(2025, 2035))}-{['03-31', '09-30', '12-31'][int(rng.integers(3))]}" if lease else None
        )
        intention = None
        if rng.random() < (0.091 if cultivated else 0.17):
            intention = "貸付希望" if rng.random() < 0.7 else "売渡希望"
        facts = {
            "city_code": str(city[i]),
            "oaza": oaza[i],
            "chiban": chiban[i],
            "area_m2": float(area[i]),
            "noushin_kubun": block_noushin[b],
            "toshi_kubun": "非線引き都市計画区域" if in_plan[i] else "都市計画区域外",
            "intention": intention,
            "cultivated": cultivated,
            "cultivator_no": f"K-{no:06d}" if no is not None else None,
            "lease_type": lease,
            "lease_end": lease_end,
            "chukan_kanri": bool(lease == "賃借権" and rng.random() < 0.35),
            "idle_measure": "利用意向調査中" if not cultivated and rng.random() < 0.35 else None,
            "owner_name": fake_name(rng),
            "cultivator_name": names[no] if no is not None else None,
        }
        rows.append((maff, facts, i))
    rows.sort(key=lambda r: (r[0]["local_government_cd"], r[1]["oaza"], chiban_key(r[1]["chiban"])))
    order = np.array([i for _, _, i in rows])
    near = np.array([blocks[int(block_of[i])].near_zoning for i in order])
    return Parcels(
        lonlat[order], metric[order], block_of[order], near, [m for m, _, _ in rows], [f for _, f, _ in rows]
    )


def features(p: Parcels) -> list[dict[str, Any]]:
    """GeoJSON features of the polygons in the MAFF 筆ポリゴン schema (no ledger items, no names)."""
    return [feature(m, g) for m, g in zip(p.maff, p.lonlat, strict=True)]
