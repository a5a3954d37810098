"""The farmland browse parameters, checked before any SQL: every error is a 400 naming the parameter.

The names are shared by the API, the page and outside users (issue 12): city, oaza, chiban, land_type, area_min,
area_max, intention, available_from, crop, noshin, lat+lon or address with within_m, sortby, limit, offset.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from gis.errors import InvalidParameter
from gis.garbage.params import city, day, integer, only, point, text

BROWSE_PARAMS = (
    "city",
    "oaza",
    "chiban",
    "land_type",
    "area_min",
    "area_max",
    "intention",
    "available_from",
    "crop",
    "noshin",
    "lat",
    "lon",
    "address",
    "within_m",
    "sortby",
    "limit",
    "offset",
)
LAND_TYPES = {100: "田", 200: "畑"}
INTENTIONS = {"lend": "貸付希望", "sell": "売渡希望"}
INTENTION_LABELS = {"lend": "貸したい", "sell": "売りたい"}
# The 農振法 区分 as the ledger writes them (DOMAIN.md §7), by the short names of the API.
NOSHIN = {
    "nouyouchi": "農用地区域内",
    "noushin": "農振地域内（農用地区域外）",
    "outside": "農振地域外",
}
SORTS = ("area_m2", "-area_m2", "distance", "available_from", "oaza")
DEFAULT_WITHIN_M = 2000
MAX_WITHIN_M = 20000
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
MAX_AREA_M2 = 1e9  # 1,000 km²: more than either city; keeps the numbers far from float trouble
AREA = re.compile(r"[0-9]{1,10}(\.[0-9]{0,6})?|\.[0-9]{1,6}")
# 1451番地1, 1451番1, 1451の1, 1451－1 → 1451-1 (the ledger's spelling: DOMAIN.md §2 "fold variants").
CHIBAN_SEPARATOR = re.compile(r"(?<=[0-9])(番地の|番地|番の|番|の|ノ|之)(?=[0-9])")
CHIBAN_TAIL = re.compile(r"(?<=[0-9])(番地|番)$")
DASHES = re.compile(r"(?<=[0-9])[ー－―‐‑–—−](?=[0-9])")


@dataclass(frozen=True)
class BrowseQuery:
    """The parsed filters of GET /farmland/parcels (hashable: it is the cache key)."""

    city: str | None = None
    oaza: str | None = None
    chiban: str | None = None
    land_type: int | None = None
    area_min: float | None = None
    area_max: float | None = None
    intention: str | None = None
    available_from: date | None = None
    crop: str | None = None
    noshin: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    within_m: int | None = None
    sortby: str = "oaza"
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @property
    def has_point(self) -> bool:
        """Whether distances are measured (lat/lon given, or an address placed)."""
        return self.lat is not None and self.lon is not None

    def public(self) -> dict[str, Any]:
        """The parsed filters as the answer's `query` (only what was given, dates as text)."""
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.available_from is not None:
            out["available_from"] = self.available_from.isoformat()
        return out

    def args(self) -> dict[str, str]:
        """The query string that asks this again (for the paging links): the address, not its point."""
        out = self.public()
        if self.address is not None:
            out.pop("lat", None)
            out.pop("lon", None)
        return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normal(value: str) -> str:
    """NFKC (full-width digits and letters folded) and trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def area(value: str | None, name: str) -> float | None:
    """An area in m²: a plain non-negative decimal (none when absent or empty)."""
    if value is None or value == "":
        return None
    v = normal(value)
    if v.startswith("-"):
        raise InvalidParameter(f"{name}: an area cannot be negative (got {value[:40]})")
    if not AREA.fullmatch(v):
        raise InvalidParameter(f"{name}: '{value[:40]}' is not an area in m² (a decimal number such as 2000)")
    number = float(v)
    if not math.isfinite(number) or number > MAX_AREA_M2:
        raise InvalidParameter(f"{name}: at most {MAX_AREA_M2:,.0f} m²")
    return number


def choice(value: str | None, name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    """One of the allowed words (none when absent or empty)."""
    if value is None or value == "":
        return None
    if value not in allowed:
        raise InvalidParameter(f"{name}: unknown value '{value[:40]}'; use one of {', '.join(allowed)}")
    return value


def chiban(value: str | None) -> str | None:
    """A 地番 folded to the ledger's spelling: ASCII digits, '-' between the main number and the branch."""
    if value is None or value == "":
        return None
    v = text(value, "chiban")
    v = normal(v).replace(" ", "")
    v = CHIBAN_TAIL.sub("", DASHES.sub("-", CHIBAN_SEPARATOR.sub("-", v)))
    return v


def oaza(value: str | None) -> str | None:
    """A 大字 name as written in the ledger (Takeo's optional word 大字 is kept as given: see browse.oaza_forms)."""
    if value is None or value == "":
        return None
    return normal(text(value, "oaza"))


def browse(given: dict[str, str]) -> BrowseQuery:
    """Parse the query string of GET /farmland/parcels; any unknown or bad parameter is a 400 naming it."""
    only(given, BROWSE_PARAMS)
    g = {k: v for k, v in given.items()}
    land_type_text = choice(g.get("land_type"), "land_type", [str(k) for k in LAND_TYPES])
    area_min, area_max = area(g.get("area_min"), "area_min"), area(g.get("area_max"), "area_max")
    if area_min is not None and area_max is not None and area_min > area_max:
        raise InvalidParameter(f"area_max: {area_max:g} m² is below area_min ({area_min:g} m²)")
    available = g.get("available_from")
    o, c = oaza(g.get("oaza")), chiban(g.get("chiban"))
    if c is not None and o is None:
        raise InvalidParameter("chiban: give oaza (大字) with chiban; a 地番 is unique only within its 大字")
    crop = normal(text(g["crop"], "crop")) if g.get("crop") else None
    lat = lon = None
    address = None
    has_lat, has_lon = bool(g.get("lat")), bool(g.get("lon"))
    if g.get("address"):
        if has_lat or has_lon:
            raise InvalidParameter("address: give either address or lat/lon, not both")
        address = text(g["address"], "address")
    elif has_lat or has_lon:
        if not has_lon:
            raise InvalidParameter("lon: required with lat")
        if not has_lat:
            raise InvalidParameter("lat: required with lon")
        lat, lon = point(g["lat"], g["lon"])
    located = address is not None or lat is not None
    within = None
    if g.get("within_m"):
        if not located:
            raise InvalidParameter("within_m: give lat/lon or address to measure the distance from")
        within = integer(g["within_m"], "within_m", DEFAULT_WITHIN_M, 1, MAX_WITHIN_M)
    elif located:
        within = DEFAULT_WITHIN_M
    sortby = choice(g.get("sortby"), "sortby", SORTS) or ("distance" if located else "oaza")
    if sortby == "distance" and not located:
        raise InvalidParameter("sortby: distance needs lat/lon or address")
    return BrowseQuery(
        city=city(g.get("city")),
        oaza=o,
        chiban=c,
        land_type=int(land_type_text) if land_type_text else None,
        area_min=area_min,
        area_max=area_max,
        intention=choice(g.get("intention"), "intention", tuple(INTENTIONS)),
        available_from=day(normal(available), "available_from") if available else None,
        crop=crop,
        noshin=choice(g.get("noshin"), "noshin", tuple(NOSHIN)),
        lat=lat,
        lon=lon,
        address=address,
        within_m=within,
        sortby=sortby,
        limit=integer(g.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=integer(g.get("offset"), "offset", 0, 0, MAX_OFFSET),
    )


def stats_city(given: dict[str, str]) -> str | None:
    """GET /farmland/stats takes only city."""
    only(given, ("city",))
    return city(given.get("city"))
