"""Sample 農地台帳 and 作付 CSVs (README 「農地台帳 CSV」) drawn from the sample parcels' facts.

The many-to-many cases are all there: polygons holding two ledger records (two 地番 in one field, each with its
point), records whose 登記筆 spans two polygons (by WKT, no point), records known only by their shape (linked by
overlap), points a few metres off their polygon (the 5 m link), records with neither (unlinked) and so polygons
with no record, a few 市街化区域 records, and intentions stated without consent (stored empty on import).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point

from gis.sample.common import fake_name, to_lonlat
from gis.sample.farmland_attrs import Parcels, chiban_key

LEDGER_COLUMNS = (
    "市区町村コード", "所在_大字", "地番", "地目", "面積", "農振区分", "都市計画区分", "意向", "意向の同意",
    "耕作者整理番号", "権利の種類", "存続期間の満了日", "中間管理権", "遊休農地の措置", "経度", "緯度", "筆形状WKT",
    "所有者氏名", "耕作者氏名", "借受者氏名",
    "所在等の時点", "区分の時点", "意向の時点", "権利の時点", "遊休農地の時点",
)  # fmt: skip
CROP_COLUMNS = ("polygon_uuid", "年", "作期", "作物", "時点")
LEDGER_DATE, OLD_LEDGER_DATE = "2025-03-31", "2021-03-31"
KUBUN_DATE, LEASE_DATE, IDLE_DATE = "2024-04-01", "2025-03-31", "2024-11-30"
INTENTION_DATES = ("2024-06-30", "2025-01-31", "2025-03-31")
CROP_SEASONS = ((2024, "夏作", "2024-07-31"), (2024, "冬作", "2025-01-31"), (2025, "夏作", "2025-07-31"))


def _wkt(g: Any) -> str:
    return shapely.to_wkt(g, rounding_precision=7, trim=True)


def _point(x: float, y: float) -> tuple[float, float]:
    p = to_lonlat(Point(x, y))
    return round(p.x, 7), round(p.y, 7)


def _free_branch(used: set[str], head: str) -> str:
    k = 51
    while f"{head}-{k}" in used:
        k += 1
    return f"{head}-{k}"


def _row(f: dict[str, Any], chiban: str, area: float, pos: tuple[float, float] | None, wkt: str | None,
         rng: np.random.Generator, *, urban: bool, no_consent: bool) -> list[Any]:  # fmt: skip
    lease = f["lease_type"]
    stale = rng.random() < 0.06  # some 農業委員会 have not updated for years (会計検査院 2021)
    intention = f["intention"]
    return [
        f["city_code"], f["oaza"], chiban, "田" if f["land_type"] == 100 else "畑", f"{area:.1f}",
        f["noushin_kubun"], "市街化区域" if urban else f["toshi_kubun"], intention or "",
        ("いいえ" if no_consent else "はい") if intention else "", f["cultivator_no"] or "", lease or "",
        f["lease_end"] or "", ("あり" if f["chukan_kanri"] else "なし") if lease else "", f["idle_measure"] or "",
        "" if pos is None else f"{pos[0]:.7f}", "" if pos is None else f"{pos[1]:.7f}", wkt or "",
        f["owner_name"], f["cultivator_name"] or "", (f["cultivator_name"] or "") if lease else "",
        OLD_LEDGER_DATE if stale else LEDGER_DATE, KUBUN_DATE,
        INTENTION_DATES[int(rng.integers(len(INTENTION_DATES)))] if intention else "",
        LEASE_DATE if lease else "", IDLE_DATE if f["idle_measure"] else "",
    ]  # fmt: skip


def ledger_rows(p: Parcels, rng: np.random.Generator) -> list[list[Any]]:
    """The ledger CSV rows, sorted by city, 大字 and 地番."""
    used: dict[tuple[str, str], set[str]] = {}
    for f in p.facts:
        used.setdefault((f["city_code"], f["oaza"]), set()).add(f["chiban"])
    tree = shapely.STRtree(p.metric)
    rows: list[list[Any]] = []
    skip = np.zeros(len(p.metric), dtype=bool)
    urban_blocks = {int(b) for b in np.unique(p.block_of[p.near_zoning]) if rng.random() < 0.06}
    for i, (m, f) in enumerate(zip(p.metric, p.facts, strict=True)):
        if skip[i]:
            continue
        f = {**f, "land_type": p.maff[i]["land_type"]}
        urban = int(p.block_of[i]) in urban_blocks
        no_consent = bool(f["intention"]) and rng.random() < 0.03
        opts = {"urban": urban, "no_consent": no_consent}
        c = shapely.centroid(m)
        roll = rng.random()
        nxt = i + 1
        if roll < 0.015:
            continue  # a polygon with no ledger record (new field, or a record the city has not located)
        if roll < 0.025:
            rows.append(_row(f, f["chiban"], f["area_m2"], None, None, rng, **opts))  # neither point nor shape
        elif roll < 0.06:
            # Two 地番 in one field: each record's point in its half.
            xy = shapely.get_coordinates(m)[:4]
            left, right = (xy[0] + xy[3]) / 2, (xy[1] + xy[2]) / 2
            cx, cy = c.x, c.y
            a = (cx + (left[0] - cx) / 2, cy + (left[1] - cy) / 2)
            b = (cx + (right[0] - cx) / 2, cy + (right[1] - cy) / 2)
            share = float(rng.uniform(0.35, 0.65))
            second = _free_branch(used[(f["city_code"], f["oaza"])], f["chiban"].partition("-")[0])
            used[(f["city_code"], f["oaza"])].add(second)
            rows.append(_row(f, f["chiban"], f["area_m2"] * share, _point(*a), None, rng, **opts))
            g = {**f, "owner_name": fake_name(rng)}
            rows.append(_row(g, second, f["area_m2"] * (1 - share), _point(*b), None, rng, **opts))
        elif roll < 0.07 and nxt < len(p.metric) and p.block_of[nxt] == p.block_of[i] and not skip[nxt]:
            # One 登記筆 under two field polygons (a ridge was added): its shape spans both, no point.
            hull = shapely.convex_hull(MultiPolygon([m, p.metric[nxt]])).buffer(-0.3)
            if len(tree.query(hull, predicate="intersects")) == 2:
                skip[nxt] = True
                area = f["area_m2"] + p.facts[nxt]["area_m2"]
                rows.append(_row(f, f["chiban"], area, None, _wkt(to_lonlat(hull)), rng, **opts))
                continue
            rows.append(_row(f, f["chiban"], f["area_m2"], _point(c.x, c.y), None, rng, **opts))
        elif roll < 0.14:
            # Known by its 登記筆 shape only: drawn a little off the field polygon (linked by overlap).
            shape = shapely.affinity.translate(m, *rng.uniform(-1.5, 1.5, 2)).buffer(float(rng.uniform(-1.0, 0.5)))
            rows.append(_row(f, f["chiban"], f["area_m2"], None, _wkt(to_lonlat(shape)), rng, **opts))
        elif roll < 0.16:
            # The 地番's point a few metres outside its polygon, clear of any other (the 5 m link).
            corner = shapely.get_coordinates(m)[int(rng.integers(4))]
            d = corner - np.array([c.x, c.y])
            pt = Point(*(corner + d / np.hypot(*d) * float(rng.uniform(1.5, 3.5))))
            clear = len(tree.query(pt.buffer(0.5), predicate="intersects")) == 0 and m.distance(pt) < 4.5
            xy = (pt.x, pt.y) if clear else (c.x, c.y)
            rows.append(_row(f, f["chiban"], f["area_m2"], _point(*xy), None, rng, **opts))
        else:
            pt = shapely.point_on_surface(m)
            rows.append(_row(f, f["chiban"], f["area_m2"], _point(pt.x, pt.y), None, rng, **opts))
    rows.sort(key=lambda r: (r[0], r[1], chiban_key(r[2])))
    return rows


def crop_rows(p: Parcels, rng: np.random.Generator) -> list[list[Any]]:
    """The 作付 CSV rows: three seasons per cultivated polygon (田: 水稲 or 大豆, then 麦 in winter; 畑: 野菜 …)."""
    rows: list[list[Any]] = []
    for maff, f in zip(p.maff, p.facts, strict=True):
        paddy = maff["land_type"] == 100
        for year, season, when in CROP_SEASONS:
            if not f["cultivated"]:
                if season == "夏作" and rng.random() < 0.5:
                    rows.append([maff["polygon_uuid"], year, season, "不作付", when])
                continue
            if season == "冬作":
                if paddy and rng.random() < 0.55:
                    rows.append([maff["polygon_uuid"], year, season, "麦", when])
                continue
            if paddy:
                crop = "水稲" if rng.random() < 0.82 else ("大豆" if rng.random() < 0.8 else "飼料作物")
            else:
                crop = ["野菜", "野菜", "野菜", "飼料作物", "そば", "不作付"][int(rng.integers(6))]
            # The 2024 水田台帳 still keys some fields by last year's polygon_uuid.
            uuid = maff["polygon_uuid"]
            if year == 2024 and maff["last_polygon_uuid"] and rng.random() < 0.03:
                uuid = maff["last_polygon_uuid"]
            rows.append([uuid, year, season, crop, when])
    return rows


__all__ = ["CROP_COLUMNS", "LEDGER_COLUMNS", "crop_rows", "ledger_rows"]
