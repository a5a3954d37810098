"""The transit service: next departures from a stop in JST, nearby stops, place names for the geocoder.

No web types (the API router and the CLI both use it). "Now" is in Japan and comes from `now()`, which tests
replace. A timetable past its feed's end answers nothing and says so: never a silently wrong timetable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg

from gis.errors import InvalidParameter, NotFound
from gis.runtime import Runtime
from gis.transit.sql import DEPARTURES_SQL, NEAR_SQL, PLACES_SQL

JST = ZoneInfo("Asia/Tokyo")
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
NOT_IN_FEED = "西肥バス・JR九州バス・いまりんバス等の市のコミュニティバスはこのデータに含まれていません。"
TIMES = "時刻は日本時間（JST）。遅れ・運休は反映していません（時刻表による予定）。"


def now() -> datetime:
    """The current time in Japan (tests replace this function)."""
    return datetime.now(JST)


def parse_at(text: str | None) -> datetime:
    """`at` as an aware moment: ISO 8601 date-time; without an offset it is read as JST. Default: now."""
    if text is None:
        return now()
    value = text.strip()
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+", 1) if "T" in value else value)
    except ValueError:
        raise InvalidParameter(f"at: '{text[:40]}' is not a date-time (e.g. 2026-11-24T08:00 or with +09:00)") from None
    if not 2000 <= at.year <= 2100:
        raise InvalidParameter(f"at: year {at.year} is out of range")
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)


def parse_limit(text: str | None) -> int:
    """1..50, default 10."""
    if text is None:
        return DEFAULT_LIMIT
    if not text.strip().isdigit():
        raise InvalidParameter(f"limit: '{text[:20]}' is not a whole number (1–{MAX_LIMIT})")
    n = int(text)
    if not 1 <= n <= MAX_LIMIT:
        raise InvalidParameter(f"limit: {n} is outside 1–{MAX_LIMIT}")
    return n


def _day(v: Any) -> date | None:
    return date.fromisoformat(v) if v else None


def timetable_note(feed: dict[str, Any] | None, stop: dict[str, Any], on: date, found: bool) -> str | None:
    """Why the list is empty or may be short: the feed has expired, has not begun, or today's buses have gone."""
    if feed is None:
        return "時刻表が登録されていません。"
    # The stop's own last service day counts too: an operator's calendar may end before the feed does.
    ends = (_day(feed.get("end_date")), _day(feed.get("last_service_day")), _day(stop.get("valid_to")))
    end = min((d for d in ends if d), default=None)
    start = _day(feed.get("first_service_day")) or _day(feed.get("start_date"))
    if end is not None and on > end:
        return f"時刻表の有効期限（{end.isoformat()}）を過ぎています。最新の時刻は事業者に確認してください。"
    if start is not None and on < start:
        return f"この時刻表は {start.isoformat()} からのものです。それより前の時刻は事業者に確認してください。"
    if not found:
        return "この日のこれ以降の発車は時刻表にありません（翌日の始発は日付を変えて確認してください）。"
    return None


async def departures(rt: Runtime, stop_id: str, at: datetime, limit: int) -> dict[str, Any]:
    """The next departures from a stop (a station: from its boarding points) at a moment, in JST (one statement)."""
    async with rt.public_conn() as conn:
        doc = orjson.loads(await conn.fetchval(DEPARTURES_SQL, stop_id, at, limit))
    stop = doc["stop"]
    if stop is None:
        raise NotFound(f"stop_id: no bus stop '{stop_id[:60]}' in 伊万里市 or 武雄市")
    feed = doc["feed"]
    at_jst = at.astimezone(JST)
    on = at_jst.date()
    deps = doc["departures"]
    note = timetable_note(feed, stop, on, bool(deps))
    if note and note.startswith("時刻表の有効期限"):
        deps = []  # never a timetable past its end, even where a stray service day remains
    for d in deps:
        if d.get("wheelchair_accessible") is None:
            d.pop("wheelchair_accessible", None)
    return {
        "stop": stop | {"children": doc["children"]},
        "at": at.isoformat(),
        "at_jst": at_jst.isoformat(),
        "service_date": on.isoformat(),
        "departures": deps,
        "source": await source(rt, feed),
        "note": note,
        "caveat": NOT_IN_FEED,
        "times": TIMES,
    }


async def source(rt: Runtime, feed: dict[str, Any] | None) -> dict[str, Any]:
    """The feed's provenance: its source row, version and validity."""
    if feed is None:
        return {"sources": [], "data_date": None, "sample": False}
    by_id, _ = await rt.catalog.sources()
    src = by_id.get(feed["source_id"], {})
    return {
        "sources": [src] if src else [],
        "data_date": src.get("data_date"),
        "sample": bool(src.get("sample")),
        "feed_version": feed.get("version"),
        "valid_from": feed.get("start_date"),
        "valid_to": feed.get("end_date"),
    }


async def near(rt: Runtime, lat: float, lon: float, limit: int) -> list[dict[str, Any]]:
    """The nearest stations (and boarding points without one) to a point, with distance in metres."""
    async with rt.public_conn() as conn:
        return orjson.loads(await conn.fetchval(NEAR_SQL, lon, lat, limit))


def places(conn: psycopg.Connection) -> list[tuple[str, str | None, float, float, str]]:
    """(name, kana, lat, lon, kind) of every station and lone boarding point in the two cities, for the geocoder.

    kind is 'station' (a GTFS parent station, e.g. 武雄温泉駅) or 'bus_stop'.
    """
    return [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(PLACES_SQL).fetchall()]
