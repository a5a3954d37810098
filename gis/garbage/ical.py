"""A group's collection days as iCalendar (RFC 5545), built with the icalendar library.

One all-day VEVENT per collection day and category, with a UID that stays the same for that group, category and
planned day (a day moved later keeps its UID, so subscribed calendars move the event instead of adding one), and
a VALARM (DISPLAY) at the chosen local time the evening before: all-day events float in local time, so a TRIGGER
relative to the start (midnight) of -PT5H rings at 19:00 the day before wherever the reader is.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event, vDDDTypes, vDuration, vText

PRODID = "-//伊万里市・武雄市 地図データサービス//ごみ収集日//JA"
UID_DOMAIN = "garbage.imari-takeo.invalid"


def trigger(alarm: time) -> timedelta:
    """The alarm's offset from the start of the all-day event: 19:00 the evening before → -5 hours."""
    return -(timedelta(days=1) - timedelta(hours=alarm.hour, minutes=alarm.minute))


def uid(group_id: str, category: str, planned: str, status: str) -> str:
    """Stable per group, category and planned day (an extra day gets its own)."""
    digest = hashlib.blake2b(f"{group_id}\n{category}".encode(), digest_size=6).hexdigest()
    suffix = "-extra" if status == "extra" else ""
    return f"{planned.replace('-', '')}-{digest}{suffix}@{UID_DOMAIN}"


def _description(d: dict[str, Any]) -> str | None:
    if d["status"] == "move":
        reason = f"{d['reason']}のため、" if d.get("reason") else ""
        return f"{reason}{d['planned_day']} から振替"
    if d["status"] == "extra":
        return f"臨時収集（{d['reason']}）" if d.get("reason") else "臨時収集"
    return None


def build(
    group: dict[str, Any],
    days: list[dict[str, Any]],
    info: dict[str, Any],
    alarm: time | None,
    at: datetime,
) -> bytes:
    """The VCALENDAR text: X-WR-CALNAME, X-WR-TIMEZONE Asia/Tokyo, one VEVENT (with its VALARM) per day."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"ごみ収集日 {group['name']}")
    cal.add("x-wr-timezone", "Asia/Tokyo")
    attribution = "、".join(dict.fromkeys(s["attribution"] for s in info["sources"] if s.get("attribution")))
    note = "（サンプルデータ：実際の収集日ではありません）" if info["sample"] else ""
    cal.add("x-wr-caldesc", f"{group['city'] or ''} {group['name']} のごみ収集日{note}。出典：{attribution or '—'}")
    cal.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "P1D")
    # Property values built once and shared: icalendar's add() re-encodes every value (half the build time).
    stamp = vDDDTypes(at.astimezone(UTC))
    transparent, display = vText("TRANSPARENT"), vText("DISPLAY")
    offset = vDuration(trigger(alarm)) if alarm is not None else None
    texts: dict[str, tuple[vText, vText]] = {}
    for d in days:
        day = date.fromisoformat(d["day"])
        category = d["category"]
        if category not in texts:
            texts[category] = (vText(category), vText(f"明日は{category}の収集日です"))
        summary, reminder_text = texts[category]
        event = Event()
        event["UID"] = vText(uid(group["id"], category, d["planned_day"], d["status"]))
        event["DTSTAMP"] = stamp
        event["DTSTART"] = vDDDTypes(day)
        event["DTEND"] = vDDDTypes(day + timedelta(days=1))
        event["SUMMARY"] = summary
        event["TRANSP"] = transparent
        description = _description(d)
        if description:
            event["DESCRIPTION"] = vText(description)
        if offset is not None:
            reminder = Alarm()
            reminder["ACTION"] = display
            reminder["DESCRIPTION"] = reminder_text
            reminder["TRIGGER"] = offset
            event.add_component(reminder)
        cal.add_component(event)
    return cal.to_ical()
