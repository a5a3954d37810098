"""Edit bodies (OGC API Features Part 4) checked against the layer declaration.

First without the database: a body is a GeoJSON Feature (create, replace) or a JSON merge patch of one (update).
Every property must be a declared column of the layer (public or private), `city_code` or `sample`; computed
columns are read-only and ignored (a client may send back what it read). Values are checked against the column
type, required columns must be present (create, replace) and never emptied (update). The geometry must be of the
layer's kind; it arrives in the request's CRS (`Content-Crs`, CRS84 by default, axis order as Part 2 says) and
leaves here in EPSG:6668. Then, inside the write's transaction: invalid geometries repaired (ST_MakeValid) or
refused, the city taken from the geometry (a given city_code must agree), the import's "inside its city" guard,
references to other tables. Errors name the member that is wrong and never echo a value (a private column may hold
a person's name).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS
from shapely.geometry import shape

from gis.cities import CITIES
from gis.errors import ImportFailed, InvalidParameter
from gis.geo import GEOGRAPHIC_SRIDS, JAPAN_BOUNDS, METRIC_SRID, STORAGE_SRID, transformer
from gis.ingest.checks import check_inside
from gis.ingest.crsfit import TOLERANCE_M
from gis.ogc.crs import OutCrs
from layers.base import Col, Layer

MAX_TEXT = 10_000  # characters in one text value
INT_RANGE = (-(2**31), 2**31 - 1)  # integer columns are PostgreSQL int4
# GeoJSON geometry types each kind of layer accepts (a Polygon is stored as a one-part MultiPolygon).
ACCEPTS: dict[str, tuple[str, ...]] = {
    "POINT": ("Point",),
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
    "MULTILINESTRING": ("LineString", "MultiLineString"),
}
GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
EXTRA = ("city_code", "sample")  # properties every layer row has besides its declared columns


@dataclass
class EditBody:
    """A checked body: typed public and private values, the geometry in EPSG:6668 (or None), city and sample."""

    public: dict[str, Any] = field(default_factory=dict)
    private: dict[str, Any] = field(default_factory=dict)
    geometry: shapely.Geometry | None = None
    city_code: str | None = None
    sample: bool | None = None
    partial: bool = False

    @property
    def empty(self) -> bool:
        """Nothing to change (an update with no member this layer knows)."""
        return not (
            self.public or self.private or self.geometry is not None or self.city_code or self.sample is not None
        )


def load_json(raw: bytes) -> Any:
    """The request body as JSON; NaN/Infinity and bad UTF-8 are refused like any malformed body."""

    def no_constant(name: str) -> Any:
        raise InvalidParameter(f"body: {name} is not a JSON number")

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_constant)
    except UnicodeDecodeError as e:
        raise InvalidParameter("body: not UTF-8") from e
    except (json.JSONDecodeError, RecursionError) as e:
        raise InvalidParameter("body: not valid JSON") from e


def _coerce(col: Col, value: Any, where: str) -> Any:
    """A JSON value as the column's Python value (None stays None)."""
    if value is None:
        return None
    kind = col.type
    if kind == "text":
        if not isinstance(value, str):
            raise InvalidParameter(f"{where}: must be a string (text column)")
        if "\x00" in value:
            raise InvalidParameter(f"{where}: contains a NUL character")
        if len(value) > MAX_TEXT:
            raise InvalidParameter(f"{where}: longer than {MAX_TEXT:,} characters")
        return value
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameter(f"{where}: must be an integer")
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise InvalidParameter(f"{where}: out of the integer range")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise InvalidParameter(f"{where}: must be a number")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidParameter(f"{where}: must be true or false")
        return value
    if kind == "date":
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError as e:
            raise InvalidParameter(f"{where}: must be a date YYYY-MM-DD") from e
    if kind == "timestamptz":
        try:
            stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            stamp = None
        if stamp is None or stamp.tzinfo is None:
            raise InvalidParameter(f"{where}: must be an ISO 8601 time with its offset, e.g. 2026-12-01T09:00:00+09:00")
        return stamp
    return value  # json: any JSON value


def _properties(layer: Layer, props: Any, partial: bool) -> EditBody:
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise InvalidParameter("properties: must be an object")
    computed = {c.name for c in layer.computed}
    body = EditBody(partial=partial)
    for name, value in props.items():
        where = f"properties.{name}"
        if name in computed:
            continue  # read-only (computed at read time); a client may send back what it read
        if name == "city_code":
            if value is not None and value not in CITIES:
                raise InvalidParameter(f"{where}: must be one of {', '.join(CITIES)}")
            body.city_code = value
            continue
        if name == "sample":
            if value is not None and not isinstance(value, bool):
                raise InvalidParameter(f"{where}: must be true or false")
            body.sample = value
            continue
        try:
            col = layer.column(name)
        except KeyError:
            known = ", ".join([c.name for c in layer.columns] + list(EXTRA))
            raise InvalidParameter(f"{where}: unknown property of {layer.id} (known: {known})") from None
        typed = _coerce(col, value, where)
        if typed is None and col.required:
            raise InvalidParameter(f"{where}: required by {layer.id}; it cannot be empty")
        (body.public if col.public else body.private)[name] = typed
    if not partial:
        given = {**body.public, **body.private}
        missing = [c.name for c in layer.columns if c.required and given.get(c.name) is None]
        if missing:
            raise InvalidParameter(f"properties.{missing[0]}: required by {layer.id}")
        for c in layer.columns:  # a replace sets every column: what it leaves out becomes empty
            (body.public if c.public else body.private).setdefault(c.name, None)
    return body


def _coordinates_ok(value: Any, depth: int) -> bool:
    """Nested lists of finite numbers, `depth` levels deep (0: one position)."""
    if not isinstance(value, list):
        return False
    if depth == 0:
        return 2 <= len(value) <= 4 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
        )
    return all(_coordinates_ok(v, depth - 1) for v in value)


DEPTHS = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def _inside_japan(g: shapely.Geometry) -> bool:
    x0, y0, x1, y1 = shapely.bounds(g)
    return JAPAN_BOUNDS[0] <= x0 and x1 <= JAPAN_BOUNDS[2] and JAPAN_BOUNDS[1] <= y0 and y1 <= JAPAN_BOUNDS[3]


def parse_geometry(layer: Layer, value: Any, crs: OutCrs) -> shapely.Geometry:
    """A GeoJSON geometry of the layer's kind in the request CRS → a 2D shapely geometry in EPSG:6668."""
    if not isinstance(value, dict):
        raise InvalidParameter("geometry: must be a GeoJSON geometry object")
    kind = value.get("type")
    accepted = ACCEPTS[layer.geom_type]
    if kind not in GEOMETRY_TYPES:
        raise InvalidParameter(f"geometry: unknown or unsupported type; {layer.id} takes {' or '.join(accepted)}")
    if kind not in accepted:
        raise InvalidParameter(
            f"geometry: a {kind} cannot go into {layer.id} (a {layer.geom_type} layer); send {' or '.join(accepted)}"
        )
    if not _coordinates_ok(value.get("coordinates"), DEPTHS[kind]):
        raise InvalidParameter(f"geometry: malformed {kind} coordinates (nested arrays of 2 or 3 finite numbers)")
    try:
        geom = shape({"type": kind, "coordinates": value["coordinates"]})
    except (ValueError, TypeError, IndexError, shapely.errors.GEOSException) as e:
        raise InvalidParameter(f"geometry: not a valid GeoJSON {kind} (too few positions, or rings not closed)") from e
    if geom.is_empty:
        raise InvalidParameter("geometry: empty")
    geom = shapely.force_2d(geom)
    if crs.north_first:  # Part 2: EPSG:4326/6668 are lat,lon and EPSG:6670 is X(northing),Y(easting)
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if crs.srid not in GEOGRAPHIC_SRIDS:
        to_storage = transformer(crs.srid, STORAGE_SRID)
        geom = shapely.transform(geom, lambda xy: np.column_stack(to_storage.transform(xy[:, 0], xy[:, 1])))
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise InvalidParameter(f"geometry: coordinates cannot be read as {crs.uri}")
    if not _inside_japan(geom):
        swapped = shapely.transform(geom, lambda xy: xy[:, ::-1])
        order = "lat,lon" if crs.north_first else "lon,lat"
        hint = f"; the axes look swapped: {crs.uri} is {order}" if _inside_japan(swapped) else ""
        raise InvalidParameter(f"geometry: outside Japan when read as {crs.uri} (Content-Crs){hint}")
    return geom


def parse_feature(layer: Layer, doc: Any, crs: OutCrs, fid: int | None = None) -> EditBody:
    """A whole Feature (create, replace): geometry and every required property."""
    if not isinstance(doc, dict) or doc.get("type") != "Feature":
        raise InvalidParameter('body: must be one GeoJSON Feature ({"type": "Feature", "geometry", "properties"})')
    if fid is not None and doc.get("id") is not None and str(doc["id"]) != str(fid):
        raise InvalidParameter(f"id: the body's id differs from the feature {fid} in the path")
    if doc.get("geometry") is None:
        raise InvalidParameter(f"geometry: required ({' or '.join(ACCEPTS[layer.geom_type])})")
    body = _properties(layer, doc.get("properties"), partial=False)
    body.geometry = parse_geometry(layer, doc["geometry"], crs)
    return body


def parse_patch(layer: Layer, doc: Any, crs: OutCrs) -> EditBody:
    """A JSON merge patch of a Feature (update): the properties and/or the geometry it names."""
    if not isinstance(doc, dict):
        raise InvalidParameter("body: must be a JSON object (a merge patch of the feature)")
    if doc.get("type", "Feature") != "Feature":
        raise InvalidParameter("type: must be Feature")
    body = _properties(layer, doc.get("properties"), partial=True)
    if "geometry" in doc:
        if doc["geometry"] is None:
            raise InvalidParameter(f"geometry: {layer.id} features need one; it cannot be removed")
        body.geometry = parse_geometry(layer, doc["geometry"], crs)
    if body.empty:
        raise InvalidParameter("body: nothing to change (give properties and/or geometry)")
    return body


# -- checks that need the database (inside the write's transaction) ---------------------------------------
# Columns of other tables that must name an existing row, per (layer, column): (table, key column). Checked only
# when the city has rows in that table (a city whose garbage groups are not loaded yet can still get points).
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {("garbage_points", "group_id"): ("garbage_groups", "group_id")}


def stored_geometry(cur: psycopg.Cursor, layer: Layer, geom: shapely.Geometry, notes: list[str]) -> bytes:
    """The geometry as stored (EWKB, EPSG:6668): invalid ones repaired by ST_MakeValid when that keeps their kind."""
    family = layer.geom_type.removeprefix("MULTI")
    wrap = "ST_Multi" if layer.geom_type.startswith("MULTI") else ""
    try:
        valid, reason, stored, fixed, kind, empty = cur.execute(
            "WITH g AS (SELECT ST_GeomFromWKB(%s, %s) AS g), f AS (SELECT g, ST_Multi(ST_MakeValid(g)) AS m FROM g) "
            f"SELECT ST_IsValid(g), ST_IsValidReason(g), ST_AsEWKB({wrap}(g)), ST_AsEWKB(m), GeometryType(m), "
            "ST_IsEmpty(m) FROM f",
            (shapely.to_wkb(geom), STORAGE_SRID),
        ).fetchone()
    except psycopg.errors.InternalError_ as e:  # GEOS gave up on it
        raise InvalidParameter("geometry: PostGIS cannot read or repair this geometry") from e
    if valid:
        return stored
    reason = (reason or "").split("[")[0].strip() or "invalid"
    if empty or kind.removeprefix("MULTI") != family:
        shape = "empty" if empty else kind
        raise InvalidParameter(
            f"geometry: invalid ({reason}) and repairing it would make it {shape}, not a {layer.geom_type}: fix it"
        )
    notes.append(f"geometry repaired with ST_MakeValid ({reason})")
    return fixed


def city_of(cur: psycopg.Cursor, layer: Layer, ewkb: bytes, given: str | None) -> str:
    """The city the geometry lies in (within the import tolerance); a given city_code must agree with it."""
    if layer.id == "municipalities":  # the boundaries themselves: the body names its city
        if given is None:
            raise InvalidParameter("properties.city_code: required for municipalities")
        return given
    row = cur.execute(
        "WITH g AS (SELECT ST_Transform(ST_GeomFromEWKB(%s), %s) AS g) "
        "SELECT m.city_code FROM municipalities m, g WHERE ST_DWithin(m.geom_m, g.g, %s) "
        "ORDER BY ST_Distance(m.geom_m, ST_PointOnSurface(g.g)), m.city_code LIMIT 1",
        (ewkb, METRIC_SRID, TOLERANCE_M),
    ).fetchone()
    if row is None:
        if cur.execute("SELECT count(*) FROM municipalities").fetchone()[0]:
            raise InvalidParameter(
                f"geometry: outside {' and '.join(c.name for c in CITIES.values())} "
                f"(more than {TOLERANCE_M:.0f} m from both): check the coordinates and Content-Crs"
            )
        if given is None:
            raise InvalidParameter("properties.city_code: required (no municipal boundaries are loaded)")
        return given
    found = row[0]
    if given is not None and given != found:
        raise InvalidParameter(
            f"properties.city_code: {given} ({CITIES[given].name}) but the geometry lies in "
            f"{CITIES[found].name if found in CITIES else found} ({found})"
        )
    return found


def check_inside_city(
    cur: psycopg.Cursor, layer: Layer, city: str, ewkb: bytes, geom: shapely.Geometry, srid: int
) -> None:
    """The import's "inside its city" guard on this one feature (with its wrong-CRS hint)."""
    cur.execute("DROP TABLE IF EXISTS pg_temp.stage")
    cur.execute(
        "CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT %s::text AS city_code, ST_GeomFromEWKB(%s) AS geom",
        (city, ewkb),
    )
    try:
        check_inside(
            cur, layer.id, [city], np.array([geom], dtype=object), CRS.from_epsg(srid), allow_outside=False, report=[]
        )
    except ImportFailed as e:
        text = e.description.replace("pass --crs", "send Content-Crs").replace(
            ": check the file, or pass --allow-outside to keep them", ""
        )
        raise InvalidParameter(f"geometry: {text}") from e
    finally:
        cur.execute("DROP TABLE IF EXISTS pg_temp.stage")


def check_references(cur: psycopg.Cursor, layer: Layer, city: str, values: dict) -> None:
    """Values that must name a row of another table of the same city (a garbage point's collection group)."""
    for (layer_id, column), (table, key) in REFERENCES.items():
        if layer_id != layer.id or values.get(column) is None:
            continue
        found, any_rows = cur.execute(
            sql.SQL("SELECT bool_or({k} = %s), count(*) > 0 FROM {t} WHERE city_code = %s").format(
                k=sql.Identifier(key), t=sql.Identifier(table)
            ),
            (values[column], city),
        ).fetchone()
        if any_rows and not found:
            raise InvalidParameter(f"properties.{column}: {CITIES[city].name} has no {table} row with that {key}")
