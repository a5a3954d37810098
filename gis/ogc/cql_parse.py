"""Parsing OGC CQL2 (cql2-text with pygeofilter's grammar plus fixes, cql2-json) into pygeofilter's AST."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import lark
from pygeofilter import ast, values
from pygeofilter.cql2 import BINARY_OP_PREDICATES_MAP, TEMPORAL_PREDICATES_MAP
from pygeofilter.parsers.cql2_json.parser import walk_cql_json
from pygeofilter.parsers.cql2_text import parser as _text_parser

from gis.errors import InvalidParameter
from gis.ogc.limits import check_text, to_utc

# fmt: off
MAX_LENGTH = 8000
MAX_DEPTH = 50
_MAX_JSON_DEPTH = 2 * MAX_DEPTH + 10  # a JSON nesting level is an object plus its "args" array
_JSON_OPS = {"and", "or", "not", "isNull", "between", "like", "in", "casei", "t_disjoint", *BINARY_OP_PREDICATES_MAP}
GEOM_FORMATS = {"point", "multipoint", "linestring", "multilinestring", "polygon", "multipolygon",
                 "geometrycollection"}
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
    return to_utc(ts, "filter", value)


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
    # No fallback to pygeofilter's stock parser: it would silently undo the AND/OR precedence fix. A pygeofilter
    # whose grammar we cannot extend fails here, loudly (tests/test_cql.py runs this at every test session).
    here = Path(_text_parser.__file__)
    grammar = here.with_name("grammar.lark").read_text(encoding="utf-8") + _GRAMMAR_EXTRA
    options = {"parser": "lalr", "maybe_placeholders": False, "import_paths": [str(here.parent.parent)]}
    return lark.Lark(grammar, transformer=_Transformer(), **options)


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


def bbox_polygon(box: Any) -> dict:
    """A CQL2 BBOX (4 or 6 numbers) as a GeoJSON Polygon."""
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
    if isinstance(node, str):  # checked before any message can echo it
        check_text(node, "filter", "a string")
    if not isinstance(node, dict):
        return node
    for key in node:
        check_text(key, "filter", "a member name")
    keys = set(node)
    if "coordinates" in node or node.get("type") == "GeometryCollection":
        return values.Geometry(node)
    if keys == {"bbox"}:  # pygeofilter reads a CQL2 bbox in the wrong order, so build the polygon here
        return values.Geometry(bbox_polygon(node["bbox"]))
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
    except ValueError:  # an integer of more than 4,300 digits
        raise InvalidParameter("Invalid cql2-json filter: a number is too long") from None
    except RecursionError:
        raise InvalidParameter(f"Filter is nested too deeply (more than {MAX_DEPTH} levels)") from None
    try:
        return walk_cql_json(data)
    except Exception:
        raise InvalidParameter(
            "Invalid cql2-json filter: malformed expression (expected {'op': ..., 'args': [...]}, "
            "{'property': ...} or literal values)"
        ) from None
