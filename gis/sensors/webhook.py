"""The webhook outbox: events are POSTed as JSON to sensor_rules.webhook_url, retried with exponential backoff.

Ingest and the sweeper only insert events (`delivery = 'pending'`, `next_attempt_at` = when they happened); this
worker claims due ones with `FOR UPDATE SKIP LOCKED`, pushes their next attempt a lease ahead (so a worker that dies
mid-send leaves them for another), POSTs each and records the outcome: `delivered`, or the next attempt after
base × 2^(attempts-1) seconds (capped), or `failed` after MAX_ATTEMPTS. Receivers should deduplicate on
`X-Sensor-Event-Id`: a send that timed out after the receiver got it is sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson

from gis.errors import InvalidParameter
from gis.sensors.ingest import load_rules
from gis.sensors.sweep import with_names

log = logging.getLogger("gis.sensors.webhook")
MAX_ATTEMPTS = 12
BASE_SECONDS = 10.0
CAP_SECONDS = 3600.0
LEASE_SECONDS = 60.0
TIMEOUT_SECONDS = 5.0
BATCH = 50

CLAIM_SQL = """
UPDATE sensor_events e SET attempts = e.attempts + 1, next_attempt_at = $1 + make_interval(secs => $3)
WHERE e.id IN (SELECT id FROM sensor_events WHERE delivery = 'pending' AND next_attempt_at <= $1
               ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING e.id, e.thing_id, e.sensor_id, e.kind, e.at, e.detail, e.attempts
"""
DONE_SQL = "UPDATE sensor_events SET delivery = 'delivered', delivered_at = $2, next_attempt_at = NULL WHERE id = $1"
RETRY_SQL = "UPDATE sensor_events SET next_attempt_at = $2 WHERE id = $1"
FAILED_SQL = "UPDATE sensor_events SET delivery = 'failed', next_attempt_at = NULL WHERE id = $1"
NO_HOOK_SQL = "UPDATE sensor_events SET delivery = 'none', next_attempt_at = NULL WHERE id = ANY($1::bigint[])"


@dataclass
class DeliveryResult:
    """Counts of one run."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0  # no webhook configured any more

    def lines(self) -> list[str]:
        """What `gis sensors deliver` prints."""
        return [
            f"delivered: {self.delivered}",
            f"retrying: {self.retrying}",
            f"failed: {self.failed}",
            f"no webhook: {self.dropped}",
        ]


def check_url(url: str | None) -> str | None:
    """A webhook address: http(s) with a host, or None/'' to switch the webhook off."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000 or any(c < " " for c in url):
        raise InvalidParameter("webhook_url: an http:// or https:// URL with a host is required (or empty: off)")
    return url


def backoff(attempts: int, base: float = BASE_SECONDS) -> timedelta:
    """The wait after the n-th failed attempt: base, 2 base, 4 base, ... at most an hour."""
    return timedelta(seconds=min(CAP_SECONDS, base * 2 ** max(0, attempts - 1)))


async def _post(client: httpx.AsyncClient, url: str, event: dict[str, Any]) -> str | None:
    """POST one event; None on a 2xx answer, else why it failed."""
    body = orjson.dumps({"type": "sensor_event", "event": event})
    headers = {"content-type": "application/json", "x-sensor-event-id": str(event["id"])}
    try:
        r = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as e:
        return type(e).__name__
    return None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"


async def deliver(
    conn: asyncpg.Connection,
    *,
    now: datetime | None = None,
    base_seconds: float = BASE_SECONDS,
    client: httpx.AsyncClient | None = None,
) -> DeliveryResult:
    """Send every due pending event once (oldest first); returns what happened."""
    now = now or datetime.now(UTC)
    result = DeliveryResult()
    rules = await load_rules(conn)
    async with conn.transaction():
        rows = await conn.fetch(CLAIM_SQL, now, BATCH, LEASE_SECONDS)
    if not rows:
        return result
    if not rules.webhook_url:
        await conn.execute(NO_HOOK_SQL, [r["id"] for r in rows])
        result.dropped = len(rows)
        return result
    events = await with_names(conn, rows)
    own = client is None
    client = client or httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        for row, event in zip(rows, events, strict=True):
            why = await _post(client, rules.webhook_url, event)
            if why is None:
                await conn.execute(DONE_SQL, row["id"], datetime.now(UTC))
                result.delivered += 1
            elif row["attempts"] >= MAX_ATTEMPTS:
                log.warning("sensor event %s: giving up after %s attempts (%s)", row["id"], row["attempts"], why)
                await conn.execute(FAILED_SQL, row["id"])
                result.failed += 1
            else:
                await conn.execute(RETRY_SQL, row["id"], now + backoff(row["attempts"], base_seconds))
                result.retrying += 1
    finally:
        if own:
            await client.aclose()
    return result
