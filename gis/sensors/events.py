"""How times and events are served: UTC with its offset for machines, a JST display string for people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
KIND_JA = {"flooded": "冠水（継続）", "receded": "冠水解消", "silent": "通報途絶", "back": "通報復帰"}


def iso(t: datetime | None) -> str | None:
    """UTC ISO 8601 with +00:00 (None stays None)."""
    return t.astimezone(UTC).isoformat(timespec="seconds") if t is not None else None


def jst(t: datetime | None) -> str | None:
    """What people read: 2026-12-02 14:05 (Japan time)."""
    return t.astimezone(JST).strftime("%Y-%m-%d %H:%M") if t is not None else None


def event_json(row: dict[str, Any], name: str | None) -> dict[str, Any]:
    """One event as served (GET /sensors/events, ingest answers, the webhook)."""
    detail = row.get("detail")
    if isinstance(detail, str):
        detail = json.loads(detail)
    return {
        "id": row["id"],
        "sensor_id": row["sensor_id"],
        "name": name,
        "kind": row["kind"],
        "kind_ja": KIND_JA.get(row["kind"], row["kind"]),
        "at": iso(row["at"]),
        "at_jst": jst(row["at"]),
        "detail": detail or {},
    }
