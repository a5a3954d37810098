"""Push subscriptions: strict checks of what a browser sends, and the private table's writes and staff counts.

Only the push endpoint, its two keys and the holder's choices are stored, in the private schema; the holder gets a
random removal token once and only its SHA-256 is kept. Nothing here echoes an endpoint or a key back in an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from gis.errors import InvalidParameter, NotFound
from gis.settings import Settings

MAX_ENDPOINT = 2048
MAX_CATEGORIES = 50
HOURS = range(12, 24)
B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")

GROUP_SQL = """
SELECT g.group_id, g.city_code,
       coalesce((SELECT array_agg(c.category ORDER BY c.sort, c.category) FROM garbage_categories c
                 WHERE c.city_code = g.city_code),
                ARRAY(SELECT jsonb_object_keys(g.schedule))) AS known
FROM garbage_groups g WHERE g.group_id = $1
"""
UPSERT_SQL = """
INSERT INTO private.push_subscriptions (endpoint, p256dh, auth, group_id, categories, remind_hour, removal_sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, group_id = excluded.group_id,
    categories = excluded.categories, remind_hour = excluded.remind_hour, removal_sha256 = excluded.removal_sha256
RETURNING id, (xmax = 0) AS created
"""


@dataclass(frozen=True)
class Subscription:
    """A checked subscription: the endpoint and keys (normalised), the group, categories ([]: all) and hour."""

    endpoint: str
    p256dh: str
    auth: str
    group_id: str
    categories: tuple[str, ...]
    remind_hour: int


def hash_token(token: str) -> str:
    """The stored form of a removal token (256-bit random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The push service host suffixes from GIS_PUSH_SERVICES."""
    return tuple(h.strip().lower().lstrip(".") for h in settings.push_services.split(",") if h.strip())


def check_endpoint(endpoint: str, settings: Settings) -> str:
    """The endpoint if it is an https URL of a known push service (http://127.0.0.1 when tests allow it)."""
    name = "subscription.endpoint"
    if not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise InvalidParameter(f"{name}: give the push service URL, at most {MAX_ENDPOINT} characters")
    if not endpoint.isascii() or any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in endpoint):
        raise InvalidParameter(f"{name}: must be a plain URL (ASCII, no spaces or control characters)")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise InvalidParameter(f"{name}: not a URL") from None
    host = parts.hostname or ""
    loopback = settings.push_allow_loopback and parts.scheme == "http" and host == "127.0.0.1"
    if parts.scheme != "https" and not loopback:
        raise InvalidParameter(f"{name}: must be an https:// URL")
    if parts.username is not None or parts.password is not None or parts.fragment or "#" in endpoint:
        raise InvalidParameter(f"{name}: must not carry a user name, password or fragment")
    if not parts.path.strip("/"):
        raise InvalidParameter(f"{name}: has no path (a push subscription URL names its subscription)")
    if loopback:
        return endpoint
    if port not in (None, 443):
        raise InvalidParameter(f"{name}: push services are reached on the https port, not {port}")
    if not HOST.fullmatch(host) or not any(host == h or host.endswith("." + h) for h in allowed_hosts(settings)):
        raise InvalidParameter(f"{name}: not the URL of a known browser push service")
    return endpoint


def _b64url(value: str, name: str, size: int) -> bytes:
    if not B64URL.fullmatch(value or ""):
        raise InvalidParameter(f"{name}: must be base64url")
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise InvalidParameter(f"{name}: must be base64url") from None
    if len(raw) != size:
        raise InvalidParameter(f"{name}: must decode to {size} bytes, not {len(raw)}")
    return raw


def check_keys(p256dh: str, auth: str) -> tuple[str, str]:
    """The keys, unpadded: p256dh an uncompressed point on P-256 (65 bytes), auth a 16-byte secret."""
    point = _b64url(p256dh, "subscription.keys.p256dh", 65)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidParameter("subscription.keys.p256dh: not an uncompressed P-256 public key") from None
    _b64url(auth, "subscription.keys.auth", 16)
    return p256dh.rstrip("="), auth.rstrip("=")


def check(
    endpoint: str, p256dh: str, auth: str, group_id: str, categories: list[str], remind_hour: int, settings: Settings
) -> Subscription:
    """Everything a subscription says, checked without the database (the group and categories are checked later)."""
    endpoint = check_endpoint(endpoint, settings)
    p256dh, auth = check_keys(p256dh, auth)
    if remind_hour not in HOURS:
        raise InvalidParameter("remind_hour: an hour of the evening before, 12 to 23 (JST)")
    if len(categories) > MAX_CATEGORIES:
        raise InvalidParameter(f"categories: at most {MAX_CATEGORIES}")
    unique = tuple(dict.fromkeys(c.strip() for c in categories))
    if any(not c for c in unique):
        raise InvalidParameter("categories: an empty category name")
    return Subscription(endpoint, p256dh, auth, group_id, unique, remind_hour)


async def save(conn: asyncpg.Connection, sub: Subscription) -> tuple[dict, bool]:
    """Store (or update, for a known endpoint) the subscription; its body for the holder and whether it is new."""
    group = await conn.fetchrow(GROUP_SQL, sub.group_id)
    if group is None:
        raise NotFound(f"group_id: no garbage group '{sub.group_id}'")
    known = set(group["known"] or ())
    unknown = [c for c in sub.categories if c not in known]
    if unknown:
        raise InvalidParameter(
            f"categories: {'、'.join(unknown)} is not a category of group {sub.group_id} "
            f"(one of {'、'.join(group['known'] or ())})"
        )
    token = secrets.token_urlsafe(32)
    args = (sub.endpoint, sub.p256dh, sub.auth, sub.group_id, list(sub.categories), sub.remind_hour, hash_token(token))
    try:
        row = await conn.fetchrow(UPSERT_SQL, *args)
    except asyncpg.ForeignKeyViolationError:  # the group went away between the check and the write
        raise NotFound(f"group_id: no garbage group '{sub.group_id}'") from None
    body = {
        "id": row["id"],
        "removal_token": token,
        "group_id": sub.group_id,
        "categories": list(sub.categories),
        "remind_hour": sub.remind_hour,
    }
    return body, row["created"]


async def remove(conn: asyncpg.Connection, subscription_id: int, token: str) -> None:
    """Delete the subscription when the token is its removal token; one answer for a wrong id and a wrong token."""
    gone = await conn.fetchval(
        "DELETE FROM private.push_subscriptions WHERE id = $1 AND removal_sha256 = $2 RETURNING id",
        subscription_id,
        hash_token(token),
    )
    if gone is None:
        raise NotFound("no subscription with this id and removal token")


async def counts(conn: asyncpg.Connection) -> dict:
    """Staff KPI: subscriptions per group, per chosen category and per hour (never an endpoint or a key)."""
    groups = await conn.fetch(
        "SELECT g.group_id, g.city_code, g.name, count(s.id) AS count FROM garbage_groups g "
        "LEFT JOIN private.push_subscriptions s ON s.group_id = g.group_id "
        "GROUP BY g.group_id, g.city_code, g.name ORDER BY g.group_id"
    )
    categories = await conn.fetch(
        "SELECT g.city_code, c.category, count(*) AS count FROM private.push_subscriptions s "
        "JOIN garbage_groups g ON g.group_id = s.group_id CROSS JOIN LATERAL unnest(s.categories) c(category) "
        "GROUP BY g.city_code, c.category ORDER BY g.city_code, count(*) DESC, c.category"
    )
    hours = await conn.fetch(
        "SELECT remind_hour, count(*) AS count FROM private.push_subscriptions GROUP BY 1 ORDER BY 1"
    )
    totals = await conn.fetchrow(
        "SELECT count(*) AS total, count(*) FILTER (WHERE cardinality(categories) = 0) AS every_category, "
        "count(*) FILTER (WHERE created_at >= now() - interval '7 days') AS last_7_days "
        "FROM private.push_subscriptions"
    )
    return {
        **dict(totals),
        "groups": [dict(r) for r in groups],
        "categories": [dict(r) for r in categories],
        "hours": {str(r["remind_hour"]): r["count"] for r in hours},
    }
