"""Mapping a read file onto a layer's schema: column aliases, types, city codes and geometry repair."""

from __future__ import annotations

import hashlib
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from gis.cities import CITIES
from gis.errors import ImportFailed
from layers.base import Col, Layer

CITY_COLUMNS = (
    "city_code",
    "Citycode",
    "A29_001",
    "N03_007",
    "jisx0402",
    "local_government_cd",
    "city",
    "全国地方公共団体コード",
)
KEY_COLUMNS = ("feature_key", "gml_id", "polygon_uuid", "sensor_id", "point_code", "ID", "id", "fid")
TRUE = {"true", "1", "yes", "y", "t", "はい", "有", "あり", "○", "〇"}
FALSE = {"false", "0", "no", "n", "f", "いいえ", "無", "なし", "×", ""}


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip().lower()


def _find(frame: pd.DataFrame, col: Col) -> tuple[str, float | None] | None:
    """The first source column present for a layer column, with its scale."""
    present = {_key(c): c for c in frame.columns if c != frame.geometry.name}
    for alias in col.source_names():
        hit = present.get(_key(alias.name))
        if hit is not None:
            return hit, alias.scale
    return None


def _bad(series: pd.Series, converted: pd.Series) -> pd.Index:
    """Rows that had a value but did not convert."""
    had = series.notna() & (series.astype(str).str.strip() != "")
    return series.index[had & converted.isna()]


def _text(v: object) -> str | None:
    """A stripped string, or None for blanks and missing values."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    text = str(v).strip()
    return text or None


def _convert(series: pd.Series, col: Col, source: str, scale: float | None) -> pd.Series:
    """Cast one source column to the layer column's type; ImportFailed on unconvertible values."""
    if col.null_values:
        nulls = {str(v) for v in col.null_values}
        series = series.mask(series.astype(str).isin(nulls) | series.isin(col.null_values))
    if col.type in ("int", "float"):
        out = pd.to_numeric(series, errors="coerce")
        if scale:
            out = (out * scale).round(6)
        if col.null_values:
            out = out.mask(out.isin([v for v in col.null_values if isinstance(v, int | float)]))
        out = out.round().astype("Int64") if col.type == "int" else out.astype("float64")
    elif col.type in ("date", "timestamptz"):
        text = series.astype("string").str.strip()
        out = pd.to_datetime(text, errors="coerce", utc=col.type == "timestamptz", format="mixed")
        if col.type == "date":
            out = out.dt.date
    elif col.type == "bool":
        text = series.astype("string").str.strip().str.lower()
        out = text.map(lambda v: True if v in TRUE else False if v in FALSE else None)
        out = out.where(series.notna(), None)
    else:
        return series.map(_text).astype(object)
    bad = _bad(series, out)
    if len(bad):
        sample = series.loc[bad[0]]
        raise ImportFailed(
            f"column {col.name} (from '{source}'): {len(bad)} values are not {col.type}, "
            f"e.g. '{sample}' in feature {bad[0] + 1}"
        )
    return out


def city_codes(frame: gpd.GeoDataFrame, city: str | None, report: list[str]) -> pd.Series:
    """Each row's 5-digit city code from --city or a code column; rows of other cities are refused."""
    if city is not None and city not in CITIES:
        raise ImportFailed(f"unknown city code '{city}': this service covers {', '.join(CITIES)}")
    col = next((c for c in CITY_COLUMNS if c in frame.columns), None)
    if col is None:
        if city is None:
            raise ImportFailed(f"no city code column ({', '.join(CITY_COLUMNS[:4])}, ...): pass --city 41205|41206")
        return pd.Series(city, index=frame.index)
    codes = frame[col].astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    codes = codes.map(lambda v: v if v is None or pd.isna(v) else (v[:5] if len(v) == 6 else v.zfill(5)))
    if city is not None:
        codes = codes.fillna(city)
    if codes.isna().any():
        raise ImportFailed(f"column {col}: {int(codes.isna().sum())} rows have no city code: pass --city")
    return codes


def repair_geometry(frame: gpd.GeoDataFrame, layer: Layer, report: list[str]) -> np.ndarray:
    """Valid geometries of the layer's type (polygons → MultiPolygon, lines → MultiLineString); repairs reported."""
    geoms = frame.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = [shapely.is_valid_reason(g) for g in geoms[invalid][:3]]
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        report.append(f"不正な形状 {int(invalid.sum())} 件を修復（make_valid）: {'; '.join(reasons)}")
    out = []
    for i, g in enumerate(geoms):
        if layer.geom_type == "POINT":
            if isinstance(g, Point):
                out.append(g)
                continue
            if g.geom_type == "MultiPoint" and len(g.geoms) == 1:
                out.append(g.geoms[0])
                continue
            raise ImportFailed(f"layer {layer.id} takes points; feature {i + 1} is a {g.geom_type}")
        if layer.geom_type == "MULTILINESTRING":
            lines = [p for p in shapely.get_parts(g) if isinstance(p, LineString) and not p.is_empty]
            if not lines:
                raise ImportFailed(f"layer {layer.id} takes lines; feature {i + 1} is a {g.geom_type}")
            if len(lines) < len(shapely.get_parts(g)):
                report.append(f"feature {i + 1}: 線以外の部分（面・点）を除いた")
            out.append(MultiLineString(lines))
            continue
        polys = [p for p in shapely.get_parts(g) if isinstance(p, Polygon) and not p.is_empty]
        if not polys:
            raise ImportFailed(f"layer {layer.id} takes polygons; feature {i + 1} is a {g.geom_type}")
        if len(polys) < len(shapely.get_parts(g)):
            report.append(f"feature {i + 1}: 面以外の部分（線・点）を除いた")
        out.append(MultiPolygon(polys))
    return np.array(out, dtype=object)


def feature_keys(frame: gpd.GeoDataFrame, layer: Layer) -> pd.Series:
    """A stable key per feature (source id, else a content hash) so re-imports keep feature ids."""
    key = next((c for c in KEY_COLUMNS if c in frame.columns), None)
    if key is not None and frame[key].notna().all():
        keys = frame[key].astype(str)
    else:
        label = frame[layer.label].astype(str) if layer.label in frame.columns else pd.Series("", index=frame.index)
        wkb = shapely.to_wkb(frame.geometry.values)
        keys = pd.Series(
            ["h:" + hashlib.sha1(w + lb.encode()).hexdigest()[:20] for w, lb in zip(wkb, label, strict=True)],
            index=frame.index,
        )
    # Identical features would share a key; number the repeats so every key stays unique.
    dup = keys.groupby(keys).cumcount()
    return keys.where(dup == 0, keys + "#" + dup.astype(str))


def map_columns(frame: gpd.GeoDataFrame, layer: Layer, city: str | None, report: list[str]) -> pd.DataFrame:
    """A frame with exactly the layer's columns plus city_code, feature_key, sample and geom."""
    out = pd.DataFrame(index=frame.index)
    used: list[str] = []
    for col in layer.columns:
        hit = _find(frame, col)
        if hit is None:
            if col.required:
                names = ", ".join(a.name for a in col.source_names())
                raise ImportFailed(f"missing required column {col.name} for layer {layer.id} (accepted: {names})")
            out[col.name] = None
            continue
        source, scale = hit
        used.append(source)
        out[col.name] = _convert(frame[source], col, source, scale)
        if col.required and out[col.name].isna().any():
            n = int(out[col.name].isna().sum())
            raise ImportFailed(f"required column {col.name} (from '{source}') is empty in {n} features")
    out["city_code"] = city_codes(frame, city, report)
    foreign = ~out["city_code"].isin(list(CITIES))
    if foreign.any():
        others = sorted(set(out.loc[foreign, "city_code"]))
        report.append(f"対象外の市町村の {int(foreign.sum())} 件を除外: {', '.join(others[:8])}")
        out, frame = out[~foreign], frame[~foreign]
        if out.empty:
            raise ImportFailed("no features belong to 41205 (伊万里市) or 41206 (武雄市)")
    if layer.clean is not None:
        out = layer.clean(out, report)
    out["feature_key"] = feature_keys(frame, layer)
    if "sample" in frame.columns:
        out["sample"] = frame["sample"].astype("string").str.lower().isin(TRUE)
    else:
        out["sample"] = False
    out["geom"] = repair_geometry(frame, layer, report)
    return out.reset_index(drop=True)
