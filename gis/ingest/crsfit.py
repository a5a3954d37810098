"""Which CRS puts a file's raw coordinates inside the two cities: the hint behind a "wrong --crs" refusal."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import psycopg
import pyogrio
import shapely
from pyproj import CRS

from gis.cities import CITIES
from gis.geo import METRIC_SRID, transformer
from gis.settings import REPO_ROOT

# Why 300 m: N03 boundaries and coastlines are digitised from 1:25,000 maps and lag behind reclaimed land and
# harbour works by a few hundred metres, and parcels on a city boundary are assigned by their 代表点. A wrong CRS
# misplaces data by kilometres (zone II ↔ III: ~300 km); only the Tokyo datum's ~440 m shift is close to it.
TOLERANCE_M = 300.0
# A CRS "fits" when this share of the sampled features lies inside the cities; a declared CRS below
# DECLARED_FITS is clearly wrong (rather than a few stray features) and worth a hint.
FIT_SHARE = 0.95
DECLARED_FITS = 0.5
# The city polygon grown by the tolerance (EPSG:6670). Simplifying by 20 m first (the boundary moves ≤ 20 m,
# well inside the tolerance) takes growing Imari's 15,000-vertex coast from ~0.25 s to ~10 ms per import.
SIMPLIFY_M = 20.0
GROWN_SQL = f"ST_Buffer(ST_Simplify(geom_m, {SIMPLIFY_M}, true), {TOLERANCE_M})"
SAMPLE = 300
BUNDLED_BOUNDARIES = REPO_ROOT / "data" / "boundaries" / "saga_municipalities_n03_2022.geojson"
# The CRSs Saga files come in, in order of preference when several fit equally. EPSG:2444/2445 are JGD2000
# (not the Tokyo datum): identical to JGD2011 in Kyushu, so they only ever tie with 6670/6671. The Tokyo
# datum zones are EPSG:30162/30163.
CANDIDATES: dict[int, str] = {
    6668: "JGD2011 lon/lat",
    4326: "WGS 84 lon/lat",
    6670: "JGD2011 zone II",
    6671: "JGD2011 zone III",
    2444: "JGD2000 zone II",
    2445: "JGD2000 zone III",
    30162: "Tokyo datum zone II",
    30163: "Tokyo datum zone III",
}
# Candidates that are the same thing here (within a metre): never offered as an alternative to each other.
SAME_AS = {4326: 6668, 2444: 6670, 2445: 6671}

Areas = list[shapely.Geometry]
AreaSource = Callable[[], Areas]


def _prepared(geoms: list[shapely.Geometry]) -> Areas:
    shapely.prepare(geoms)
    return geoms


@cache
def bundled_areas() -> Areas:
    """The two cities from the bundled N03 file (used when the database has no boundaries)."""
    frame = pyogrio.read_dataframe(BUNDLED_BOUNDARIES, columns=["N03_007"])
    frame = frame[frame["N03_007"].isin(list(CITIES))].to_crs(METRIC_SRID)
    cities = [shapely.union_all(part.geometry.values) for _, part in frame.groupby("N03_007")]
    return _prepared([shapely.simplify(g, SIMPLIFY_M).buffer(TOLERANCE_M) for g in cities])


def database_areas(cur: psycopg.Cursor) -> Areas | None:
    """The cities from the municipalities layer (authoritative when loaded); None when it is empty."""
    rows = cur.execute(f"SELECT ST_AsBinary({GROWN_SQL}) FROM municipalities").fetchall()
    return _prepared([shapely.from_wkb(bytes(r[0])) for r in rows]) if rows else None


def connection_areas(conn: psycopg.Connection) -> AreaSource:
    """A lazy area source for an idle connection: the database's boundaries, else the bundled ones."""

    def load() -> Areas:
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        try:
            with conn.cursor() as cur:
                return database_areas(cur) or bundled_areas()
        finally:
            if idle:
                conn.rollback()

    return load


def anchor_points(geoms: np.ndarray, limit: int = SAMPLE) -> np.ndarray:
    """Centroids (n×2) of at most `limit` features spread evenly over the file."""
    if len(geoms) > limit:
        geoms = geoms[np.linspace(0, len(geoms) - 1, limit).astype(int)]
    return shapely.get_coordinates(shapely.centroid(np.asarray(geoms, dtype=object)))


def _key(crs: CRS | int) -> int | str:
    if isinstance(crs, int):
        return crs
    epsg = crs.to_epsg()
    return epsg if epsg else crs.to_wkt()


def crs_label(crs: CRS | int | None) -> str:
    """EPSG:n when the CRS has a code, else its name."""
    if crs is None:
        return "no CRS"
    key = _key(crs)
    return f"EPSG:{key}" if isinstance(key, int) else crs.name


def share_inside(xy: np.ndarray, crs: CRS | int, areas: Areas) -> float:
    """The share of raw points (in `crs`) that land inside one of the areas."""
    if len(xy) == 0:
        return 0.0
    try:
        x, y = transformer(_key(crs), METRIC_SRID).transform(xy[:, 0], xy[:, 1], errcheck=False)
    except Exception:  # a CRS pyproj cannot transform from fits nothing
        return 0.0
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    inside = np.zeros(len(x), dtype=bool)
    ok = np.isfinite(x) & np.isfinite(y)
    for area in areas:
        inside[ok] |= shapely.contains_xy(area, x[ok], y[ok])
    return float(inside.mean())


def crs_hint(xy: np.ndarray, declared: CRS | None, areas: Areas) -> str | None:
    """'read as EPSG:n (...) they fit: pass --crs EPSG:n' when the declared CRS is clearly wrong and one fits."""
    if declared is not None and share_inside(xy, declared, areas) >= DECLARED_FITS:
        return None
    shares = {code: share_inside(xy, code, areas) for code in CANDIDATES}
    order = list(CANDIDATES)
    fits = sorted((c for c, s in shares.items() if s >= FIT_SHARE), key=lambda c: (-shares[c], order.index(c)))
    if not fits:
        return None
    best = fits[0]
    base = SAME_AS.get(best, best)
    others = [c for c in fits[1:] if SAME_AS.get(c, c) != base and c not in SAME_AS]
    hint = f"read as EPSG:{best} ({CANDIDATES[best]}) they fit: pass --crs EPSG:{best}"
    if others:
        alt = "; ".join(f"EPSG:{c}, {CANDIDATES[c]}" for c in others)
        hint += f" ({alt}, fits nearly as well: check the file's datum)"
    return hint


def raw_points(geoms_storage: np.ndarray, source: CRS | None) -> np.ndarray:
    """Sampled anchors of staged (EPSG:6668) features taken back to the coordinates the file holds."""
    xy = anchor_points(geoms_storage)
    if source is None or _key(source) == 6668 or len(xy) == 0:
        return xy
    x, y = transformer(6668, _key(source)).transform(xy[:, 0], xy[:, 1], errcheck=False)
    return np.column_stack([x, y])
