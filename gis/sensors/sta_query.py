"""SensorThings query options ($top, $skip, $count, $orderby, $filter, $select, $expand), checked before any SQL.

`$expand` takes both forms, `Datastreams/Observations($top=1;$orderby=phenomenonTime desc)` and
`Datastreams($expand=Observations($top=1))`; options inside parentheses are separated by `;`. Every error is a 400
naming the option (and, inside `$expand`, the navigation path it belongs to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from gis.errors import InvalidParameter
from gis.ogc.params import integer
from gis.sensors.sta_filter import Binds, compile_filter, parse_orderby
from gis.sensors.sta_model import SETS, EntitySet

DEFAULT_TOP = 100
MAX_TOP = 1000
MAX_SKIP = 10_000_000
MAX_EXPAND_DEPTH = 3
OPTIONS = ("$top", "$skip", "$count", "$orderby", "$filter", "$select", "$expand")
UNSUPPORTED = {
    "$resultFormat": "the dataArray result format is not served; read Observations as JSON",
    "$search": "free-text search is not supported",
    "$format": "only JSON is served",
}
EXPAND_ITEM = re.compile(r"([A-Za-z]+(?:/[A-Za-z]+)*)\s*(?:\((.*)\))?", re.S)


@dataclass
class Options:
    """The query options of one collection (the request's, or one `$expand` level's)."""

    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    filter: tuple[str, list[Any]] | None = None  # SQL with its own $1.. numbering, and the values
    select: tuple[str, ...] | None = None
    expand: dict[str, Options] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)  # as given (nextLinks repeat them)

    def filter_sql(self, binds: Binds) -> str | None:
        """The filter renumbered after the statement's other bind parameters (values appended to binds)."""
        if self.filter is None:
            return None
        sql, values = self.filter
        offset = len(binds.values)
        binds.values.extend(values)
        return re.sub(r"\$([0-9]+)", lambda m: f"${int(m.group(1)) + offset}", sql)

    def query_string(self, **override: str) -> str:
        """These options as a query string (for a nextLink), with some replaced."""
        given = {**self.raw, **override}
        return "&".join(f"{k}={quote(v, safe=',()/:$;')}" for k, v in given.items())


def _split(text: str, sep: str, where: str) -> list[str]:
    """Split at `sep` outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise InvalidParameter(f"{where}: unbalanced ')'")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise InvalidParameter(f"{where}: unbalanced parentheses or quotes")
    parts.append(text[start:])
    return parts


def _inner(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _split(text, ";", where):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or not name.startswith("$"):
            raise InvalidParameter(f"{where}: write options as $name=value separated by ';'")
        if name in out:
            raise InvalidParameter(f"{where}: {name} given more than once")
        out[name] = value
    return out


Tree = dict[str, dict[str, Any]]  # navigation → {"raw": options or None, "kids": Tree}


def _tree(text: str, where: str, depth: int = 0) -> Tree:
    if depth > MAX_EXPAND_DEPTH:
        raise InvalidParameter(f"{where}: nested deeper than {MAX_EXPAND_DEPTH} levels")
    tree: Tree = {}
    for item in _split(text, ",", where):
        m = EXPAND_ITEM.fullmatch(item.strip())
        if m is None:
            raise InvalidParameter(f"{where}: cannot read '{item.strip()[:60]}'; e.g. Datastreams/Observations($top=1)")
        path = m.group(1).split("/")
        if len(path) + depth > MAX_EXPAND_DEPTH:
            raise InvalidParameter(f"{where}: nested deeper than {MAX_EXPAND_DEPTH} levels")
        node = {"kids": tree}
        for name in path:
            node = node["kids"].setdefault(name, {"raw": None, "kids": {}})
        if m.group(2) is not None:
            if node["raw"] is not None:
                raise InvalidParameter(f"{where}: options for {m.group(1)} given more than once")
            raw = _inner(m.group(2), f"{where} ({m.group(1)})")
            nested = raw.pop("$expand", None)
            node["raw"] = raw
            if nested is not None:
                _merge(node["kids"], _tree(nested, f"{where} ({m.group(1)})", depth + len(path)), where)
    return tree


def _merge(into: Tree, other: Tree, where: str) -> None:
    for name, node in other.items():
        mine = into.setdefault(name, {"raw": None, "kids": {}})
        if node["raw"] is not None:
            if mine["raw"] is not None:
                raise InvalidParameter(f"{where}: options for {name} given more than once")
            mine["raw"] = node["raw"]
        _merge(mine["kids"], node["kids"], where)


def _tree_text(tree: Tree) -> str:
    items = []
    for name, node in tree.items():
        opts = [f"{k}={v}" for k, v in (node["raw"] or {}).items()]
        if node["kids"]:
            opts.append(f"$expand={_tree_text(node['kids'])}")
        items.append(name + (f"({';'.join(opts)})" if opts else ""))
    return ",".join(items)


def _bool(text: str, name: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise InvalidParameter(f"{name}: must be true or false")
    return text.lower() == "true"


def _select(es: EntitySet, text: str, name: str) -> tuple[str, ...]:
    allowed = ("id", *es.fields, *es.navs)
    names = tuple(n.strip() for n in text.split(","))
    for n in names:
        if n == "@iot.id":
            continue
        if n not in allowed:
            raise InvalidParameter(f"{name}: {es.name} has no property '{n[:60]}'; use {', '.join(allowed)}")
    return tuple("id" if n == "@iot.id" else n for n in names)


def parse_options(es: EntitySet, raw: dict[str, str], where: str = "", kids: Tree | None = None) -> Options:
    """Check and read the options for a collection of `es`; `where` prefixes errors inside `$expand`."""
    for name in raw:
        if name in UNSUPPORTED:
            raise InvalidParameter(f"{where}{name}: {UNSUPPORTED[name]}")
        if name not in OPTIONS:
            raise InvalidParameter(f"{where}{name[:40]}: not a query option here; use {', '.join(OPTIONS)}")
    given = {k: v for k, v in raw.items() if k != "$expand"}
    opts = Options(raw=dict(given))
    opts.top = integer(raw.get("$top"), f"{where}$top", DEFAULT_TOP, 0, MAX_TOP)
    opts.skip = integer(raw.get("$skip"), f"{where}$skip", 0, 0, MAX_SKIP)
    if "$count" in raw:
        opts.count = _bool(raw["$count"], f"{where}$count")
    if "$orderby" in raw:
        opts.orderby = parse_orderby(raw["$orderby"], es.props, f"{where}$orderby", es.name)
    if "$filter" in raw:
        binds = Binds()
        sql = compile_filter(raw["$filter"], es.props, binds, f"{where}$filter", es.name)
        opts.filter = (sql, binds.values)
    if "$select" in raw:
        opts.select = _select(es, raw["$select"], f"{where}$select")
    tree: Tree = {}
    if "$expand" in raw:
        tree = _tree(raw["$expand"], f"{where}$expand")
    if kids:
        _merge(tree, kids, f"{where}$expand")
    for nav, node in tree.items():
        if nav not in es.navs:
            names = ", ".join(es.navs)
            raise InvalidParameter(f"{where}$expand: {es.name} has no navigation property '{nav}'; use {names}")
        target = SETS[es.navs[nav].target]
        opts.expand[nav] = parse_options(target, node["raw"] or {}, f"{where}$expand {nav}: ", node["kids"])
    if tree:
        opts.raw["$expand"] = _tree_text(tree)
    return opts


def order_sql(es: EntitySet, opts: Options, unique: frozenset[str]) -> str:
    """ORDER BY keys: the requested ones, then the id unless a key already orders rows uniquely in this scope."""
    wanted = opts.orderby or ([("phenomenonTime", False)] if "phenomenonTime" in unique else [("id", False)])
    keys, done = [], False
    for name, desc in wanted:
        keys.append(f"{es.props[name].sql} {'DESC' if desc else 'ASC'}")
        if name.replace("@iot.id", "id") in unique:
            done = True
            break
    if not done:
        keys.append(f"{es.id_sql} ASC")
    return ", ".join(keys)
