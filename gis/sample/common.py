"""Inputs and helpers shared by the sample-data generators (CRS, towns, land, GeoJSON writing)."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely import Geometry
from shapely.geometry import Point, mapping

from gis.cities import CITIES as CITY_TABLE

IMARI, TAKEO = tuple(CITY_TABLE)
CITIES = (IMARI, TAKEO)
CITY_NAMES = {c.code: c.name for c in CITY_TABLE.values()}
LG_CODES = {c.code: c.lg_code for c in CITY_TABLE.values()}
PREFIX = "（サンプル）"
CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6668"}}
PRECISION = 1e-7  # 7 decimals of a degree, about 1 cm

# Per-layer offsets added to the seed, so each layer has its own stream and editing one leaves the others alone.
OFFSETS = {"zoning": 1, "parks": 3, "cemeteries": 4, "facilities": 5, "garbage": 6, "farmland": 7, "sensors": 8}

# Given names for obviously fake people; every fake name carries the marker 見本 ("specimen").
FAKE_GIVEN = [
    "太郎",
    "花子",
    "一郎",
    "次郎",
    "和子",
    "幸子",
    "三郎",
    "洋子",
    "健一",
    "恵子",
    "正夫",
    "節子",
    "進",
    "明美",
    "浩",
    "久美子",
]

_TO_M = pyproj.Transformer.from_crs(6668, 6670, always_xy=True)
_TO_LL = pyproj.Transformer.from_crs(6670, 6668, always_xy=True)


def rng_for(seed: int, layer: str) -> np.random.Generator:
    """The random generator of one layer."""
    return np.random.default_rng(seed + OFFSETS[layer])


def rng_uuid(rng: np.random.Generator) -> str:
    """A version-4 UUID string drawn from the generator."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def fake_name(rng: np.random.Generator) -> str:
    """An obviously fake personal name such as 見本 太郎."""
    return "見本 " + FAKE_GIVEN[int(rng.integers(len(FAKE_GIVEN)))]


def to_metric(geom: Any) -> Any:
    """Geometry (or array of them) from EPSG:6668 lon/lat to EPSG:6670 metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_M.transform(xy[:, 0], xy[:, 1])))


def to_lonlat(geom: Any) -> Any:
    """Geometry (or array of them) from EPSG:6670 metres to EPSG:6668 lon/lat."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_LL.transform(xy[:, 0], xy[:, 1])))


def snap(geom: Any) -> Any:
    """Snap lon/lat geometry to the 7-decimal grid, keeping it valid."""
    return shapely.set_precision(geom, PRECISION)


def lonlat_of(x: float, y: float) -> tuple[float, float]:
    """A metric point as rounded (lon, lat)."""
    lon, lat = _TO_LL.transform(x, y)
    return round(lon, 7), round(lat, 7)


@dataclass(frozen=True)
class Town:
    """One 大字/町 representative point of the address CSV."""

    city_code: str
    oaza: str  # 町字 as in the CSV, e.g. 山代町楠久, 武雄町大字武雄
    koaza: str
    lon: float
    lat: float
    x: float
    y: float
    short: str  # short name for sample labels, e.g. 楠久

    @property
    def label(self) -> str:
        """町字 plus 小字, with 大字 dropped as in everyday writing (武雄町武雄)."""
        return (self.oaza + self.koaza).replace("大字", "")

    @property
    def address(self) -> str:
        """City plus 町字, e.g. 伊万里市山代町楠久."""
        return CITY_NAMES[self.city_code] + self.oaza


@dataclass(frozen=True)
class Inputs:
    """The real input layers, in both CRSs where needed."""

    land_ll: dict[str, Geometry]
    land_m: dict[str, Geometry]
    towns: list[Town]
    takeo_zoning_ll: list[Geometry]
    takeo_zoning_names: list[str]
    takeo_planning_ll: Geometry
    imari_coast_m: Geometry

    def city_towns(self, city: str) -> list[Town]:
        """The towns of one city, in CSV order."""
        return [t for t in self.towns if t.city_code == city]


def _short_names(rows: Sequence[dict[str, str]]) -> list[str]:
    """Short labels: the part after 町 (大字 dropped), or the 町 name itself; prefixed when ambiguous."""
    bases = []
    for r in rows:
        name = r["oaza_cho"]
        head, _, tail = name.partition("町")
        tail = tail.replace("大字", "").rstrip("甲乙丙")
        base = r["koaza"] or tail or head
        bases.append((head, base))
    # Only a name shared by different 町 is ambiguous (伊万里町甲/乙 both give 伊万里, which is fine).
    heads: dict[str, set[str]] = {}
    for head, b in bases:
        heads.setdefault(b, set()).add(head)
    return [b if len(heads[b]) == 1 else head + b for head, b in bases]


def load_inputs(data_dir: Path) -> Inputs:
    """Read boundaries, towns and the real Takeo zoning from data_dir."""
    muni = json.loads((data_dir / "boundaries/saga_municipalities_n03_2022.geojson").read_text(encoding="utf-8"))
    parts: dict[str, list[Geometry]] = {}
    for f in muni["features"]:
        parts.setdefault(f["properties"]["N03_007"], []).append(shapely.geometry.shape(f["geometry"]))
    land_ll = {c: shapely.union_all(parts[c]) for c in CITIES}
    land_m = {c: to_metric(g) for c, g in land_ll.items()}
    others_m = to_metric(shapely.union_all([g for c, gs in sorted(parts.items()) if c != IMARI for g in gs]))
    coast = land_m[IMARI].boundary.difference(others_m.buffer(1.0))

    with (data_dir / "addresses/imari_takeo_oaza_geolonia.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["city_code"] in CITIES]
    towns = []
    for r, short in zip(rows, _short_names(rows), strict=True):
        lon, lat = float(r["lng"]), float(r["lat"])
        x, y = _TO_M.transform(lon, lat)
        towns.append(Town(r["city_code"], r["oaza_cho"], r["koaza"], lon, lat, x, y, short))

    zoning = json.loads((data_dir / "zoning/takeo_use_district_plateau2022.geojson").read_text(encoding="utf-8"))
    planning = json.loads(
        (data_dir / "zoning/takeo_urban_planning_area_plateau2022.geojson").read_text(encoding="utf-8")
    )
    return Inputs(
        land_ll=land_ll,
        land_m=land_m,
        towns=towns,
        takeo_zoning_ll=[shapely.geometry.shape(f["geometry"]) for f in zoning["features"]],
        takeo_zoning_names=[f["properties"]["function_name"] for f in zoning["features"]],
        takeo_planning_ll=shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in planning["features"]]),
        imari_coast_m=coast,
    )


def point_near(
    rng: np.random.Generator, x: float, y: float, rmin: float, rmax: float, ok: Geometry, tries: int = 500
) -> Point:
    """A random metric point rmin..rmax from (x, y) that lies inside the prepared area ok."""
    shapely.prepare(ok)
    for _ in range(tries):
        r = rng.uniform(rmin, rmax)
        a = rng.uniform(0.0, 2.0 * np.pi)
        p = Point(x + r * np.cos(a), y + r * np.sin(a))
        if ok.contains(p):
            return p
    raise RuntimeError(f"no point within {rmax} m of ({x:.0f}, {y:.0f}) in the allowed area")


def iso_date(rng: np.random.Generator, first_year: int, last_year: int) -> str:
    """A random ISO date between 1 Jan first_year and 28th of a month in last_year."""
    return f"{rng.integers(first_year, last_year + 1)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"


def _rounded(obj: Any) -> Any:
    """GeoJSON coordinates as lists with 7-decimal floats."""
    if isinstance(obj, float):
        return round(obj, 7)
    if isinstance(obj, (tuple, list)):
        return [_rounded(v) for v in obj]
    return obj


def feature(props: dict[str, Any], geom_ll: Geometry) -> dict[str, Any]:
    """A GeoJSON feature with rounded coordinates."""
    g = mapping(geom_ll)
    geometry = {"type": g["type"], "coordinates": _rounded(g["coordinates"])}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def dumps(obj: Any) -> str:
    """Compact JSON that keeps Japanese text readable."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_geojson(path: Path, name: str, features: Iterable[dict[str, Any]]) -> int:
    """Write a FeatureCollection, one feature per line (stable diffs); return the feature count."""
    lines = [dumps(f) for f in features]
    head = dumps({"type": "FeatureCollection", "name": name, "crs": CRS_MEMBER})[:-1]
    path.write_text(head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    return len(lines)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a UTF-8 CSV with LF line ends; return the row count."""
    rows = list(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return len(rows)
