"""Compile OGC CQL2 filters (cql2-text, cql2-json; parsed by pygeofilter) into parameterised PostGIS SQL."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import lark
from pygeofilter import ast, values
from pygeofilter.cql2 import BINARY_OP_PREDICATES_MAP, TEMPORAL_PREDICATES_MAP, get_op
from pygeofilter.parsers.cql2_json.parser import walk_cql_json
from pygeofilter.parsers.cql2_text import parser as _text_parser
from shapely.geometry import mapping, shape

from gis.errors import InvalidParameter

__all__ = ["CompiledFilter", "compile_filter", "parse_filter", "queryables_schema", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 8000
MAX_DEPTH = 50
_MAX_JSON_DEPTH = 2 * MAX_DEPTH + 10  # a JSON nesting level is an object plus its "args" array
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
_JSON_OPS = {"and", "or", "not", "isNull", "between", "like", "in", "casei", "t_disjoint", *BINARY_OP_PREDICATES_MAP}
_GEOM_FORMATS = {"point", "multipoint", "linestring", "multilinestring", "polygon", "multipolygon",
                 "geometrycollection"}
_JSON_SCHEMA = {"text": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
                "date": {"type": "string", "format": "date"}, "timestamptz": {"type": "string", "format": "date-time"},
                "bool": {"type": "boolean"}, "json": {}}
# fmt: on

# Standard CQL2 syntax pygeofilter's grammar lacks: T_xxx(a, b) calls, AND binding tighter than OR,
# NOT (a OR b), '' escapes, date and open ('..') interval bounds, one-letter property names.
_GRAMMAR_EXTRA = r"""
%extend _binary_temporal_predicate_func: "T_DISJOINT"i
%extend predicate: _binary_temporal_predicate_func "(" expression "," expression ")" -> temporal_call
%override interval: "INTERVAL" "(" _instant "," _instant ")"
_instant: "'" (DATETIME | DATE | OPEN) "'"
OPEN: ".."
%override ?condition: conjunction | condition "OR"i conjunction -> or_
?conjunction: condition_1 | conjunction "AND"i condition_1 -> and_
%override ?condition_1: predicate | "NOT"i condition_1 -> not_ | "(" condition ")"
%override SINGLE_QUOTED: /'(?:[^']|'')*'/
%override attribute: /[a-zA-Z_][a-zA-Z_:0-9.]*/ | DOUBLE_QUOTED
"""


@dataclass(frozen=True)
class CompiledFilter:
    """A SQL WHERE fragment and the values for its $n placeholders, in order."""

    sql: str
    params: list[Any]


class _Typed(NamedTuple):
    sql: str
    type: str
    label: str


def _date(value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"Invalid date '{str(value)[:40]}': expected YYYY-MM-DD") from None


def _timestamp(value: Any) -> datetime:
    try:
        ts = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"Invalid timestamp '{str(value)[:40]}': expected YYYY-MM-DDThh:mm:ssZ") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _instant(value: Any) -> date | None:
    if value == "..":
        return None
    return _timestamp(value) if isinstance(value, str) and ("T" in value.upper() or " " in value) else _date(value)


@lark.v_args(inline=True)
class _Transformer(_text_parser.CQLTransformer):
    def temporal_call(self, op: Any, lhs: Any, rhs: Any) -> ast.Node:
        return self.binary_temporal_predicate(lhs, op, rhs)

    def binary_temporal_predicate(self, lhs: Any, op: Any, rhs: Any) -> ast.Node:
        if str(op).lower() == "t_disjoint":  # missing upstream; disjoint is the negation of intersects
            return ast.Not(ast.TimeOverlaps(lhs, rhs))
        return TEMPORAL_PREDICATES_MAP[str(op).lower()](lhs, rhs)

    def SINGLE_QUOTED(self, token: Any) -> str:
        return str(token)[1:-1].replace("''", "'")

    def DATETIME(self, token: Any) -> datetime:
        return _timestamp(str(token))

    def DATE(self, token: Any) -> date:
        return _date(str(token))

    def OPEN(self, token: Any) -> None:
        return None

    def neg(self, value: Any) -> Any:
        return -value if type(value) in (int, float) else ast.Sub(0, value)

    def wkt__geometry_with_srid(self, srid: Any, geometry: dict) -> dict:  # upstream prints to stdout
        return {**geometry, "crs": {"type": "name", "properties": {"name": f"EPSG:{int(srid)}"}}}

    def wkt__multipoint_2(self, *coordinates: Any) -> dict:  # upstream prints to stdout
        return {"type": "MultiPoint", "coordinates": coordinates}


@cache
def _text_lark() -> Any:
    here = Path(_text_parser.__file__)
    try:
        grammar = here.with_name("grammar.lark").read_text(encoding="utf-8") + _GRAMMAR_EXTRA
        options = {"parser": "lalr", "maybe_placeholders": False, "import_paths": [str(here.parent.parent)]}
        return lark.Lark(grammar, transformer=_Transformer(), **options)
    except Exception:  # a future pygeofilter grammar we cannot extend: fall back to its stock parser
        return _text_parser.parser


def _syntax_error(exc: BaseException) -> InvalidParameter:
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        where = f"unexpected character '{exc.char}' at line {exc.line}, column {exc.column}"
    elif isinstance(exc, lark.exceptions.UnexpectedToken) and exc.token.type != "$END":
        where = f"unexpected '{str(exc.token)[:40]}' at line {exc.line}, column {exc.column}"
    elif isinstance(exc, lark.exceptions.UnexpectedInput):
        where = "unexpected end of filter"
    else:
        where = "malformed expression"
    return InvalidParameter(f"Invalid cql2-text filter: {where}")


def _reject_constant(name: str) -> Any:
    raise InvalidParameter(f"Invalid cql2-json filter: {name} is not a valid number")


def _bbox_polygon(box: Any) -> dict:
    if not isinstance(box, list | tuple) or len(box) not in (4, 6) or not all(type(v) in (int, float) for v in box):
        raise InvalidParameter("Invalid bbox: expected 4 (or 6) numbers minx, miny, maxx, maxy")
    x1, y1, x2, y2 = box if len(box) == 4 else (box[0], box[1], box[3], box[4])
    if x1 > x2 or y1 > y2:
        raise InvalidParameter("Invalid bbox: min must not exceed max (minx, miny, maxx, maxy)")
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


def _prep_json(node: Any, depth: int = 0) -> Any:
    if depth > _MAX_JSON_DEPTH:
        raise InvalidParameter(f"Filter is nested too deeply (more than {MAX_DEPTH} levels)")
    if isinstance(node, list):
        return [_prep_json(item, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    keys = set(node)
    if "coordinates" in node or node.get("type") == "GeometryCollection":
        return values.Geometry(node)
    if keys == {"bbox"}:  # pygeofilter reads a CQL2 bbox in the wrong order, so build the polygon here
        return values.Geometry(_bbox_polygon(node["bbox"]))
    if keys == {"date"}:
        return _date(node["date"])
    if keys == {"timestamp"}:
        return _timestamp(node["timestamp"])
    if keys == {"interval"}:
        bounds = node["interval"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise InvalidParameter("Invalid interval: expected [start, end] with '..' for an open end")
        return values.Interval(*(_instant(b) for b in bounds))
    if "op" in node:
        op = node["op"]
        if not isinstance(op, str) or op not in _JSON_OPS:
            raise InvalidParameter(f"Unsupported operator '{str(op)[:40]}' in cql2-json filter")
        args = _prep_json(node.get("args"), depth + 1)
        if op == "between" and isinstance(args, list) and len(args) == 3:  # pygeofilter wants [a, [lo, hi]]
            args = [args[0], args[1:]]
        if op == "t_disjoint":
            return {"op": "not", "args": [{"op": "t_intersects", "args": args}]}
        return {"op": op, "args": args}
    return {key: _prep_json(value, depth + 1) for key, value in node.items()}


def parse_filter(text: str, lang: str) -> Any:
    """Parse a CQL2 filter into a pygeofilter AST, raising InvalidParameter for any problem."""
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidParameter(f"Unsupported filter-lang '{str(lang)[:40]}': use cql2-text or cql2-json")
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter("Empty filter")
    if len(text) > MAX_LENGTH:
        raise InvalidParameter(f"Filter is too long ({len(text)} characters, at most {MAX_LENGTH})")
    if lang == "cql2-text":
        try:
            return _text_lark().parse(text)
        except InvalidParameter:
            raise
        except lark.exceptions.VisitError as exc:
            if isinstance(exc.orig_exc, InvalidParameter):
                raise exc.orig_exc from None
            raise _syntax_error(exc) from None
        except Exception as exc:
            raise _syntax_error(exc) from None
    try:
        data = _prep_json(json.loads(text, parse_constant=_reject_constant))
    except json.JSONDecodeError as exc:
        raise InvalidParameter(
            f"Invalid cql2-json filter: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidParameter(f"Filter is nested too deeply (more than {MAX_DEPTH} levels)") from None
    try:
        return walk_cql_json(data)
    except Exception:
        raise InvalidParameter(
            "Invalid cql2-json filter: malformed expression (expected {'op': ..., 'args': [...]}, "
            "{'property': ...} or literal values)"
        ) from None


def _is_literal(node: Any) -> bool:
    return isinstance(node, str | int | float | date | values.Geometry | values.Envelope | values.Interval)


def _kind(value: Any) -> str | None:
    return next((kind for kind, types in _LITERAL_TYPES if isinstance(value, types)), None)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
            return _Typed(_quote(self.geometry), "geometry", f"property '{name}'")
        if name in self.columns:
            return _Typed(_quote(name), self.columns[name], f"property '{name}'")
        names = ", ".join(sorted({*self.columns, self.geometry}))
        raise InvalidParameter(f"Unknown property '{name[:64]}' in filter; queryable properties are: {names}")

    def literal(self, value: Any, want: _Typed | None) -> _Typed:
        kind = _kind(value)
        if kind is None or kind in ("geometry", "interval"):
            raise _unsupported(value)
        target = want.type if want else kind
        if target in _NUMERIC and kind in _NUMERIC:
            if kind == "int" == target:
                if not -(2**63) <= value < 2**63:
                    raise InvalidParameter("Integer literal out of range in filter")
                return _Typed(self.bind(value, "int"), "int", "a literal")
            return _Typed(self.bind(float(value), "float"), "float", "a literal")
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
                return _Typed(f"({a.sql}::double precision / NULLIF({b.sql}, 0))", "float", "an arithmetic expression")
            kind = "int" if a.type == b.type == "int" else "float"
            return _Typed(f"({a.sql} {node.op.value} {b.sql})", kind, "an arithmetic expression")
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
            return self.geom_literal(_bbox_polygon(node.arguments))
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
        try:
            geom = shape(geojson)
        except Exception:
            raise InvalidParameter("Invalid geometry literal in filter") from None
        if geom.is_empty:
            raise InvalidParameter("Empty geometry literal in filter")
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
            pattern = self.scalar(node.pattern, depth, a)
            return f"{a.sql} {'NOT ' if node.not_ else ''}{'ILIKE' if node.nocase else 'LIKE'} {pattern.sql}"
        if isinstance(node, ast.IsNull):
            return f"{self.expr(node.lhs, depth).sql} IS {'NOT ' if node.not_ else ''}NULL"
        if type(node) in _SPATIAL:
            return f"{_SPATIAL[type(node)]}({self.geom(node.lhs)}, {self.geom(node.rhs)})"
        if isinstance(node, ast.BBox):
            if node.crs:
                raise InvalidParameter("BBOX with a CRS argument is not supported; use the filter-crs parameter")
            box = self.geom_literal(_bbox_polygon([node.minx, node.miny, node.maxx, node.maxy]))
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
    fmt = f"geometry-{kind}" if kind in _GEOM_FORMATS else "geometry-any"
    properties: dict[str, dict] = {
        geometry: {"title": titles.get(geometry, "Geometry"), "format": fmt, "x-ogc-role": "primary-geometry"}
    }
    for name, column_type in columns.items():
        properties[name] = {"title": titles.get(name, name), **_JSON_SCHEMA.get(column_type, {})}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
