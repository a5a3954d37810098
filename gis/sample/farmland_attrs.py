"""Sample farmland attributes: the MAFF 筆ポリゴン columns plus the public 農地台帳 items and fake private names."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely import Geometry

from gis.sample.common import LG_CODES, Inputs, dumps, fake_name, feature, rng_uuid, snap, to_lonlat
from gis.sample.farmland import Block

LAND_NAMES = {100: "田", 200: "畑"}
NOUSHIN = ["農用地区域内", "農振地域内（農用地区域外）", "農振地域外"]
DATA_DATE = "2025-03-31"
ISSUE_YEAR = 2025


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


def _chiban_key(c: str) -> tuple[int, int]:
    """Numeric sort key of a 地番 such as 1234-2."""
    head, _, tail = c.partition("-")
    return int(head), int(tail or 0)


def features(
    inputs: Inputs,
    rng: np.random.Generator,
    blocks: list[Block],
    planning_ll: Geometry,
) -> list[dict[str, Any]]:
    """GeoJSON features for the parcels of the blocks, sorted by city, 大字 and 地番."""
    metric = np.concatenate([b.parcels for b in blocks])
    n = len(metric)
    block_of = np.concatenate([np.full(len(b.parcels), i) for i, b in enumerate(blocks)])
    city = np.array([blocks[i].city for i in block_of])
    land_type = np.concatenate([b.land_types for b in blocks])

    lonlat = snap(to_lonlat(metric))
    cent = shapely.centroid(lonlat)
    lng, lat = np.round(shapely.get_x(cent), 7), np.round(shapely.get_y(cent), 7)
    mc = shapely.centroid(metric)
    mx, my = shapely.get_x(mc), shapely.get_y(mc)
    oaza = np.empty(n, dtype=object)
    for c in np.unique(city):
        towns = inputs.city_towns(str(c))
        sel = city == c
        d = (mx[sel, None] - np.array([t.x for t in towns])) ** 2 + (
            my[sel, None] - np.array([t.y for t in towns])
        ) ** 2
        oaza[sel] = [towns[int(i)].oaza for i in d.argmin(axis=1)]
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

    edit_year = rng.integers(2019, 2025, n)
    hist_roll = rng.random(n)
    rows = []
    for i in range(n):
        b = int(block_of[i])
        new = hist_roll[i] < 0.18
        history = (
            [{"type": "発生", "year": int(edit_year[i])}]
            if new
            else ([{"type": "関連", "year": int(edit_year[i])}] if hist_roll[i] > 0.96 else [])
        )
        last = None if new else rng_uuid(rng)
        prev = rng_uuid(rng) if last and rng.random() < 0.8 else None
        cultivated = rng.random() > 0.08
        no = block_cult[b][int(rng.integers(len(block_cult[b])))] if cultivated else None
        lease = None
        if no is not None and rng.random() < 0.4:
            lease = "賃借権" if rng.random() < 0.75 else "使用貸借による権利"
        lease_end = (
            f"{int(rng.integers(2025, 2035))}-{['03-31', '09-30', '12-31'][int(rng.integers(3))]}" if lease else None
        )
        intention = None
        if rng.random() < (0.08 if cultivated else 0.15):
            intention = "貸付希望" if rng.random() < 0.7 else "売渡希望"
        idle = "利用意向調査中" if not cultivated and rng.random() < 0.35 else None
        props = {
            "polygon_uuid": rng_uuid(rng),
            "land_type": int(land_type[i]),
            "land_type_name": LAND_NAMES[int(land_type[i])],
            "issue_year": ISSUE_YEAR,
            "edit_year": int(edit_year[i]),
            "history": dumps(history),
            "last_polygon_uuid": last,
            "prev_last_polygon_uuid": prev,
            "local_government_cd": LG_CODES[str(city[i])],
            "point_lng": float(lng[i]),
            "point_lat": float(lat[i]),
            "oaza": oaza[i],
            "chiban": chiban[i],
            "area_m2": float(area[i]),
            "noushin_kubun": block_noushin[b],
            "toshi_kubun": "非線引き都市計画区域" if in_plan[i] else "都市計画区域外",
            "lend_intention": intention,
            "cultivator_no": f"K-{no:06d}" if no is not None else None,
            "lease_type": lease,
            "lease_end": lease_end,
            "chukan_kanri": bool(lease == "賃借権" and rng.random() < 0.35),
            "idle_measure": idle,
            "data_date": DATA_DATE,
            "owner_name": fake_name(rng),
            "cultivator_name": names[no] if no is not None else None,
            "sample": True,
            "city_code": str(city[i]),
        }
        rows.append((props, lonlat[i]))
    rows.sort(key=lambda r: (r[0]["local_government_cd"], r[0]["oaza"], _chiban_key(r[0]["chiban"])))
    return [feature(p, g) for p, g in rows]
