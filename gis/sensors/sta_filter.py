"""OData `$filter` and `$orderby` of the SensorThings API, compiled to SQL with bind parameters.

A small subset, parsed by hand: comparisons (eq ne gt ge lt le) of a property with a literal or another property,
joined by and / or / not and parentheses. Literals: integers, decimals, 'strings' ('' escapes a quote), true, false,
null and unquoted instants (2026-12-01T00:00:00Z, an offset is required). Anything else (functions, arithmetic,
durations, geometries) is a 400 naming `$filter`. Every value reaches SQL as a bind parameter; identifiers come
only from the entity's own table of properties.

Why not a library: odata-query (the one complete OData parser on PyPI) is built on SLY, which its author retired in
December 2025, and pins it below the last release; odata-v4-query cannot read unquoted instants (STA's
`phenomenonTime ge 2026-12-01T00:00:00Z`), reads `''` wrongly and fails with a ValueError on some digits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gis.errors import InvalidParameter
from gis.ogc.limits import check_text, to_utc

MAX_TOKENS = 400
MAX_DEPTH = 40
BIGINT = 2**63 - 1
OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
FLIP = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
CASTS = {"int": "bigint", "num": "float8", "text": "text", "time": "timestamptz", "bool": "boolean"}
TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<time>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,12})?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?)
    |(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})
    |(?P<num>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
    |(?P<str>'(?:[^']|'')*')
    |(?P<name>@?[A-Za-z_][A-Za-z0-9_.]*(?:/@?[A-Za-z_][A-Za-z0-9_.]*)*)
    |(?P<punct>[(),])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Prop:
    """A filterable, sortable property: its SQL expression and type (int, num, text, time, bool or result)."""

    sql: str
    type: str
    nullable: bool = False
    guard: str = ""  # for `result`: the SQL of the datastream's kind, which decides the result's JSON type


class Binds:
    """Bind parameters of one statement, numbered $1, $2, ... in the order they are added."""

    def __init__(self, values: list[Any] | None = None) -> None:
        self.values: list[Any] = values if values is not None else []

    def add(self, value: Any, cast: str | None = None) -> str:
        """Add a value; its placeholder, with a cast when given (so the type never depends on inference)."""
        self.values.append(value)
        return f"${len(self.values)}" + (f"::{cast}" if cast else "")


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    at: int


def _tokens(text: str, param: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            raise InvalidParameter(f"{param}: cannot read '{text[pos : pos + 20]}' at position {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
        if len(out) > MAX_TOKENS:
            raise InvalidParameter(f"{param}: too long (at most {MAX_TOKENS} terms)")
    return out


def _instant(text: str, param: str) -> datetime:
    if text[-1] not in "Zz" and not re.search(r"[+-][0-9]{2}:[0-9]{2}$", text):
        raise InvalidParameter(f"{param}: the instant {text} needs an offset, e.g. {text}Z")
    head, dot, frac = text.partition(".")
    if dot:  # at most microseconds
        digits = re.match(r"[0-9]*", frac).group()  # type: ignore[union-attr]
        text = f"{head}.{digits[:6].ljust(6, '0')}{frac[len(digits) :]}"
    try:
        value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"{param}: '{text}' is not a valid instant") from None
    return to_utc(value, param, text)


class _Parser:
    def __init__(self, text: str, props: dict[str, Prop], binds: Binds, param: str, entity: str) -> None:
        self.toks = _tokens(text, param)
        self.i = 0
        self.props = props
        self.binds = binds
        self.param = param
        self.entity = entity

    def fail(self, why: str) -> InvalidParameter:
        return InvalidParameter(f"{self.param}: {why}")

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def word(self, *words: str) -> bool:
        t = self.peek()
        if t is not None and t.kind == "name" and t.text.lower() in words:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        t = self.peek()
        if t is None or t.text != text:
            raise self.fail(f"expected '{text}' " + (f"at position {t.at}" if t else "at the end"))
        self.i += 1

    def parse(self) -> str:
        if not self.toks:
            raise self.fail("empty")
        sql = self.or_(0)
        t = self.peek()
        if t is not None:
            raise self.fail(f"unexpected '{t.text}' at position {t.at}")
        return sql

    def or_(self, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH}")
        parts = [self.and_(depth)]
        while self.word("or"):
            parts.append(self.and_(depth))
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_(self, depth: int) -> str:
        parts = [self.not_(depth)]
        while self.word("and"):
            parts.append(self.not_(depth))
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def not_(self, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH}")
        if self.word("not"):
            return f"(NOT coalesce({self.not_(depth + 1)}, false))"
        t = self.peek()
        if t is not None and t.text == "(":
            self.i += 1
            inner = self.or_(depth + 1)
            self.expect(")")
            return inner
        return self.comparison()

    def operand(self) -> tuple[str, Any]:
        """('prop', Prop) or (literal kind, value)."""
        t = self.peek()
        if t is None:
            raise self.fail("a comparison is incomplete")
        self.i += 1
        if t.kind == "time":
            return "time", _instant(t.text, self.param)
        if t.kind == "date":
            raise self.fail(f"write an instant with its time and offset, e.g. {t.text}T00:00:00Z")
        if t.kind == "num":
            return self.number(t.text)
        if t.kind == "str":
            value = t.text[1:-1].replace("''", "'")
            check_text(value, self.param, "a string")
            return "text", value
        if t.kind == "name":
            low = t.text.lower()
            if low in ("true", "false"):
                return "bool", low == "true"
            if low == "null":
                return "null", None
            nxt = self.peek()
            if nxt is not None and nxt.text == "(":
                raise self.fail(f"functions such as {t.text}() are not supported; compare properties with literals")
            prop = self.props.get(t.text)
            if prop is None:
                names = ", ".join(sorted(self.props))
                raise self.fail(f"{self.entity} has no property '{t.text[:60]}' to filter on; use one of {names}")
            return "prop", prop
        raise self.fail(f"unexpected '{t.text}' at position {t.at}")

    def number(self, text: str) -> tuple[str, Any]:
        if re.fullmatch(r"-?[0-9]+", text):
            value = int(text)
            if abs(value) > BIGINT:
                raise self.fail(f"the integer {text[:30]} is out of range")
            return "int", value
        number = float(text)
        if not math.isfinite(number):
            raise self.fail(f"the number {text[:30]} is out of range")
        return "num", number

    def comparison(self) -> str:
        left = self.operand()
        t = self.peek()
        if t is None or t.kind != "name" or t.text.lower() not in OPS:
            if left[0] == "prop" and left[1].type == "bool":  # a boolean property on its own
                return f"coalesce({left[1].sql}, false)"
            where = f"'{t.text}' at position {t.at}" if t else "the end"
            raise self.fail(f"expected eq, ne, gt, ge, lt or le, found {where}")
        self.i += 1
        op = t.text.lower()
        right = self.operand()
        if left[0] != "prop":
            if right[0] != "prop":
                raise self.fail("a comparison needs a property on one side")
            left, right, op = right, left, FLIP[op]
        return self.compare(left[1], op, right)

    def compare(self, prop: Prop, op: str, right: tuple[str, Any]) -> str:
        kind, value = right
        if kind == "null":
            if op not in ("eq", "ne"):
                raise self.fail("null compares only with eq or ne")
            return f"({prop.sql} IS {'NOT ' if op == 'ne' else ''}NULL)"
        sql_op = "IS DISTINCT FROM" if op == "ne" and prop.nullable else OPS[op]
        if prop.type == "result":
            return self.result(prop, op, kind, value)
        if kind == "prop":
            other: Prop = value
            if _family(other.type) != _family(prop.type) or "result" in (prop.type, other.type):
                raise self.fail(f"cannot compare a {prop.type} with a {other.type}")
            return f"({prop.sql} {sql_op} {other.sql})"
        if _family(kind) != _family(prop.type):
            raise self.fail(f"a {_shown(prop.type)} cannot be compared with {_shown(kind)} {_literal(kind, value)}")
        if prop.type == "bool" and op not in ("eq", "ne"):
            raise self.fail("true and false compare only with eq or ne")
        if prop.type == "int" and kind == "num":
            raise self.fail(f"an integer property cannot be compared with the decimal {value}")
        cast = CASTS["num" if prop.type == "num" else prop.type]
        bound = float(value) if prop.type == "num" else value
        return f"({prop.sql} {sql_op} {self.binds.add(bound, cast)})"

    def result(self, prop: Prop, op: str, kind: str, value: Any) -> str:
        """`result`: true/false match wet/dry readings only, numbers the measured kinds only (JSON types differ)."""
        kind_sql = prop.guard
        if kind == "bool":
            if op not in ("eq", "ne"):
                raise self.fail("true and false compare only with eq or ne")
            return f"({kind_sql} = 'wet' AND {prop.sql} {OPS[op]} {self.binds.add(1.0 if value else 0.0, 'float8')})"
        if kind in ("int", "num"):
            return f"({kind_sql} <> 'wet' AND {prop.sql} {OPS[op]} {self.binds.add(float(value), 'float8')})"
        raise self.fail(f"result compares with true, false or a number, not {_shown(kind)}")


def _family(kind: str) -> str:
    return "number" if kind in ("int", "num") else kind


def _shown(kind: str) -> str:
    return {"int": "integer", "num": "number", "text": "string", "time": "instant", "bool": "boolean"}.get(kind, kind)


def _literal(kind: str, value: Any) -> str:
    if kind == "time":
        return value.isoformat()
    return repr(value) if kind == "text" else str(value).lower() if kind == "bool" else str(value)


def compile_filter(text: str, props: dict[str, Prop], binds: Binds, param: str, entity: str) -> str:
    """The SQL condition of a `$filter` (its values appended to binds); 400 naming `param` when it is refused."""
    return _Parser(text, props, binds, param, entity).parse()


def parse_orderby(text: str, props: dict[str, Prop], param: str, entity: str) -> list[tuple[str, bool]]:
    """`$orderby=phenomenonTime desc,id` → [(property name, descending)]."""
    out: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise InvalidParameter(f"{param}: write 'property [asc|desc]', comma-separated")
        name = words[0]
        if name not in props or props[name].type == "bool":
            names = ", ".join(sorted(n for n, p in props.items() if p.type != "bool"))
            raise InvalidParameter(f"{param}: {entity} cannot be ordered by '{name[:60]}'; use one of {names}")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise InvalidParameter(f"{param}: '{words[1][:20]}' is neither asc nor desc")
        out.append((name, direction == "desc"))
    return out
