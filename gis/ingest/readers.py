"""Reading import files (GeoJSON, Shapefile, zipped Shapefile, GeoPackage, CSV) into EPSG:6668."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import ImportFailed
from gis.geo import STORAGE_SRID, in_japan
from gis.ingest.crsfit import AreaSource, anchor_points, bundled_areas, crs_hint

STORAGE_CRS = CRS.from_epsg(STORAGE_SRID)
# MHLW's 医療情報ネット files name them 所在地座標（経度）/（緯度）.
LON_NAMES = ("lon", "lng", "longitude", "経度", "x", "long", "point_lng", "所在地座標（経度）")
LAT_NAMES = ("lat", "latitude", "緯度", "y", "point_lat", "所在地座標（緯度）")
FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "Shapefile",
    ".zip": "Shapefile (zip)",
    ".gpkg": "GeoPackage",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
}


def parse_crs(text: str) -> CRS:
    """A CRS from user text (EPSG:6670, 6670, a URN); ImportFailed when unknown."""
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError as e:
        raise ImportFailed(f"unknown CRS '{text}': give it as EPSG:n, e.g. EPSG:6670") from e


def _read_csv(path: Path) -> gpd.GeoDataFrame:
    """A CSV with longitude/latitude (or x/y) columns → points without a CRS yet."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp932")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ImportFailed(f"cannot read CSV {path.name}: {e}") from e
    lower = {c.lower().strip(): c for c in frame.columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise ImportFailed(
            f"CSV {path.name} has no coordinate columns: need one of {', '.join(LON_NAMES)} "
            f"and one of {', '.join(LAT_NAMES)}"
        )
    xs = pd.to_numeric(frame[lon].str.strip(), errors="coerce")
    ys = pd.to_numeric(frame[lat].str.strip(), errors="coerce")
    bad = frame.index[xs.isna() | ys.isna()]
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])
        raise ImportFailed(f"CSV {path.name}: unreadable coordinates in {len(bad)} rows (line {rows})")
    frame = frame.drop(columns=[lon, lat])
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xs, ys), crs=None)


def _read_vector(path: Path, layer_name: str | None) -> gpd.GeoDataFrame:
    """Any OGR-readable file through pyogrio (zip files through /vsizip/)."""
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        layers = pyogrio.list_layers(source)
        if layer_name is None and len(layers) > 1:
            names = [str(n) for n, _ in layers]
            spatial = [str(n) for n, g in layers if g is not None]
            if len(spatial) != 1:
                raise ImportFailed(f"{path.name} holds several layers ({', '.join(names)}): pass --layer-name")
            layer_name = spatial[0]
        kwargs = {}
        if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists():
            # Japanese government Shapefiles without a .cpg are Shift_JIS, not GDAL's default Latin-1.
            kwargs["encoding"] = "cp932"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(source, layer=layer_name, engine="pyogrio", **kwargs)
    except ImportFailed:
        raise
    except Exception as e:  # pyogrio raises several GDAL-derived types; the message is GDAL's, not SQL
        raise ImportFailed(f"cannot read {path.name}: {str(e).splitlines()[0][:200]}") from e


@dataclass
class Source:
    """A read file in EPSG:6668, the CRS its coordinates were read as, and the report so far."""

    frame: gpd.GeoDataFrame
    crs: CRS
    report: list[str] = field(default_factory=list)


def read_file(path: Path, crs: str | None = None, layer_name: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a file, reproject to EPSG:6668 (2D) and return it with report lines."""
    source = read_source(path, crs=crs, layer_name=layer_name)
    return source.frame, source.report


def read_source(
    path: Path, crs: str | None = None, layer_name: str | None = None, areas: AreaSource | None = None
) -> Source:
    """Read a file and reproject it to EPSG:6668 (2D); `areas` (default: bundled boundaries) serve CRS hints."""
    report: list[str] = []
    areas = areas or bundled_areas
    if not path.exists():
        raise ImportFailed(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ImportFailed(f"unsupported file type '{suffix}': use {', '.join(sorted(FORMATS))}")
    frame = _read_csv(path) if suffix == ".csv" else _read_vector(path, layer_name)
    if frame.geometry is None or len(frame) == 0:
        raise ImportFailed(f"{path.name} has no features")
    if frame.geometry.isna().any() or frame.geometry.is_empty.any():
        bad = frame.index[frame.geometry.isna() | frame.geometry.is_empty]
        rows = ", ".join(str(i + 1) for i in bad[:5])
        raise ImportFailed(f"{len(bad)} features have no or empty geometry (feature {rows})")
    if crs:
        frame = frame.set_crs(parse_crs(crs), allow_override=True)
    elif frame.crs is None:
        frame = _guess_geographic(frame, path, report, areas)
    src = frame.crs
    if shapely.has_z(frame.geometry.values).any():
        frame = frame.set_geometry(shapely.force_2d(frame.geometry.values), crs=src)
        report.append("高さ（Z）を除去した")
    raw = frame.geometry.values
    if not src.equals(STORAGE_CRS):
        try:
            frame = frame.to_crs(STORAGE_CRS)
        except Exception as e:
            raise ImportFailed(f"cannot transform from {src.to_string()} to EPSG:6668: {e}") from e
        report.append(f"座標系 {src.to_string()} → EPSG:6668 に変換")
    minx, miny, maxx, maxy = frame.total_bounds
    if not in_japan(minx, miny, maxx, maxy):
        hint = crs_hint(anchor_points(raw), src, areas())
        raise ImportFailed(
            f"coordinates fall outside Japan after reading as {src.to_string()} "
            f"(bounds {minx:.3f},{miny:.3f},{maxx:.3f},{maxy:.3f}); "
            + (hint if hint else "wrong --crs or swapped lat/lon?")
        )
    return Source(frame, src, report)


def _guess_geographic(frame: gpd.GeoDataFrame, path: Path, report: list[str], areas: AreaSource) -> gpd.GeoDataFrame:
    """A file without a CRS is accepted only when its coordinates are plainly lon/lat in Japan."""
    if in_japan(*frame.total_bounds):
        report.append("座標系の記載なし: 経緯度（EPSG:6668）とみなした")
        return frame.set_crs(STORAGE_CRS)
    hint = crs_hint(anchor_points(frame.geometry.values), None, areas())
    advice = hint if hint else "pass --crs (e.g. EPSG:6670)"
    raise ImportFailed(f"{path.name} declares no CRS and is not lon/lat; {advice}")
