"""Guards run on the staged rows inside the import transaction: features inside their city, sane --replace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from pyproj import CRS

from gis.cities import CITIES
from gis.errors import ImportFailed
from gis.geo import METRIC_SRID, STORAGE_SRID
from gis.ingest.crsfit import GROWN_SQL, TOLERANCE_M, crs_hint, crs_label, database_areas, raw_points

# --replace needs --force when a city would keep less than SHRINK of its rows (for layers with at least
# SHRINK_MIN_ROWS rows there: replacing 3 parks by 1 is ordinary editing), or when its extent moves: the
# centres more than MOVE_KM apart and the new extent covering less than MOVE_OVERLAP of the old one (a larger
# extent that contains the old one is an extension, not a move).
SHRINK = 0.5
SHRINK_MIN_ROWS = 10
MOVE_KM = 3.0
MOVE_OVERLAP = 0.5


def city_name(code: str) -> str:
    """伊万里市 (41205)."""
    city = CITIES.get(code)
    return f"{city.name} ({code})" if city else code


@dataclass
class Outside:
    """The staged features of one city that lie farther than the tolerance from its boundary."""

    city: str
    total: int
    count: int
    bbox: tuple[float, float, float, float] | None
    in_other: dict[str, int]

    def describe(self) -> str:
        """English, for the error line."""
        text = (
            f"{self.count:,} of {self.total:,} features assigned to {city_name(self.city)} "
            f"lie more than {TOLERANCE_M:.0f} m outside it"
        )
        where = []
        if self.bbox:
            where.append("bbox " + ",".join(f"{v:.3f}" for v in self.bbox))
        if self.in_other:
            inside = ", ".join(f"{n:,} of them in {city_name(c)}" for c, n in sorted(self.in_other.items()))
            where.append(f"{inside}: wrong --city or city code column?")
        return f"{text} ({'; '.join(where)})" if where else text

    def report(self) -> str:
        """Japanese, for the import report."""
        box = ",".join(f"{v:.3f}" for v in self.bbox) if self.bbox else "-"
        return f"{CITIES[self.city].name if self.city in CITIES else self.city} {self.count:,} 件（範囲 {box}）"


def _outside_of(cur: psycopg.Cursor, city: str) -> Outside:
    """Count the staged features of one city outside its grown boundary, with their box and where they are."""
    # One query per city: ST_Intersects then compares every row with the same polygon, so PostGIS prepares it
    # once (alternating cities would re-prepare on every row). Grown in metres, compared in EPSG:6668.
    area = sql.SQL(
        "WITH a AS MATERIALIZED (SELECT ST_Transform({grown}, {srid}) AS g FROM municipalities "
        "WHERE city_code = %(c)s) "
    ).format(grown=sql.SQL(GROWN_SQL), srid=sql.Literal(STORAGE_SRID))
    total, count, x0, y0, x1, y1 = cur.execute(
        area
        + sql.SQL(
            # OFFSET 0 keeps the subquery apart, so the test runs once per row, not once per aggregate.
            "SELECT n, k, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
            "SELECT count(*) AS n, count(*) FILTER (WHERE o) AS k, ST_Extent(geom) FILTER (WHERE o) AS e FROM ("
            "SELECT s.geom, NOT ST_Intersects(s.geom, a.g) AS o FROM stage s, a WHERE s.city_code = %(c)s "
            "OFFSET 0) f) g"
        ),
        {"c": city},
    ).fetchone() or (0, 0, None, None, None, None)
    in_other: dict[str, int] = {}
    if count:
        rows = cur.execute(
            area
            + sql.SQL(
                "SELECT m.city_code, count(*) FROM stage s CROSS JOIN a "
                "JOIN municipalities m ON m.city_code <> %(c)s AND ST_Intersects(m.geom, s.geom) "
                "WHERE s.city_code = %(c)s AND NOT ST_Intersects(s.geom, a.g) GROUP BY m.city_code"
            ),
            {"c": city},
        ).fetchall()
        in_other = {code: n for code, n in rows}
    bbox = (x0, y0, x1, y1) if x0 is not None else None
    return Outside(city, total, count, bbox, in_other)


def check_inside(
    cur: psycopg.Cursor,
    layer_id: str,
    cities: list[str],
    geoms: np.ndarray,
    source_crs: CRS | None,
    *,
    allow_outside: bool,
    report: list[str],
) -> int:
    """Refuse staged features outside their city (naming a CRS that fits, if one does); return how many were kept."""
    if layer_id == "municipalities":
        report.append("市域内の確認を省略: 行政区域レイヤ自体の取込")
        return 0
    known = {r[0] for r in cur.execute("SELECT city_code FROM municipalities").fetchall()}
    if not known:
        report.append("市域内の確認を省略: 行政区域（municipalities）が未登録")
        return 0
    for code in sorted(set(cities) - known):
        report.append(f"市域内の確認を省略: {city_name(code)} の行政区域が未登録")
    outside = [o for o in (_outside_of(cur, c) for c in cities if c in known) if o.count]
    if not outside:
        report.append(f"市域内の確認: 全 {len(geoms):,} 件が市域内（境界から {TOLERANCE_M:.0f} m 以内）")
        return 0
    # Features outside: first ask whether the whole file was read with the wrong CRS.
    declared = source_crs or CRS.from_epsg(STORAGE_SRID)
    hint = crs_hint(raw_points(geoms, declared), declared, database_areas(cur) or [])
    names = " and ".join(city_name(o.city) for o in outside)
    if hint:
        raise ImportFailed(f"the coordinates fall outside {names} when read as {crs_label(declared)}; {hint}")
    if not allow_outside:
        what = "; ".join(o.describe() for o in outside)
        raise ImportFailed(f"{layer_id}: {what}: check the file, or pass --allow-outside to keep them")
    kept = sum(o.count for o in outside)
    detail = "、".join(o.report() for o in outside)
    report.append(f"市域外（境界から {TOLERANCE_M:.0f} m 超）の {kept:,} 件を保持（--allow-outside）: {detail}")
    return kept


@dataclass(frozen=True)
class Scope:
    """The part of a layer one import replaces: the rows whose `column` holds one of `values` (a file of schools
    replaces the schools of its cities, not their hospitals). Without a scope an import replaces its cities' rows."""

    column: str
    values: tuple[Any, ...]

    def sql(self, alias: str | None = None) -> sql.Composable:
        """` AND <column> = ANY(<values>)`, for the layer's rows (optionally through an alias)."""
        col = sql.Identifier(alias, self.column) if alias else sql.Identifier(self.column)
        return sql.SQL(" AND {c} = ANY({v})").format(c=col, v=sql.Literal(list(self.values)))


def scope_sql(scope: Scope | None, alias: str | None = None) -> sql.Composable:
    """The scope's condition, or nothing."""
    return scope.sql(alias) if scope else sql.SQL("")


@dataclass
class Change:
    """What --replace would do to one city's rows of a layer."""

    city: str
    old: int
    new: int
    move_m: float
    overlap: float | None

    @property
    def shrinks(self) -> bool:
        """Most of the rows would go."""
        return self.old >= SHRINK_MIN_ROWS and self.new < self.old * SHRINK

    @property
    def moves(self) -> bool:
        """The extent would move away from where the rows are now."""
        far = self.move_m > MOVE_KM * 1000
        return far and (self.overlap is None or self.overlap < MOVE_OVERLAP)

    def describe(self, layer_id: str) -> str:
        """English, for the error line."""
        name = CITIES[self.city].name if self.city in CITIES else self.city
        pct = (self.new - self.old) / self.old * 100
        sign = "−" if pct < 0 else "+"
        count = f"from {self.old:,} to {self.new:,} features ({sign}{abs(pct):.1f} %)"
        move = f"move its extent {self.move_m / 1000:.1f} km"
        if self.shrinks and self.moves:
            return f"change {name}'s {layer_id} {count} and {move}"
        if self.shrinks:
            return f"change {name}'s {layer_id} {count}"
        share = f", the new extent covering {self.overlap * 100:.0f} % of the old" if self.overlap is not None else ""
        return f"move {name}'s {layer_id} extent {self.move_m / 1000:.1f} km{share} ({self.old:,} → {self.new:,})"

    def report(self) -> str:
        """Japanese, for the import report."""
        name = CITIES[self.city].name if self.city in CITIES else self.city
        return f"{name} {self.old:,} 件 → {self.new:,} 件、範囲の中心の移動 {self.move_m / 1000:.1f} km"


def replace_changes(cur: psycopg.Cursor, layer_id: str, cities: list[str], scope: Scope | None = None) -> list[Change]:
    """Old (within the scope) vs staged row count and extent per city (extents compared as boxes in metres)."""
    box = sql.SQL("ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, {s}), {m})").format(
        s=sql.Literal(STORAGE_SRID), m=sql.Literal(METRIC_SRID)
    )
    rows = cur.execute(
        sql.SQL(
            "WITH old AS (SELECT city_code, count(*) AS n, {box} AS b FROM {t} WHERE city_code = ANY(%s){scope} "
            "GROUP BY city_code), new AS (SELECT city_code, count(*) AS n, {box} AS b FROM stage GROUP BY city_code) "
            "SELECT o.city_code, o.n, n.n, ST_Distance(ST_Centroid(o.b), ST_Centroid(n.b)), "
            "CASE WHEN ST_Area(o.b) > 0 THEN ST_Area(ST_Intersection(o.b, n.b)) / ST_Area(o.b) END "
            "FROM old o JOIN new n USING (city_code) ORDER BY o.city_code"
        ).format(box=box, t=sql.Identifier(layer_id), scope=scope_sql(scope)),
        (cities,),
    ).fetchall()
    return [Change(c, old, new, float(d), None if share is None else float(share)) for c, old, new, d, share in rows]


def check_replace(
    cur: psycopg.Cursor,
    layer_id: str,
    cities: list[str],
    *,
    force: bool,
    report: list[str],
    scope: Scope | None = None,
) -> None:
    """Refuse a --replace that drops most of a city's rows (within the scope) or moves its extent, unless forced."""
    risky = [c for c in replace_changes(cur, layer_id, cities, scope) if c.shrinks or c.moves]
    if not risky:
        return
    if not force:
        what = "; ".join(c.describe(layer_id) for c in risky)
        raise ImportFailed(f"--replace would {what}: check the file, or pass --force")
    report.append("--force で置換: " + "、".join(c.report() for c in risky))
