"""Checking the garbage API's parameters before any SQL: every error names the parameter (a 400)."""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, time

from gis.cities import CITIES
from gis.errors import InvalidParameter, NotFound
from gis.geo import JAPAN_BOUNDS
from gis.lookup.validate import validate_point
from gis.ogc.limits import check_text
from gis.ogc.params import integer as ogc_integer

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ASCII_FLOAT = re.compile(r"[+-]?([0-9]{1,4}(\.[0-9]{0,15})?|\.[0-9]{1,15})")
HH_MM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
MAX_RANGE_DAYS = 366
MAX_TEXT = 100
EARLIEST_ALARM = time(12, 0)  # "the evening before": from noon to 23:59


def coordinate(text: str | None, name: str) -> float:
    """A latitude or longitude in plain ASCII decimal notation."""
    if text is None or text == "":
        raise InvalidParameter(f"{name}: required (decimal degrees)")
    if not ASCII_FLOAT.fullmatch(text):
        raise InvalidParameter(f"{name}: '{text[:40]}' is not a decimal number of degrees")
    value = float(text)
    if not math.isfinite(value):
        raise InvalidParameter(f"{name}: must be finite")
    return value


def point(lat_text: str | None, lon_text: str | None) -> tuple[float, float]:
    """lat, lon in range and in Japan (elsewhere "the nearest point" means nothing)."""
    lat, lon = coordinate(lat_text, "lat"), coordinate(lon_text, "lon")
    validate_point(lat, lon)
    x0, y0, x1, y1 = JAPAN_BOUNDS
    if not x0 <= lon <= x1:
        raise InvalidParameter(f"lon: {lon} is outside Japan ({x0}..{x1})")
    if not y0 <= lat <= y1:
        raise InvalidParameter(f"lat: {lat} is outside Japan ({y0}..{y1})")
    return lat, lon


def integer(text: str | None, name: str, default: int, lo: int, hi: int) -> int:
    """An ASCII integer between lo and hi (the default when absent or empty, as a form sends it)."""
    return ogc_integer(None if text == "" else text, name, default, lo, hi)


def day(text: str, name: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    if not ISO_DATE.fullmatch(text):
        raise InvalidParameter(f"{name}: '{text[:40]}' is not a date; use YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(f"{name}: '{text}' is not a valid date") from None


def add_months(d: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise InvalidParameter("the date range runs past year 9999")
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def date_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """from..to (inclusive): default today..one month later; `to` before `from` or over 366 days is refused."""
    first = day(start, "from") if start else today
    try:
        last = day(end, "to") if end else add_months(first, 1)
    except InvalidParameter as e:
        raise InvalidParameter(f"to: {e.description}") from None
    if last < first:
        raise InvalidParameter(f"to: {last.isoformat()} is before from ({first.isoformat()})")
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidParameter(f"to: the range from {first.isoformat()} is over {MAX_RANGE_DAYS} days")
    return first, last


def alarm(text: str | None) -> time | None:
    """The reminder's local time the evening before, HH:MM from 12:00 to 23:59 (default 19:00); 'none': no alarm."""
    if text is None or text == "":
        return time(19, 0)
    if text == "none":
        return None
    m = HH_MM.fullmatch(text)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise InvalidParameter(f"alarm: '{text[:40]}' is not a time; use HH:MM (e.g. 19:00) or none")
    value = time(int(m[1]), int(m[2]))
    if value < EARLIEST_ALARM:
        raise InvalidParameter(f"alarm: {text} is not the evening before; use a time from 12:00 to 23:59")
    return value


def text(value: str | None, name: str) -> str:
    """Non-empty text of at most 100 characters, trimmed."""
    check_text(value or "", name)
    stripped = (value or "").strip()
    if not stripped:
        raise InvalidParameter(f"{name}: required (non-empty text)")
    if len(stripped) > MAX_TEXT:
        raise InvalidParameter(f"{name}: at most {MAX_TEXT} characters")
    return stripped


def city(value: str | None) -> str | None:
    """A covered city code, or None for both (an empty value means both too)."""
    if not value:
        return None
    if value not in CITIES:
        raise InvalidParameter(f"city: unknown city code '{value[:20]}'; use {' or '.join(CITIES)}")
    return value


def names(value: str | None, name: str) -> tuple[str, ...] | None:
    """A comma-separated list of names (None when absent or empty)."""
    if not value:
        return None
    check_text(value, name)
    parts = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    if len(parts) > 50 or any(len(p) > MAX_TEXT for p in parts):
        raise InvalidParameter(f"{name}: too many or too long names")
    return parts or None


def group_id(value: str, name: str) -> str:
    """A group id as given; one no group can have (control characters, broken Unicode, too long) is unknown."""
    try:
        value.encode("utf-8")
        fine = 0 < len(value) <= MAX_TEXT and all(ch >= " " for ch in value)
    except UnicodeEncodeError:
        fine = False
    if not fine:
        raise NotFound(f"{name}: no garbage collection group has such an id")
    return value


def category(value: str | None, name: str) -> str | None:
    """One category name (None when absent or empty)."""
    if not value:
        return None
    check_text(value, name)
    if len(value) > MAX_TEXT:
        raise InvalidParameter(f"{name}: at most {MAX_TEXT} characters")
    return value


def only(given: dict[str, str], allowed: tuple[str, ...]) -> None:
    """Refuse a parameter the endpoint does not know (a typo would otherwise be silently ignored)."""
    for key in given:
        if key not in allowed:
            raise InvalidParameter(f"{key[:40]}: unknown parameter; this endpoint takes {', '.join(allowed)}")
