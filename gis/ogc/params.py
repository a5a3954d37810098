"""Parsing and validating the items query parameters into an ItemsQuery (400 on anything wrong)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from gis.errors import InvalidParameter
from gis.geo import GEOGRAPHIC_SRIDS, STORAGE_SRID
from gis.ogc.cql import compile_filter
from gis.ogc.crs import OutCrs, parse_crs
from gis.ogc.items import ItemsQuery, property_columns
from gis.ogc.limits import check_coordinates, to_utc
from layers import get_layer
from layers.base import Layer

MAX_LIMIT = 10_000
ASCII_INT = re.compile(r"-?[0-9]{1,18}")


def queryable_types(layer: Layer) -> dict[str, str]:
    """Queryable property → type (public columns, id, city_code, sample)."""
    types = {c.name: c.type for c in layer.output_columns}
    types.update({"id": "int", "city_code": "text", "sample": "bool"})
    return types


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """bbox=minx,miny,maxx,maxy (or 6 numbers with heights, which are ignored)."""
    if text is None:
        return None
    if not text.isascii():  # float() would read full-width digits such as '１２'
        raise InvalidParameter(f"bbox: '{text[:80]}' is not 4 (or 6) comma-separated numbers")
    try:
        nums = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidParameter(f"bbox: '{text[:80]}' is not 4 (or 6) comma-separated numbers") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise InvalidParameter(f"bbox: '{text[:80]}' is not 4 (or 6) comma-separated numbers")
    if nums[0] > nums[2] or nums[1] > nums[3]:
        raise InvalidParameter("bbox: the lower corner must come first (minx,miny,maxx,maxy)")
    return nums[0], nums[1], nums[2], nums[3]


def check_bbox_range(bbox: tuple[float, ...], crs: OutCrs) -> None:
    """Geographic bbox values must be valid degrees, projected ones within the CRS's range."""
    if crs.srid in (4326, 6668):
        lons = (bbox[1], bbox[3]) if crs.north_first else (bbox[0], bbox[2])
        lats = (bbox[0], bbox[2]) if crs.north_first else (bbox[1], bbox[3])
        if not all(-180 <= v <= 180 for v in lons) or not all(-90 <= v <= 90 for v in lats):
            raise InvalidParameter("bbox: longitude must be within ±180 and latitude within ±90 (check the axis order)")
        return
    check_coordinates((bbox[0], bbox[1], bbox[2], bbox[3]), crs.srid, "bbox")


def _instant(text: str) -> datetime | None:
    if text in ("..", ""):
        return None
    if not text.isascii():  # fromisoformat() would read full-width digits
        raise InvalidParameter(f"datetime: '{text[:80]}' is not an RFC 3339 date-time or interval")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"datetime: '{text[:80]}' is not an RFC 3339 date-time or interval") from None
    return to_utc(value, "datetime", text)


def parse_datetime(text: str | None, layer: Layer) -> tuple[datetime | None, datetime | None] | None:
    """datetime=instant | start/end | ../end | start/.. on a layer with a time column."""
    if text is None:
        return None
    if not layer.time_column:
        raise InvalidParameter(f"datetime: collection {layer.id} has no temporal property")
    if "/" in text:
        a, _, b = text.partition("/")
        start, end = _instant(a), _instant(b)
        if start is None and end is None:
            raise InvalidParameter("datetime: an interval needs at least one end")
        if start and end and start > end:
            raise InvalidParameter("datetime: the interval's start is after its end")
        return start, end
    value = _instant(text)
    if value is None:
        raise InvalidParameter("datetime: empty value")
    return value, value


def parse_properties(text: str | None, layer: Layer) -> list[str] | None:
    """properties=a,b: a subset of the published properties."""
    if text is None:
        return None
    names = [p.strip() for p in text.split(",") if p.strip()]
    allowed = [c if isinstance(c, str) else c.name for c in property_columns(layer)]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise InvalidParameter(f"properties: unknown {', '.join(unknown)}; available: {', '.join(allowed)}")
    return names


def parse_sortby(text: str | None, layer: Layer) -> list[tuple[str, bool]]:
    """sortby=+a,-b: sortable queryables, descending with '-'."""
    if not text:
        return []
    out = []
    allowed = queryable_types(layer)
    for raw in text.split(","):
        item = raw.strip()
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name not in allowed or allowed[name] == "json":
            raise InvalidParameter(f"sortby: cannot sort by '{name}'; sortable: {', '.join(sorted(allowed))}")
        out.append((name, desc))
    return out


@lru_cache(maxsize=4096)
def _compiled(layer_id: str, text: str, lang: str, filter_srid: int) -> tuple[str, tuple[Any, ...]]:
    """Compiled CQL2 (cached: the same filter text parses once per process)."""
    layer = get_layer(layer_id)
    result = compile_filter(
        text, lang, queryable_types(layer), geometry="geom", srid=6668, filter_crs=filter_srid, start=1
    )
    return result.sql, tuple(result.params)


def parse_filter(text: str | None, lang: str | None, crs_text: str | None, layer: Layer) -> tuple[str | None, list]:
    """filter + filter-lang (+ filter-crs) → SQL fragment with $1.. parameters."""
    if text is None:
        if lang is not None and lang not in ("cql2-text", "cql2-json", "cql-text"):
            raise InvalidParameter(f"filter-lang: unsupported '{lang}'; use cql2-text or cql2-json")
        return None, []
    lang = lang or ("cql2-json" if text.lstrip().startswith("{") else "cql2-text")
    # GDAL 3.6 and older clients name CQL2 text by its draft name.
    lang = "cql2-text" if lang == "cql-text" else lang
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidParameter(f"filter-lang: unsupported '{lang}'; use cql2-text or cql2-json")
    crs = parse_crs(crs_text, "filter-crs")
    # CQL2 literals are lon/lat for CRS84; a north-first CRS would need flipped literals, which we refuse to guess.
    # WGS 84 and JGD2011 literals are taken as stored (JGD2011) coordinates, as bbox does: PROJ's transformation
    # between the two is the identity, and skipping it saves a third of a point query's database time.
    srid = STORAGE_SRID if crs.srid in GEOGRAPHIC_SRIDS else crs.srid
    sql, params = _compiled(layer.id, text, lang, srid)
    return sql, list(params)


@dataclass(frozen=True)
class ItemsRequest:
    """The items parameters as the client sent them (text, validated by parse_items)."""

    bbox: str | None = None
    bbox_crs: str | None = None
    limit: str | None = None
    offset: str | None = None
    properties: str | None = None
    sortby: str | None = None
    datetime: str | None = None
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: str | None = None
    crs: str | None = None
    # Every other parameter: an equality filter on a queryable (anything else is refused).
    equals: tuple[tuple[str, str], ...] = ()


def parse_items(layer: Layer, req: ItemsRequest) -> ItemsQuery:
    """Validate every items parameter of a request."""
    types = queryable_types(layer)
    unknown = [k for k, _ in req.equals if k not in types]
    if unknown:
        raise InvalidParameter(f"unknown parameter(s): {', '.join(unknown)}")
    crs = parse_crs(req.crs, "crs")
    bbox_crs = parse_crs(req.bbox_crs, "bbox-crs")
    bbox = parse_bbox(req.bbox)
    if bbox is not None:
        check_bbox_range(bbox, bbox_crs)
    limit = integer(req.limit, "limit", 100, 1, MAX_LIMIT)
    offset = integer(req.offset, "offset", 0, 0, 10_000_000)
    filter_sql, filter_params = parse_filter(req.filter, req.filter_lang, req.filter_crs, layer)
    return ItemsQuery(
        layer=layer,
        crs=crs,
        limit=limit,
        offset=offset,
        bbox=bbox,
        bbox_crs=bbox_crs,
        properties=parse_properties(req.properties, layer),
        sortby=parse_sortby(req.sortby, layer),
        interval=parse_datetime(req.datetime, layer),
        equals=dict(req.equals),
        filter_sql=filter_sql,
        filter_params=filter_params,
    )


def integer(text: str | None, name: str, default: int, lo: int, hi: int) -> int:
    """An ASCII integer parameter between lo and hi (the default when absent); 400 naming it otherwise."""
    if text is None:
        return default
    if not ASCII_INT.fullmatch(text):
        raise InvalidParameter(f"{name}: '{text[:40]}' is not an integer")
    value = int(text)
    if not lo <= value <= hi:
        raise InvalidParameter(f"{name}: must be between {lo} and {hi}, got {value}")
    return value
