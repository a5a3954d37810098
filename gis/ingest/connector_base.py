"""What every connector shares: the protocol, recognising a file by its columns, placing rows in the two cities,
and loading through the one importer (`load_frame`), so the guards (CRS, outside the city, --replace safety,
provenance) apply to connector imports exactly as to `gis import LAYER FILE`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd
import psycopg
import pyogrio
import shapely

from gis.cities import CITIES
from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.geo import METRIC_SRID, STORAGE_SRID
from gis.ingest.checks import Scope
from gis.ingest.crsfit import BUNDLED_BOUNDARIES, TOLERANCE_M, connection_areas
from gis.ingest.importer import ImportResult, Progress, load_frame
from gis.ingest.mapping import map_columns
from gis.ingest.readers import read_source
from layers import get_layer


class Connector(Protocol):
    """A national file format staff receive, mapped onto one layer."""

    name: str
    title: str  # what the file is, in Japanese (listed when no connector recognises a file)
    layer: str

    def detect(self, path: Path) -> bool:
        """True when the file is in this connector's layout (decided from its columns, without reading it all)."""
        ...

    def run(self, conn: psycopg.Connection, path: Path, info: SourceInfo, **options: Any) -> ImportResult:
        """Read, map and load the file (options: crs, city, replace, force, allow_outside, layer_name, progress)."""
        ...


def norm(name: str) -> str:
    """A column name as compared: NFKC (full-width letters, digits and brackets folded), stripped."""
    return unicodedata.normalize("NFKC", str(name)).strip()


def columns_of(path: Path, layer_name: str | None = None) -> set[str]:
    """The (normalised) column names of a file, read from its header only; empty when it cannot be read."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            try:
                head = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
            except UnicodeDecodeError:
                head = pd.read_csv(path, nrows=0, encoding="cp932")
            return {norm(c) for c in head.columns}
        source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
        info = pyogrio.read_info(source, layer=layer_name)
        return {norm(c) for c in info["fields"]}
    except Exception:  # an unreadable or foreign file is simply not this connector's (the reader reports it later)
        return set()


def renamed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with normalised column names (the geometry column keeps its name)."""
    geom = frame.geometry.name
    return frame.rename(columns={c: norm(c) for c in frame.columns if c != geom})


def text(series: pd.Series) -> pd.Series:
    """Stripped text with blanks as None (numbers read as floats lose their '.0')."""

    def one(v: Any) -> str | None:
        if v is None or v is pd.NA or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
            return None  # NaN, NaT (a date column read as dates) and NA alike
        if hasattr(v, "isoformat"):
            return v.isoformat()[:10] if type(v).__name__ in ("Timestamp", "date") else v.isoformat()
        s = str(v).strip()
        if s.endswith(".0") and s[:-2].isdigit():
            s = s[:-2]
        return s or None

    return series.map(one).astype(object)


def codes(series: pd.Series) -> pd.Series:
    """Integer codes (as Python ints or None); a non-integer value is an ImportFailed naming the column."""
    values = text(series)
    bad = values.dropna()[~values.dropna().str.fullmatch(r"\d+")]
    if len(bad):
        raise ImportFailed(f"column {series.name}: '{bad.iloc[0]}' is not a code (feature {bad.index[0] + 1})")
    return values.map(lambda v: None if v is None else int(v)).astype(object)


def require_codes(series: pd.Series, known: dict[int, Any], what: str) -> None:
    """Refuse codes outside the official list (nothing is guessed)."""
    unknown = sorted({c for c in series.dropna() if c not in known})
    if unknown:
        listed = ", ".join(f"{k} {v}" for k, v in known.items())
        raise ImportFailed(f"{series.name}: unknown {what} code {unknown[0]} (the code list: {listed})")


# -- the two cities ---------------------------------------------------------------------------------------------


def city_polygons(conn: psycopg.Connection) -> gpd.GeoDataFrame:
    """The two cities (city_code, geometry in EPSG:6668): the municipalities layer, else the bundled N03 file."""
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    try:
        rows = conn.execute("SELECT city_code, ST_AsBinary(geom) FROM municipalities").fetchall()
    finally:
        # Leave an idle connection idle, so the import's own transaction is a top-level one that commits.
        if idle:
            conn.rollback()
    if rows:
        return gpd.GeoDataFrame(
            {"city_code": [r[0] for r in rows]},
            geometry=[shapely.from_wkb(bytes(r[1])) for r in rows],
            crs=STORAGE_SRID,
        )
    n03 = pyogrio.read_dataframe(BUNDLED_BOUNDARIES, columns=["N03_007"])
    n03 = n03[n03["N03_007"].isin(list(CITIES))].dissolve(by="N03_007", as_index=False)
    return gpd.GeoDataFrame({"city_code": n03["N03_007"]}, geometry=n03.geometry.values, crs=n03.crs).to_crs(
        STORAGE_SRID
    )


def points_to_cities(
    conn: psycopg.Connection, frame: gpd.GeoDataFrame, city: str | None, report: list[str]
) -> gpd.GeoDataFrame:
    """Points of a national or prefectural file without a city code: each takes the city it lies in (or within the
    import guard's tolerance of); the rest are other municipalities and are left out (counted in the report)."""
    if city is not None:
        return frame.assign(city_code=city)
    cities = city_polygons(conn).to_crs(METRIC_SRID)
    metric = frame.to_crs(METRIC_SRID)
    joined = gpd.sjoin_nearest(metric[[metric.geometry.name]], cities, how="left", max_distance=TOLERANCE_M)
    code = joined[~joined.index.duplicated(keep="first")]["city_code"].reindex(frame.index)
    out = frame.assign(city_code=code)
    other = int(out["city_code"].isna().sum())
    if other:
        report.append(f"伊万里市・武雄市の外の {other:,} 件を除外（位置で判定）")
    out = out[out["city_code"].notna()]
    if out.empty:
        raise ImportFailed("no features lie in 伊万里市 (41205) or 武雄市 (41206)")
    return out


def polygons_to_cities(
    conn: psycopg.Connection, frame: gpd.GeoDataFrame, city: str | None, report: list[str]
) -> gpd.GeoDataFrame:
    """Polygons of a prefectural file (a flood area crossing city lines): cut to each city; what lies outside both
    is left out, with its area in the report. With --city every polygon is cut to that city."""
    cities = city_polygons(conn)
    if city is not None:
        cities = cities[cities["city_code"] == city]
    frame = frame[~frame.geometry.isna()]
    if not frame.geometry.is_valid.all():
        frame = frame.set_geometry(shapely.make_valid(frame.geometry.values))
    near = frame[frame.intersects(shapely.union_all(cities.geometry.values).envelope)]
    cut = gpd.overlay(near, cities, how="intersection", keep_geom_type=True)
    before = frame.to_crs(METRIC_SRID).area.sum()
    after = cut.to_crs(METRIC_SRID).area.sum() if len(cut) else 0.0
    if before - after > 1:
        report.append(f"両市の外の部分（{(before - after) / 10_000:,.1f} ha）を除き、市の境界で切り分けた")
    if cut.empty:
        raise ImportFailed("no area of the file lies in 伊万里市 (41205) or 武雄市 (41206)")
    return cut


# -- the run -----------------------------------------------------------------------------------------------------

Convert = Callable[[psycopg.Connection, gpd.GeoDataFrame, dict[str, Any], list[str]], tuple[gpd.GeoDataFrame, Scope]]
After = Callable[[psycopg.Cursor, list[str], list[str]], None]


@dataclass
class FileConnector:
    """A connector recognised by the columns a file must have (`required`, plus `accepts` when given), whose
    `convert` turns the read file into the layer's column names (plus city_code, feature_key) and a replace scope;
    `after` runs in the same transaction once the rows are in (e.g. linking shelters to emergency sites)."""

    name: str
    title: str
    layer: str
    required: frozenset[str]
    convert: Convert
    accepts: Callable[[set[str]], bool] | None = None
    after: After | None = None
    detectable: bool = True  # False: only named (a manifest entry), never picked from a file's columns
    options: dict[str, Any] = field(default_factory=dict)

    def detect(self, path: Path) -> bool:
        """The file has the required columns (and passes `accepts`)."""
        if not self.detectable:
            return False
        cols = columns_of(path)
        return self.required <= cols and (self.accepts is None or self.accepts(cols))

    def run(self, conn: psycopg.Connection, path: Path, info: SourceInfo, **options: Any) -> ImportResult:
        """Read (CRS normalised), convert, map onto the layer and load in one transaction."""
        layer = get_layer(self.layer)
        path = Path(path)
        cols = columns_of(path, options.get("layer_name"))
        if not (self.required <= cols and (self.accepts is None or self.accepts(cols))):
            missing = ", ".join(sorted(self.required - cols)) or "the format's code columns"
            raise ImportFailed(f"{path.name} is not a {self.title} file (missing: {missing})")
        source = read_source(
            path, crs=options.get("crs"), layer_name=options.get("layer_name"), areas=connection_areas(conn)
        )
        report = source.report
        report.append(f"形式: {self.title}（{self.name}）")
        frame, scope = self.convert(conn, renamed(source.frame), options, report)
        mapped = map_columns(frame, layer, options.get("city"), report)
        progress: Progress | None = options.get("progress")
        with conn.transaction():
            result = load_frame(
                conn,
                layer,
                mapped,
                info,
                replace=bool(options.get("replace")),
                force=bool(options.get("force")),
                allow_outside=bool(options.get("allow_outside")),
                source_crs=source.crs,
                file=path,
                report=report,
                progress=progress,
                scope=scope,
            )
            if self.after is not None:
                with conn.cursor() as cur:
                    self.after(cur, result.cities, report)
        return result
