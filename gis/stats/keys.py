"""What a request is counted as: keys from the matched route (its template and a known layer id) and from the 大字 a
lookup resolved to. Nothing here reads the raw path, the query string or a header.

Every key comes from a bounded set: route templates are code, layer ids are checked against the declarations,
response classes are five, towns are the names of the address reference (what the geocoder and the report answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gis.cities import CITIES
from gis.stats.tables import MAX_KEY_CHARS
from layers import LAYERS

# Kinds of count, with the Japanese names staff see (CSV, page).
KINDS: dict[str, str] = {
    "api": "API（系統:応答区分）",
    "layer": "レイヤ",
    "page": "ページ",
    "town": "住所照会（大字別）",
    "geocode": "住所検索（大字別）",
    "dropped": "集計できなかった件数（メモリ上限）",
}
OTHER = "other"  # made-up paths, unknown families, keys past the cap
UNRESOLVED = "unresolved"  # a lookup or geocode that did not resolve to one 大字
ABORTED = "aborted"  # the response never started (the client went away)
# Route parameters that name a layer.
LAYER_PARAMS = ("collectionId", "layer")
# First segment of a route template → API family, where it is not the segment itself.
FAMILY_OF = {
    "": "pages",
    "conformance": "features",
    "api": "docs",
    "api.html": "docs",
    "favicon.ico": "static",
    "reverse": "lookup",
    "map": "maps",
}
PAGE_FAMILIES = ("pages", "maps")  # page routes: a 304 revalidation is a page view though it has no Content-Type
TOWN_LEVELS = ("machiaza", "machiaza_detail", "parcel")  # geocode levels that name one 大字
_SEGMENT = re.compile(r"[a-z0-9._-]{1,40}")


@dataclass(frozen=True)
class RouteKeys:
    """The keys of one matched route (and layer): the API key per response class, the layer, the page."""

    api: dict[int, str]  # status // 100 (0: aborted) → "family:2xx"
    layer: str | None
    page: str | None
    page_route: bool  # a page route (/, /map...): its 304s count as page views


def family(route_path: str | None) -> str:
    """The API family of a route template: its first segment (collections split into features/tiles/downloads)."""
    if not route_path or not route_path.startswith("/"):
        return OTHER
    segment = route_path.split("/", 2)[1]
    if segment == "collections":
        if "/tiles" in route_path:
            return "tiles"
        return "downloads" if route_path.endswith("/download") else "features"
    if segment in FAMILY_OF:
        return FAMILY_OF[segment]
    return segment if _SEGMENT.fullmatch(segment) else OTHER


def known_layer(path_params: dict[str, Any] | None) -> str | None:
    """The layer id a route names, when it is a declared layer (anything else names no layer)."""
    if not path_params:
        return None
    for name in LAYER_PARAMS:
        value = path_params.get(name)
        if value is not None:
            return value if value in LAYERS else None
    return None


def route_keys(route_path: str | None, layer: str | None) -> RouteKeys:
    """The keys of a route template and its (checked) layer id."""
    fam = family(route_path)
    api = {c: f"{fam}:{c}xx" for c in range(1, 6)}
    api[0] = f"{fam}:{ABORTED}"
    page = None
    if route_path and fam != OTHER and len(route_path) <= MAX_KEY_CHARS:
        page = route_path
        if layer is not None:
            for name in LAYER_PARAMS:
                page = page.replace("{" + name + "}", layer)
    return RouteKeys(api, layer, page, fam in PAGE_FAMILIES)


def town_key(city_code: str | None, name: str | None) -> str:
    """'41205:大坪町' for a 大字 of a covered city, else 'unresolved'."""
    if city_code in CITIES and name and len(name) <= 60:
        return f"{city_code}:{name}"
    return UNRESOLVED


def geocode_town(result: dict[str, Any]) -> str:
    """The 大字 a geocode result resolved to (at 大字 level or finer), else 'unresolved'."""
    if result.get("match_level") in TOWN_LEVELS and not result.get("outside_service_area"):
        return town_key(result.get("city_code"), result.get("town"))
    return UNRESOLVED


def lookup_town(body: dict[str, Any]) -> str:
    """The 大字 a lookup report resolved to: the address's when it was an address, else the nearest town's."""
    if body.get("type") == "FeatureCollection":
        features = body.get("features") or [{}]
        body = features[0].get("properties") or {}
    geocoded = (body.get("query") or {}).get("geocode")
    if geocoded is not None:
        return geocode_town(geocoded)
    if (body.get("precision") or {}).get("outside_service_area", True):
        return UNRESOLVED
    nearest = (body.get("town") or {}).get("nearest") or []
    return town_key(nearest[0].get("city_code"), nearest[0].get("name")) if nearest else UNRESOLVED


def label(kind: str, key: str) -> str:
    """How staff read a key: the layer's title, the city and 大字, or the key itself."""
    if kind == "layer" and key in LAYERS:
        return LAYERS[key].title
    if kind in ("town", "geocode"):
        if key == UNRESOLVED:
            return "特定できず"
        code, _, name = key.partition(":")
        return f"{CITIES[code].name} {name}" if code in CITIES else key
    if kind == "dropped" and key in KINDS:
        return KINDS[key]
    return key
