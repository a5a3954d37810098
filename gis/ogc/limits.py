"""What PostgreSQL and PROJ accept, checked before SQL: text, numbers, instants, SRIDs and coordinates."""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime

from gis.errors import InvalidParameter

BIGINT = 2**63
DOUBLE_MAX = sys.float_info.max
# The SRIDs a client may name (crs, bbox-crs, filter-crs, EWKT "SRID=n;"): PostGIS knows them and we tested them.
ALLOWED_SRIDS = (4326, 6668, 6670, 3857)
GEOGRAPHIC = frozenset({4326, 6668})
# Projected coordinates beyond these (metres) are not places: PROJ refuses a plane-rectangular easting past about
# 1.5e7 m ("Point outside of projection domain"); Web Mercator's world is ±2.0e7 m, twice that allows wrapped views.
PROJECTED_LIMIT = {6670: 1e7, 3857: 4e7}


def check_text(value: str, param: str, what: str = "a value") -> None:
    """PostgreSQL text holds no NUL character and only valid Unicode (no lone surrogates from JSON escapes)."""
    if "\x00" in value:
        raise InvalidParameter(f"{param}: {what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameter(f"{param}: {what} contains an invalid Unicode escape (a lone surrogate)") from None


def check_number(value: float, param: str) -> None:
    """Finite and within double precision (integers beyond it would overflow in float())."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > DOUBLE_MAX:
            raise InvalidParameter(f"{param}: a number is out of range (beyond ±{DOUBLE_MAX:.1e})")
        return
    if not math.isfinite(value):
        raise InvalidParameter(f"{param}: numbers must be finite (got {value})")


def to_utc(value: datetime, param: str, shown: str) -> datetime:
    """An aware instant in UTC, refused when UTC falls outside years 1..9999 (PostgreSQL cannot take it from us)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidParameter(
            f"{param}: '{shown[:40]}' is out of range (in UTC it must fall within the years 1 to 9999)"
        ) from None


def check_srid(srid: int, param: str) -> None:
    """Only the SRIDs this service supports (an unknown one would fail inside PostGIS)."""
    if srid not in ALLOWED_SRIDS:
        codes = ", ".join(str(s) for s in ALLOWED_SRIDS)
        raise InvalidParameter(f"{param}: unsupported SRID {srid}; use one of {codes}")


def check_coordinates(bounds: tuple[float, float, float, float], srid: int, param: str) -> None:
    """Coordinates (minx, miny, maxx, maxy in x/y = lon/lat or easting/northing order) within the CRS's range."""
    if not all(math.isfinite(v) for v in bounds):
        raise InvalidParameter(f"{param}: coordinates must be finite numbers")
    x0, y0, x1, y1 = bounds
    if srid in GEOGRAPHIC:
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise InvalidParameter(
                f"{param}: longitude must be within ±180 and latitude within ±90 (check the axis order)"
            )
        return
    limit = PROJECTED_LIMIT.get(srid)
    if limit is not None and max(abs(v) for v in bounds) > limit:
        raise InvalidParameter(f"{param}: coordinates in EPSG:{srid} must be within ±{limit:.0e} m")
