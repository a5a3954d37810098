"""Reading the statistics for staff: the period checked, the rows, a summary per day and kind, the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

import asyncpg

from gis.errors import InvalidParameter
from gis.stats.keys import KINDS, label

MAX_DAYS = 366
DEFAULT_DAYS = 30
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CSV_COLUMNS = ("日付", "種別", "種別名", "キー", "名称", "件数")
ABOUT = (
    "アクセス数の集計（件数のみ）。IPアドレス・ユーザーエージェント・Cookie・トークン・検索語・住所・座標は記録しません。"
    "日付は日本時間。ページ・レイヤはアクセスされたルートから、大字は照会結果から数えます。"
)


def _date(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    shown = value[:40]
    if not _DATE.fullmatch(value):
        raise InvalidParameter(f"{name}: '{shown}' is not a date; use YYYY-MM-DD (JST)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"{name}: '{shown}' is not a valid date (YYYY-MM-DD)") from None


def period(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The checked period: 30 days (to today, JST, when neither end is given); at most 366, `from` not after `to`."""
    first, last = _date("from", start), _date("to", end)
    span = timedelta(days=DEFAULT_DAYS - 1)
    try:
        if first is None:
            last = last or today
            first = last - span
        elif last is None:
            last = first + span
    except OverflowError:  # within 30 days of year 1 or 9999
        raise InvalidParameter(
            f"{'to' if first is None else 'from'}: give both from and to this close to year 1 or 9999"
        ) from None
    if first > last:
        raise InvalidParameter(f"from: {first} is after to ({last})")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise InvalidParameter(f"to: the period is {days} days long; at most {MAX_DAYS}")
    return first, last


def kind_of(value: str | None) -> str | None:
    """The checked kind filter (None: every kind)."""
    if value is None or value == "":
        return None
    if value not in KINDS:
        raise InvalidParameter(f"kind: '{value[:40]}' is not one of {', '.join(KINDS)}")
    return value


async def rows(conn: asyncpg.Connection, first: date, last: date, kind: str | None) -> list[dict[str, Any]]:
    """Every (day, kind, key, count) of the period, by day, kind, count descending."""
    found = await conn.fetch(
        "SELECT day, kind, key, count FROM access_counts WHERE day BETWEEN $1 AND $2 "
        "AND ($3::text IS NULL OR kind = $3) ORDER BY day, kind, count DESC, key",
        first,
        last,
        kind,
    )
    return [dict(r) for r in found]


def summary(found: list[dict[str, Any]], first: date, last: date, kind: str | None) -> dict[str, Any]:
    """The JSON staff read: per day (requests and per kind), totals per kind and key (largest first), the rows."""
    days = {first + timedelta(days=i): {} for i in range((last - first).days + 1)}
    totals: dict[str, dict[str, int]] = {}
    for r in found:
        per_day = days.setdefault(r["day"], {})
        per_day[r["kind"]] = per_day.get(r["kind"], 0) + r["count"]
        per_key = totals.setdefault(r["kind"], {})
        per_key[r["key"]] = per_key.get(r["key"], 0) + r["count"]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "kind": kind,
        "timezone": "Asia/Tokyo",
        "about": ABOUT,
        "kinds": KINDS,
        "days": [
            {"day": d.isoformat(), "requests": by_kind.get("api", 0), "by_kind": by_kind}
            for d, by_kind in sorted(days.items())
        ],
        "totals": {
            k: [
                {"key": key, "label": label(k, key), "count": n}
                for key, n in sorted(per_key.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
            for k, per_key in sorted(totals.items())
        },
        "rows": [{"day": r["day"].isoformat(), "kind": r["kind"], "key": r["key"], "count": r["count"]} for r in found],
    }


def to_csv(found: list[dict[str, Any]]) -> bytes:
    """One row per day × kind × key, Japanese column titles, UTF-8 with a BOM (Excel reads it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in found:
        kind, key = r["kind"], r["key"]
        writer.writerow((r["day"].isoformat(), kind, KINDS.get(kind, kind), key, label(kind, key), r["count"]))
    return out.getvalue().encode("utf-8-sig")
