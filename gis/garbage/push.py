"""Web Push reminders: the evening before a collection day, tell each subscription tomorrow's categories.

`remind` runs every hour (cron or a systemd timer): a subscription whose remind_hour is the current JST hour and
that has not been sent to today gets one message (aes128gcm, RFC 8291, signed with the VAPID key) naming
tomorrow's categories of its group, moved and extra days with their reason. A push service answering 404 or 410
means the browser dropped the subscription: it is deleted. Logs name subscription ids only, never an endpoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import psycopg
from psycopg.rows import dict_row
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from gis.cities import CITIES
from gis.errors import GisError
from gis.garbage import vapid
from gis.garbage.subscriptions import check_endpoint
from gis.settings import Settings

log = logging.getLogger("gis.garbage.push")
JST = timezone(timedelta(hours=9), "JST")  # Japan keeps no daylight saving time
SENDERS = 8
TIMEOUT_S = 15
DELIVER_BY = time(8, 0)  # collection mornings: a reminder still queued after this is no use
MAX_BODY = 900
GONE = (404, 410)

DUE_SQL = """
SELECT s.id, s.endpoint, s.p256dh, s.auth, s.group_id, s.categories, s.last_sent_on,
       g.name AS group_name, g.city_code, g.sample
FROM private.push_subscriptions s JOIN garbage_groups g ON g.group_id = s.group_id
WHERE s.remind_hour = %s AND s.last_sent_on IS DISTINCT FROM %s
ORDER BY s.id
"""
TOMORROW_SQL = """
SELECT c.group_id, c.category, c.status, c.planned_day, c.reason
FROM garbage_calendar c
JOIN garbage_groups g ON g.group_id = c.group_id
LEFT JOIN garbage_categories k ON k.city_code = g.city_code AND k.category = c.category
WHERE c.day = %s AND c.group_id = ANY(%s)
ORDER BY c.group_id, k.sort NULLS LAST, c.category, c.planned_day
"""
# Claimed before sending, in one statement: two overlapping runs cannot both send the same reminder.
CLAIM_SQL = """
UPDATE private.push_subscriptions SET last_sent_on = %s
WHERE id = ANY(%s) AND last_sent_on IS DISTINCT FROM %s RETURNING id
"""


@dataclass
class Outcome:
    """What one run did, counted."""

    due: int = 0
    sent: int = 0
    gone: int = 0
    failed: int = 0
    refused: int = 0
    nothing_tomorrow: int = 0
    dry_run: bool = False
    failed_ids: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per count, for the command's output."""
        verb = "would send" if self.dry_run else "sent"
        return [
            f"due this hour: {self.due}",
            f"{verb}: {self.sent}",
            f"no collection tomorrow: {self.nothing_tomorrow}",
            f"gone (deleted): {self.gone}",
            f"failed: {self.failed}",
            f"refused endpoint: {self.refused}",
        ]


@dataclass(frozen=True)
class Entry:
    """One category collected tomorrow, with how (regular, moved here from another day, extra) and why."""

    category: str
    status: str
    planned_day: date
    reason: str | None


def group_label(name: str, city_code: str) -> str:
    """The group as a resident reads it: the city and the 地区 (the sample marker goes in the title instead)."""
    label = name.removeprefix("（サンプル）").strip()
    city = CITIES.get(city_code)
    return label if city is None or city.name in label else f"{city.name} {label}"


def _entry_text(e: Entry) -> str:
    if e.status == "move":
        why = f"：{e.reason}" if e.reason else ""
        return f"{e.category}（{e.planned_day.month}月{e.planned_day.day}日分の振替{why}）"
    if e.status == "extra":
        return f"{e.category}（臨時収集{'：' + e.reason if e.reason else ''}）"
    return e.category


def message(entries: list[Entry], group_id: str, name: str, city_code: str, day: date, sample: bool) -> dict:
    """The notification payload: title 「明日のごみ収集」, body 「もえるごみ・ペットボトル（伊万里市 A地区）」."""
    body = "・".join(_entry_text(e) for e in entries) + f"（{group_label(name, city_code)}）"
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 1] + "…"
    return {
        "title": "明日のごみ収集" + ("（サンプル）" if sample else ""),
        "body": body,
        "group": group_id,
        "day": day.isoformat(),
        "categories": list(dict.fromkeys(e.category for e in entries)),
        "tag": f"garbage-{group_id}-{day.isoformat()}",
    }


def _jst(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(JST)
    return now.replace(tzinfo=JST) if now.tzinfo is None else now.astimezone(JST)


def _ttl(now: datetime, tomorrow: date) -> int:
    """Seconds until tomorrow's collection morning: a message still undelivered then is dropped by the service."""
    deadline = datetime.combine(tomorrow, DELIVER_BY, JST)
    return max(600, int((deadline - now).total_seconds()))


@contextmanager
def _quiet_http_logs() -> Iterator[None]:
    # urllib3 logs each request line (the endpoint's path) at DEBUG: never let an endpoint reach a log.
    logger = logging.getLogger("urllib3")
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


def _send(row: dict, payload: str, key: Vapid, subject: str, ttl: int) -> int | None:
    """The push service's HTTP status, or None when it could not be reached."""
    info = {"endpoint": row["endpoint"], "keys": {"p256dh": row["p256dh"], "auth": row["auth"]}}
    try:
        # A fresh claims dict per call: pywebpush writes the endpoint's origin into it as `aud`.
        response = webpush(
            info, payload, vapid_private_key=key, vapid_claims={"sub": subject}, ttl=ttl, timeout=TIMEOUT_S
        )
        return response.status_code
    except WebPushException as e:
        return e.status_code
    except Exception as e:  # connection refused, timeouts, TLS: the text would name the endpoint
        log.warning("push to subscription %s failed: %s", row["id"], type(e).__name__)
        return None


def remind(
    db_url: str,
    today: date | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    settings: Settings | None = None,
) -> Outcome:
    """Send tomorrow's reminders to the subscriptions due at this JST hour, once per day each."""
    settings = settings or Settings()
    now = _jst(now)
    today = today or now.date()
    tomorrow = today + timedelta(days=1)
    outcome = Outcome(dry_run=dry_run)
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        due = conn.execute(DUE_SQL, (now.hour, today)).fetchall()
        outcome.due = len(due)
        if not due:
            return outcome
        by_group: dict[str, list[Entry]] = {}
        rows = conn.execute(TOMORROW_SQL, (tomorrow, sorted({r["group_id"] for r in due}))).fetchall()
        for r in rows:
            by_group.setdefault(r["group_id"], []).append(
                Entry(r["category"], r["status"], r["planned_day"], r["reason"])
            )
        messages: dict[int, dict] = {}
        for sub in due:
            wanted = set(sub["categories"] or ())
            entries = [e for e in by_group.get(sub["group_id"], []) if not wanted or e.category in wanted]
            if not entries:
                outcome.nothing_tomorrow += 1
                continue
            try:
                check_endpoint(sub["endpoint"], settings)
            except GisError:
                log.warning("subscription %s: its endpoint is not an allowed push service; not sent", sub["id"])
                outcome.refused += 1
                continue
            messages[sub["id"]] = message(
                entries, sub["group_id"], sub["group_name"], sub["city_code"], tomorrow, sub["sample"]
            )
        if dry_run:
            outcome.sent = len(messages)
            return outcome
        key = vapid.load(settings)  # before claiming: a missing key must not use up anyone's day
        claimed = {r["id"] for r in conn.execute(CLAIM_SQL, (today, list(messages), today)).fetchall()}
        conn.commit()
        todo = [s for s in due if s["id"] in claimed]
        if not todo:
            return outcome
        ttl = _ttl(now, tomorrow)
        with _quiet_http_logs(), ThreadPoolExecutor(max_workers=SENDERS) as pool:
            statuses = pool.map(
                lambda s: _send(s, json.dumps(messages[s["id"]], ensure_ascii=False), key, settings.vapid_subject, ttl),
                todo,
            )
            results = list(zip(todo, statuses, strict=True))
        for sub, status in results:
            if status is not None and 200 <= status < 300:
                outcome.sent += 1
            elif status in GONE:
                conn.execute("DELETE FROM private.push_subscriptions WHERE id = %s", (sub["id"],))
                outcome.gone += 1
            else:
                # Not sent: give the day back, so a rerun within the hour tries again.
                conn.execute(
                    "UPDATE private.push_subscriptions SET last_sent_on = %s WHERE id = %s",
                    (sub["last_sent_on"], sub["id"]),
                )
                if status is not None:
                    log.warning("push to subscription %s failed: HTTP %s", sub["id"], status)
                outcome.failed += 1
                outcome.failed_ids.append(sub["id"])
        conn.commit()
    return outcome
