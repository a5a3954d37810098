"""Inquiries about farmland: a seeker writes to the city's 農業委員会; nothing of it is ever public.

Protection without a third-party service: a signed form token (HMAC-SHA256 of the time the form was opened, with
a key kept under GIS_VAR_DIR like the VAPID key) refused when the answer comes faster than a person types (3 s) or
after 2 hours; a honeypot field (`website`) that people never see and must stay empty; and at most 5 inquiries per
client and hour, counted in the database (so every worker agrees) on a keyed hash of the client's address that is
cleared once its hour has passed. The inquiry is stored in the private schema through the staff pool; it is never
logged, and errors name the field, never its value.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from gis.errors import ConfigurationError, GisError, InvalidParameter, NotFound
from gis.farmland.detail import contact
from gis.farmland.inquiry_tables import STATUSES
from gis.ogc.limits import check_text
from gis.settings import Settings

JST = ZoneInfo("Asia/Tokyo")
MIN_SECONDS = 3
MAX_AGE_SECONDS = 2 * 3600
PER_HOUR = 5
MAX_PARCELS = 20
MAX_MESSAGE = 2000
MAX_BODY_BYTES = 16 * 1024  # 2,000 characters of Japanese are 6 kB in UTF-8; JSON escapes can triple it
TOKEN = re.compile(r"([0-9]{10,13})\.([0-9a-f]{16})\.([0-9a-f]{64})")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_lock = threading.Lock()
_keys: dict[str, bytes] = {}


class InquiryIn(BaseModel):
    """POST /farmland/inquiries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    parcel_ids: list[Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1, max_length=MAX_PARCELS, description="parcel ids (features of /farmland/parcels), 1–20"
    )
    name: str = Field(min_length=1, max_length=100, description="your name")
    contact: str = Field(min_length=1, max_length=200, description="e-mail address or phone number")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE, description="what you would like to ask, ≤ 2000")
    form_token: str = Field(min_length=1, max_length=200, description="from GET /farmland/inquiries/form")
    website: str = Field("", max_length=200, description="leave empty (a field people do not see)")


class InquiryPatch(BaseModel):
    """PATCH /farmland/inquiries/{id} (staff)."""

    model_config = ConfigDict(extra="forbid")
    status: str | None = Field(None, description="open, answered or closed")
    staff_note: str | None = Field(None, max_length=4000, description="a note for staff (never public)")


class TooManyRequests(GisError):
    """The client sent its hourly share of inquiries."""

    status = 429
    code = "TooManyRequests"

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description)
        self.headers = {"Retry-After": str(retry_after)}


# -- the key, the form token and the client hash -------------------------------------------------------------------


def key_file(settings: Settings) -> Path:
    """Where the form-signing key lives."""
    return settings.var_dir / "farmland" / "form_key"


def form_key(settings: Settings) -> bytes:
    """32 random bytes made once (mode 600; the first of several workers to write it wins) and kept."""
    path = key_file(settings)
    with _lock:
        if str(path) not in _keys:
            _keys[str(path)] = _read_or_create(path)
        return _keys[str(path)]


def _read_or_create(path: Path) -> bytes:
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(secrets.token_bytes(32))
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        key = path.read_bytes()
    except OSError as e:
        raise ConfigurationError(f"cannot read or create the form key {path}: {e.strerror or e}") from None
    if len(key) < 32:
        raise ConfigurationError(f"the form key {path} is shorter than 32 bytes")
    return key


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def issue_token(settings: Settings, at: float | None = None) -> str:
    """A form token: the time the form was opened (ms), a nonce and their HMAC."""
    stamp = f"{round((time.time() if at is None else at) * 1000)}.{secrets.token_hex(8)}"
    return f"{stamp}.{_sign(form_key(settings), 'form:' + stamp)}"


def check_token(settings: Settings, token: str, now: float | None = None) -> None:
    """400 naming form_token unless it is ours, at least 3 s and at most 2 h old."""
    m = TOKEN.fullmatch(token)
    stamp = f"{m[1]}.{m[2]}" if m else ""
    if not m or not hmac.compare_digest(_sign(form_key(settings), "form:" + stamp), m[3]):
        raise InvalidParameter(
            "form_token: not a token of this service; reload the form (GET /farmland/inquiries/form)"
        )
    age = (time.time() if now is None else now) - int(m[1]) / 1000
    if age < MIN_SECONDS:
        raise InvalidParameter(f"form_token: sent {max(age, 0):.1f} s after the form was opened; wait a moment")
    if age > MAX_AGE_SECONDS:
        raise InvalidParameter("form_token: the form was opened more than 2 hours ago; reload it and send again")


def client_hash(settings: Settings, client: str) -> str:
    """A keyed hash of the client's address: enough to count its inquiries, useless to anyone without the key."""
    return _sign(form_key(settings), "client:" + client)[:32]


def form(settings: Settings) -> dict[str, Any]:
    """GET /farmland/inquiries/form: a fresh token and the rules of the form."""
    return {
        "form_token": issue_token(settings),
        "min_seconds": MIN_SECONDS,
        "max_age_seconds": MAX_AGE_SECONDS,
        "per_hour": PER_HOUR,
        "fields": {
            "parcel_ids": {"min": 1, "max": MAX_PARCELS},
            "name": {"max_length": 100},
            "contact": {"max_length": 200, "description": "メールアドレスまたは電話番号"},
            "message": {"max_length": MAX_MESSAGE},
            "website": {"description": "空欄のままにしてください"},
        },
        "privacy": "お名前・連絡先・本文は農業委員会だけが読みます。公開されることはありません。",
    }


# -- validation ----------------------------------------------------------------------------------------------------


def _field_error(e: ValidationError) -> InvalidParameter:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return InvalidParameter(f"{loc}: {err.get('msg', 'invalid')}")  # the message, never the input


def parse(body: bytes) -> InquiryIn:
    """The inquiry from a JSON body; 400 naming the field (never echoing what was written)."""
    try:
        inquiry = InquiryIn.model_validate_json(body)
    except ValidationError as e:
        if any(err["type"] == "json_invalid" for err in e.errors()):
            raise InvalidParameter("body: not JSON; send a JSON object (Content-Type: application/json)") from None
        if any(err["type"] == "model_type" for err in e.errors()):
            raise InvalidParameter("body: send a JSON object") from None
        raise _field_error(e) from None
    for name in ("name", "contact", "message"):
        value = getattr(inquiry, name)
        check_text(value, name)
        if CONTROL.search(value if name == "message" else value.replace("\n", "\x01")):
            raise InvalidParameter(f"{name}: contains control characters")
    if not EMAIL.fullmatch(inquiry.contact) and len(re.sub(r"[^0-9]", "", inquiry.contact)) < 10:
        raise InvalidParameter("contact: give an e-mail address or a phone number (with area code)")
    if len(set(inquiry.parcel_ids)) != len(inquiry.parcel_ids):
        raise InvalidParameter("parcel_ids: a parcel is listed twice")
    return inquiry


def check_bots(settings: Settings, inquiry: InquiryIn) -> None:
    """The honeypot must be empty and the form token valid and of a plausible age."""
    if inquiry.website:
        raise InvalidParameter("website: must stay empty (this field is filled only by programs)")
    check_token(settings, inquiry.form_token)


# -- storing -------------------------------------------------------------------------------------------------------

PARCELS_SQL = "SELECT id, city_code FROM farmland WHERE id = ANY($1::bigint[]) AND urbanised IS NOT TRUE"
WINDOW_SQL = """
SELECT count(*) AS n, ceil(extract(epoch FROM min(created_at) + interval '1 hour' - now()))::int AS wait
FROM private.farmland_inquiries WHERE client_hash = $1 AND created_at > now() - interval '1 hour'
"""
INSERT_SQL = """
INSERT INTO private.farmland_inquiries (city_code, parcel_ids, name, contact, message, client_hash)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at
"""
# Once its hour has passed, a hash has no use left: cleared on the next inquiry.
FORGET_SQL = """
UPDATE private.farmland_inquiries SET client_hash = NULL
WHERE client_hash IS NOT NULL AND created_at <= now() - interval '1 hour'
"""


async def store(conn: asyncpg.Connection, settings: Settings, inquiry: InquiryIn, client: str) -> dict[str, Any]:
    """Check the hourly limit and the parcels, then store the inquiry (one transaction); the 201 body."""
    who = client_hash(settings, client)
    async with conn.transaction():
        # Two requests of one client at the same moment must not both pass the limit.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 12))", who)
        window = await conn.fetchrow(WINDOW_SQL, who)
        if window["n"] >= PER_HOUR:
            wait = max(1, window["wait"] or 1)
            raise TooManyRequests(
                f"too many inquiries from this client: at most {PER_HOUR} an hour; try again in "
                f"{math.ceil(wait / 60)} minutes",
                wait,
            )
        found = {r["id"]: r["city_code"] for r in await conn.fetch(PARCELS_SQL, inquiry.parcel_ids)}
        unknown = [i for i in inquiry.parcel_ids if i not in found]
        if unknown:
            raise InvalidParameter(f"parcel_ids: no public farmland parcel {', '.join(map(str, unknown[:5]))}")
        cities = sorted(set(found.values()))
        if len(cities) > 1:
            raise InvalidParameter(
                "parcel_ids: the parcels lie in both cities; each city's 農業委員会 answers its own, "
                "so send one inquiry per city"
            )
        row = await conn.fetchrow(
            INSERT_SQL, cities[0], inquiry.parcel_ids, inquiry.name, inquiry.contact, inquiry.message, who
        )
        await conn.execute(FORGET_SQL)
    return {
        "id": row["id"],
        "received_at": row["created_at"].astimezone(JST).isoformat(timespec="seconds"),
        "parcel_ids": inquiry.parcel_ids,
        "answered_by": contact(settings.data_dir, cities[0]),
        "message": f"{contact(settings.data_dir, cities[0])['name']}が受け付けました。担当者から連絡します。",
    }


# -- staff ---------------------------------------------------------------------------------------------------------

LIST_SQL = """
SELECT i.id, i.created_at, i.city_code, i.parcel_ids, i.name, i.contact, i.message, i.status, i.staff_note,
       i.answered_at, i.closed_at, i.handled_by,
       (SELECT coalesce(json_agg(json_build_object('id', f.id, 'oaza', f.oaza, 'chiban', f.chiban,
                                                   'land_type_name', f.land_type_name, 'area_m2', f.area_m2)
                                 ORDER BY f.id), '[]')::text
        FROM farmland f WHERE f.id = ANY(i.parcel_ids)) AS parcels,
       count(*) OVER () AS matched
FROM private.farmland_inquiries i
WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.city_code = $2)
ORDER BY i.created_at DESC, i.id DESC
LIMIT $3 OFFSET $4
"""
ROW_SQL = LIST_SQL.replace("WHERE ($1::text IS NULL", "WHERE i.id = $5 AND ($1::text IS NULL")


def _jst(value: datetime | None) -> str | None:
    return value.astimezone(JST).isoformat(timespec="seconds") if value else None


def _row(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "created_at": _jst(r["created_at"]),
        "city_code": r["city_code"],
        "parcel_ids": list(r["parcel_ids"]),
        "parcels": orjson.loads(r["parcels"]),
        "name": r["name"],
        "contact": r["contact"],
        "message": r["message"],
        "status": r["status"],
        "staff_note": r["staff_note"],
        "answered_at": _jst(r["answered_at"]),
        "closed_at": _jst(r["closed_at"]),
        "handled_by": r["handled_by"],
    }


def status(value: str | None, name: str = "status") -> str | None:
    """open, answered or closed (none when absent or empty)."""
    if value is None or value == "":
        return None
    if value not in STATUSES:
        raise InvalidParameter(f"{name}: unknown status '{value[:20]}'; use {', '.join(STATUSES)}")
    return value


async def listing(
    conn: asyncpg.Connection, state: str | None, city: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """Staff: inquiries newest first, with their parcels' public summary."""
    rows = await conn.fetch(LIST_SQL, state, city, limit, offset)
    matched = rows[0]["matched"] if rows else 0
    return {
        "inquiries": [_row(r) for r in rows],
        "numberMatched": matched,
        "numberReturned": len(rows),
        "status": state,
        "city": city,
    }


PATCH_SQL = """
UPDATE private.farmland_inquiries SET
  status = coalesce($2, status),
  staff_note = CASE WHEN $3 THEN $4 ELSE staff_note END,
  answered_at = CASE WHEN $2 = 'answered' THEN coalesce(answered_at, now()) ELSE answered_at END,
  closed_at = CASE WHEN $2 = 'closed' THEN coalesce(closed_at, now()) WHEN $2 IS NOT NULL THEN NULL
                   ELSE closed_at END,
  handled_by = $5
WHERE id = $1
RETURNING id
"""


async def update(conn: asyncpg.Connection, inquiry_id: int, patch: InquiryPatch, staff_name: str) -> dict[str, Any]:
    """Staff: mark answered or closed (or reopen), keep a note; 404 for an unknown id."""
    state = status(patch.status)
    note_given = "staff_note" in patch.model_fields_set
    if state is None and not note_given:
        raise InvalidParameter("body: give status and/or staff_note")
    if patch.staff_note is not None:
        check_text(patch.staff_note, "staff_note")
    async with conn.transaction():
        done = await conn.fetchval(PATCH_SQL, inquiry_id, state, note_given, patch.staff_note, staff_name)
        if done is None:
            raise NotFound(f"id: no inquiry {inquiry_id}")
        row = await conn.fetchrow(ROW_SQL, None, None, 1, 0, inquiry_id)
    return _row(row)


def parse_patch(body: bytes) -> InquiryPatch:
    """The staff change from a JSON body; 400 naming the field."""
    try:
        return InquiryPatch.model_validate_json(body)
    except ValidationError as e:
        if any(err["type"] in ("json_invalid", "model_type") for err in e.errors()):
            raise InvalidParameter("body: send a JSON object") from None
        raise _field_error(e) from None
