"""Compile OGC CQL2 filters (cql2-text, cql2-json; parsed by pygeofilter) into parameterised PostGIS SQL."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from pygeofilter import ast, values
from pygeofilter.cql2 import get_op
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from gis.errors import InvalidParameter
from gis.ogc.cql_parse import GEOM_FORMATS, MAX_DEPTH, MAX_LENGTH, bbox_polygon, parse_filter
from gis.ogc.limits import BIGINT, DOUBLE_MAX, check_coordinates, check_number, check_srid, check_text
from gis.sql import q
from layers.base import JSON_SCHEMA_TYPES

__all__ = ["CompiledFilter", "compile_filter", "parse_filter", "queryables_schema", "MAX_LENGTH", "MAX_DEPTH"]

# fmt: off
_SQL_TYPE = {"text": "text", "int": "bigint", "float": "double precision", "date": "date", "bool": "boolean",
             "timestamptz": "timestamptz"}
_COLUMN_TYPES = {*_SQL_TYPE, "json"}
_NUMERIC, _TIME = {"int", "float"}, {"date", "timestamptz"}
_TIME_HINT = "DATE('YYYY-MM-DD') or TIMESTAMP('YYYY-MM-DDThh:mm:ssZ')"
_HINT = {"text": "a string such as 'abc'", "int": "a number", "float": "a number", "date": _TIME_HINT,
         "timestamptz": _TIME_HINT, "bool": "TRUE or FALSE", "geometry": "a spatial predicate such as S_INTERSECTS",
         "json": "only IS NULL / IS NOT NULL"}
_KIND = {"text": "a string", "int": "an integer", "float": "a number", "bool": "a boolean", "date": "a date",
         "timestamptz": "a timestamp", "geometry": "a geometry", "interval": "an interval"}
_SPATIAL = {getattr(ast, f"Geometry{name}"): f"ST_{name}"
            for name in ("Intersects", "Within", "Contains", "Disjoint", "Equals", "Touches", "Crosses", "Overlaps")}
# pygeofilter maps T_INTERSECTS to TimeOverlaps; for instant properties "overlaps" is read as "intersects"
_INSTANT_OPS = {ast.TimeAfter: ">", ast.TimeBefore: "<", ast.TimeEquals: "=", ast.TimeOverlaps: "="}
_MIRROR = {ast.TimeAfter: ast.TimeBefore, ast.TimeBefore: ast.TimeAfter, ast.TimeDuring: ast.TimeContains,
           ast.TimeContains: ast.TimeDuring}
_TEMPORAL_HELP = "supported: T_AFTER, T_BEFORE, T_EQUALS, T_INTERSECTS, T_DISJOINT, T_DURING/T_CONTAINS with INTERVAL"
_LITERAL_TYPES = (("bool", bool), ("int", int), ("float", float), ("text", str), ("timestamptz", datetime),
                  ("date", date), ("geometry", values.Geometry | values.Envelope), ("interval", values.Interval))
# fmt: on


@dataclass(frozen=True)
class CompiledFilter:
    """A SQL WHERE fragment and the values for its $n placeholders, in order."""

    sql: str
    params: list[Any]


class _Typed(NamedTuple):
    sql: str
    type: str
    label: str
    # A lower estimate of a number's magnitude (properties count as 1): past the type's range it surely overflows.
    mag: float = 1.0


def _is_literal(node: Any) -> bool:
    return isinstance(node, str | int | float | date | values.Geometry | values.Envelope | values.Interval)


def _kind(value: Any) -> str | None:
    return next((kind for kind, types in _LITERAL_TYPES if isinstance(value, types)), None)


def _deeper(depth: int) -> int:
    if depth >= MAX_DEPTH:
        raise InvalidParameter(f"Filter is nested too deeply (more than {MAX_DEPTH} levels)")
    return depth + 1


def _unsupported(node: Any) -> InvalidParameter:
    if not isinstance(node, ast.Node):
        return InvalidParameter(f"Unsupported expression in filter: {_KIND.get(_kind(node) or '', 'a value')} here")
    return InvalidParameter(f"Unsupported operator in filter: {(get_op(node) or type(node).__name__).upper()}")


class _Compiler:
    def __init__(self, columns: Mapping[str, str], geometry: str, srid: int, filter_crs: int, start: int) -> None:
        bad = {name: kind for name, kind in columns.items() if kind not in _COLUMN_TYPES}
        if bad:
            raise ValueError(f"unknown queryable column types: {bad}")
        self.columns, self.geometry, self.srid, self.crs, self.start = columns, geometry, srid, filter_crs, start
        self.params: list[Any] = []

    def bind(self, value: Any, kind: str) -> str:
        self.params.append(value)
        return f"${self.start + len(self.params) - 1}::{_SQL_TYPE.get(kind, kind)}"

    def attribute(self, name: Any) -> _Typed:
        name = str(name)
        if name == self.geometry or (name == "geometry" and name not in self.columns):
            return _Typed(q(self.geometry), "geometry", f"property '{name}'")
        if name in self.columns:
            return _Typed(q(name), self.columns[name], f"property '{name}'")
        names = ", ".join(sorted({*self.columns, self.geometry}))
        raise InvalidParameter(f"Unknown property '{name[:64]}' in filter; queryable properties are: {names}")

    def literal(self, value: Any, want: _Typed | None) -> _Typed:
        kind = _kind(value)
        if kind is None or kind in ("geometry", "interval"):
            raise _unsupported(value)
        if kind == "text":
            check_text(value, "filter", "a string literal")
        target = want.type if want else kind
        if target in _NUMERIC and kind in _NUMERIC:
            check_number(value, "filter")
            if kind == "int" == target:
                if not -BIGINT <= value < BIGINT:
                    raise InvalidParameter("filter: integer literal out of range (at most 19 digits)")
                return _Typed(self.bind(value, "int"), "int", "a literal", abs(float(value)))
            return _Typed(self.bind(float(value), "float"), "float", "a literal", abs(float(value)))
        if target == "timestamptz" and kind == "date":  # midnight UTC, not the session time zone
            value, kind = datetime(value.year, value.month, value.day, tzinfo=UTC), target
        if target == kind or (target in _TIME and kind in _TIME):
            return _Typed(self.bind(value, kind), kind, "a literal")
        assert want is not None
        raise InvalidParameter(
            f"Type mismatch: {want.label} is {target} and expects {_HINT[target]}, but the filter gives {_KIND[kind]}"
        )

    def operand(self, node: Any, want: _Typed | None, depth: int) -> _Typed:
        if _is_literal(node):
            return self.literal(node, want)
        got = self.expr(node, depth)
        pair = {got.type, want.type} if want is not None else set()
        if want is not None and len(pair) > 1 and not (pair <= _NUMERIC or pair <= _TIME):
            raise InvalidParameter(f"Type mismatch: {got.label} is {got.type} but {want.label} is {want.type}")
        return got

    def scalar(self, node: Any, depth: int, want: _Typed | None = None) -> _Typed:
        got = self.operand(node, want, depth)
        if got.type in ("geometry", "json"):
            raise InvalidParameter(f"Type mismatch: {got.label} is {got.type}; use {_HINT[got.type]}")
        return got

    def expr(self, node: Any, depth: int) -> _Typed:
        depth = _deeper(depth)
        if isinstance(node, ast.Attribute):
            return self.attribute(node.name)
        if isinstance(node, ast.Function):
            if str(node.name).lower() in ("lower", "casei") and len(node.arguments) == 1:
                arg = self.scalar(node.arguments[0], depth, _Typed("", "text", "the CASEI argument"))
                return _Typed(f"lower({arg.sql})", "text", f"CASEI({arg.label})")
            raise InvalidParameter(f"Unsupported function '{str(node.name)[:40]}' in filter; supported: CASEI")
        if isinstance(node, ast.Arithmetic):
            a, b = self.scalar(node.lhs, depth), self.scalar(node.rhs, depth)
            for side in (a, b):
                if side.type not in _NUMERIC:
                    raise InvalidParameter(f"Type mismatch: arithmetic needs numbers, but {side.label} is {side.type}")
            if isinstance(node, ast.Div):
                mag = a.mag / b.mag if b.mag else a.mag  # x / 0 is NULL
                _check_magnitude(mag, "float")
                sql = f"({a.sql}::double precision / NULLIF({b.sql}, 0))"
                return _Typed(sql, "float", "an arithmetic expression", mag)
            kind = "int" if a.type == b.type == "int" else "float"
            mag = a.mag * b.mag if isinstance(node, ast.Mul) else a.mag + b.mag
            _check_magnitude(mag, kind)
            return _Typed(f"({a.sql} {node.op.value} {b.sql})", kind, "an arithmetic expression", mag)
        if _is_literal(node):
            return self.literal(node, None)
        raise _unsupported(node)

    def geom(self, node: Any) -> str:
        if isinstance(node, ast.Attribute):
            got = self.attribute(node.name)
            if got.type != "geometry":
                raise InvalidParameter(
                    f"Type mismatch: spatial predicates need the geometry property '{self.geometry}', "
                    f"but {got.label} is {got.type}"
                )
            return got.sql
        if isinstance(node, ast.Function) and str(node.name).lower() == "bbox":
            return self.geom_literal(bbox_polygon(node.arguments))
        if isinstance(node, values.Geometry | values.Envelope):
            return self.geom_literal(node.geometry)
        raise InvalidParameter(
            "Spatial predicates compare the geometry property with a geometry literal "
            "(POINT, LINESTRING, POLYGON, MULTI*, BBOX or ENVELOPE)"
        )

    def geom_literal(self, geojson: dict) -> str:
        crs = self.crs
        if "crs" in geojson:  # from EWKT "SRID=n;" (or a legacy GeoJSON crs member)
            try:
                found = re.search(r"EPSG::?(\d{1,6})$", str(geojson["crs"]["properties"]["name"]))
            except (KeyError, TypeError):
                found = None
            if not found:
                raise InvalidParameter("Unsupported geometry CRS: use SRID=<EPSG code>; or the filter-crs parameter")
            crs = int(found[1])
            check_srid(crs, "filter")
        try:
            geom = shape(geojson)
        except Exception:
            raise InvalidParameter("Invalid geometry literal in filter") from None
        if geom.is_empty:
            raise InvalidParameter("Empty geometry literal in filter")
        check_coordinates(geom.bounds, crs, "filter")
        if not geom.is_valid:  # GEOS throws on some invalid inputs (a self-crossing polygon in a collection)
            raise InvalidParameter(f"filter: invalid geometry literal ({explain_validity(geom)[:80]})")
        sql = f"ST_SetSRID(ST_GeomFromGeoJSON({self.bind(json.dumps(mapping(geom)), 'text')}), {crs})"
        return sql if crs == self.srid else f"ST_Transform({sql}, {self.srid})"

    def temporal(self, node: ast.TemporalPredicate, depth: int) -> str:
        op, lhs, rhs = type(node), node.lhs, node.rhs
        name = (get_op(node) or op.__name__).upper()
        if _is_literal(lhs) and not _is_literal(rhs):
            op, lhs, rhs = _MIRROR.get(op, op), rhs, lhs
        x = self.expr(lhs, depth)
        if x.type not in _TIME:
            raise InvalidParameter(
                f"Type mismatch: {name} needs a date or timestamp property, but {x.label} is {x.type}"
            )
        if not isinstance(rhs, values.Interval):
            if op not in _INSTANT_OPS:
                raise InvalidParameter(f"Unsupported use of {name} with an instant; {_TEMPORAL_HELP}")
            return f"{x.sql} {_INSTANT_OPS[op]} {self.operand(rhs, x, depth).sql}"
        uses = {ast.TimeAfter: "e", ast.TimeBefore: "s"}.get(op, "se")
        if op not in _INSTANT_OPS and op is not ast.TimeDuring:
            raise InvalidParameter(f"Unsupported use of {name} with an interval; {_TEMPORAL_HELP}")
        s = self.literal(rhs.start, x).sql if "s" in uses and rhs.start is not None else None
        e = self.literal(rhs.end, x).sql if "e" in uses and rhs.end is not None else None
        if op is ast.TimeAfter:
            return f"{x.sql} > {e}" if e else "FALSE"
        if op is ast.TimeBefore:
            return f"{x.sql} < {s}" if s else "FALSE"
        if op is ast.TimeEquals:
            return f"({x.sql} = {s} AND {x.sql} = {e})" if s and e else "FALSE"
        lo, hi = (">", "<") if op is ast.TimeDuring else (">=", "<=")
        parts = [p for p in (s and f"{x.sql} {lo} {s}", e and f"{x.sql} {hi} {e}") if p]
        return "(" + " AND ".join(parts) + ")" if parts else f"{x.sql} IS NOT NULL"

    def condition(self, node: Any, depth: int) -> str:
        depth = _deeper(depth)
        if isinstance(node, ast.Combination):
            parts, stack = [], [node]
            while stack:  # flatten a AND b AND c chains iteratively: they are long, not deep
                item = stack.pop()
                if type(item) is type(node):
                    stack += [item.rhs, item.lhs]
                else:
                    parts.append(item)
            return "(" + f" {node.op.value} ".join(self.condition(p, depth) for p in parts) + ")"
        if isinstance(node, ast.Not):
            return f"NOT ({self.condition(node.sub_node, depth)})"
        if isinstance(node, ast.Comparison):
            if _is_literal(node.lhs) and not _is_literal(node.rhs):
                b = self.scalar(node.rhs, depth)
                a = self.scalar(node.lhs, depth, b)
            else:
                a = self.scalar(node.lhs, depth)
                b = self.scalar(node.rhs, depth, a)
            return f"{a.sql} {node.op.value} {b.sql}"
        if isinstance(node, ast.Between):
            a = self.scalar(node.lhs, depth)
            low, high = self.scalar(node.low, depth, a), self.scalar(node.high, depth, a)
            return f"{a.sql} {'NOT ' if node.not_ else ''}BETWEEN {low.sql} AND {high.sql}"
        if isinstance(node, ast.In):
            a = self.scalar(node.lhs, depth)
            if not isinstance(node.sub_nodes, list) or not node.sub_nodes:
                raise InvalidParameter("IN needs a non-empty list of values")
            items = ", ".join(self.scalar(item, depth, a).sql for item in node.sub_nodes)
            return f"{a.sql} {'NOT ' if node.not_ else ''}IN ({items})"
        if isinstance(node, ast.Like):
            a = self.scalar(node.lhs, depth)
            if a.type != "text":
                raise InvalidParameter(f"Type mismatch: LIKE needs a text property, but {a.label} is {a.type}")
            _check_like(node.pattern)
            pattern = self.scalar(node.pattern, depth, a)
            return f"{a.sql} {'NOT ' if node.not_ else ''}{'ILIKE' if node.nocase else 'LIKE'} {pattern.sql}"
        if isinstance(node, ast.IsNull):
            return f"{self.expr(node.lhs, depth).sql} IS {'NOT ' if node.not_ else ''}NULL"
        if type(node) in _SPATIAL:
            return f"{_SPATIAL[type(node)]}({self.geom(node.lhs)}, {self.geom(node.rhs)})"
        if isinstance(node, ast.BBox):
            if node.crs:
                raise InvalidParameter("BBOX with a CRS argument is not supported; use the filter-crs parameter")
            box = self.geom_literal(bbox_polygon([node.minx, node.miny, node.maxx, node.maxy]))
            return f"ST_Intersects({self.geom(node.lhs)}, {box})"
        if isinstance(node, ast.Relate):
            if not re.fullmatch(r"[012TF*]{9}", str(node.pattern), re.IGNORECASE):
                raise InvalidParameter("RELATE needs a 9-character DE-9IM pattern of 0, 1, 2, T, F and *")
            a, b = self.geom(node.lhs), self.geom(node.rhs)
            return f"ST_Relate({a}, {b}, {self.bind(str(node.pattern).upper(), 'text')})"
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node, depth)
        if isinstance(node, ast.Include):
            return "FALSE" if node.not_ else "TRUE"
        if isinstance(node, bool):
            return "TRUE" if node else "FALSE"
        if isinstance(node, ast.Attribute) and self.attribute(node.name).type == "bool":
            return self.attribute(node.name).sql
        if isinstance(node, ast.Node) and not isinstance(node, ast.Predicate | ast.Condition):
            raise InvalidParameter("Filter must be a condition (a comparison or predicate), not a bare expression")
        raise _unsupported(node)


def _check_magnitude(mag: float, kind: str) -> None:
    if (mag >= BIGINT) if kind == "int" else (mag > DOUBLE_MAX):
        what = "a 64-bit integer" if kind == "int" else "double precision"
        raise InvalidParameter(f"filter: arithmetic overflow (the result exceeds the range of {what})")


def _check_like(pattern: Any) -> None:
    # A literal pattern, or one wrapped in CASEI(...); other patterns come from the data.
    while isinstance(pattern, ast.Function) and len(pattern.arguments) == 1:
        pattern = pattern.arguments[0]
    if isinstance(pattern, str) and (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        raise InvalidParameter(
            "filter: a LIKE pattern cannot end with a single backslash (the escape character); write \\\\ for one"
        )


def compile_filter(
    text: str,
    lang: str,
    columns: Mapping[str, str],
    *,
    geometry: str = "geom",
    srid: int = 6668,
    filter_crs: int = 4326,
    start: int = 1,
) -> CompiledFilter:
    """Compile a CQL2 filter into a SQL WHERE fragment with $n bind parameters starting at `start`."""
    compiler = _Compiler(columns, geometry, int(srid), int(filter_crs), int(start))
    sql = compiler.condition(parse_filter(text, lang), 0)
    return CompiledFilter(sql=sql, params=compiler.params)


def queryables_schema(
    columns: Mapping[str, str], titles: Mapping[str, str], geometry_type: str, *, geometry: str = "geom"
) -> dict:
    """Return the OGC API Features Part 3 `/queryables` JSON Schema for a collection's queryable columns."""
    kind = re.sub(r"^st_|(zm|z|m)$", "", (geometry_type or "").strip().lower())
    fmt = f"geometry-{kind}" if kind in GEOM_FORMATS else "geometry-any"
    properties: dict[str, dict] = {
        geometry: {"title": titles.get(geometry, "Geometry"), "format": fmt, "x-ogc-role": "primary-geometry"}
    }
    for name, column_type in columns.items():
        properties[name] = {"title": titles.get(name, name), **JSON_SCHEMA_TYPES.get(column_type, {})}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
