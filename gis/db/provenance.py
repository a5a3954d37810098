"""The one write path: provenance rows and layer versions, through SQL functions both drivers call.

`gis_record_source(layer, info jsonb)` and `gis_bump_version(layer)` (migration 0004) do the work inside the
caller's transaction; the version's NOTIFY is delivered at commit, so every API worker sees a write at once. The
importer (psycopg) and API writes (asyncpg) call the same functions through the wrappers below.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import asyncpg
import psycopg

VERSION_CHANNEL = "layer_version"
BUMP_SQL = "SELECT gis_bump_version($1)"
SOURCE_SQL = "SELECT gis_record_source($1, $2::jsonb)"


@dataclass
class SourceInfo:
    """Provenance recorded with every load."""

    title: str
    publisher: str = "不明（職員による取込）"
    licence: str = "要確認"
    attribution: str = ""
    licence_url: str | None = None
    data_date: date | None = None
    origin: str | None = None
    sample: bool = False
    derived: bool = False
    note: str | None = None


def _source_json(info: SourceInfo, extra: dict[str, Any]) -> str:
    values = {**asdict(info), **extra}
    if isinstance(values.get("report"), str):  # already JSON text
        values["report"] = json.loads(values["report"])
    return json.dumps(values, ensure_ascii=False, default=lambda v: v.isoformat())


def _psycopg(sql: str) -> str:
    return sql.replace("$1", "%s").replace("$2", "%s")


def bump_version(cur: psycopg.Cursor, layer_id: str) -> int:
    """Give a layer a new version in the cursor's transaction (ETags, caches and tiles follow it at commit)."""
    cur.execute(_psycopg(BUMP_SQL), (layer_id,))
    return cur.fetchone()[0]


def insert_source(cur: psycopg.Cursor, layer_id: str, info: SourceInfo, **extra: object) -> int:
    """Record a provenance row in the cursor's transaction and return its id."""
    cur.execute(_psycopg(SOURCE_SQL), (layer_id, _source_json(info, extra)))
    return cur.fetchone()[0]


async def abump_version(conn: asyncpg.Connection, layer_id: str) -> int:
    """bump_version for asyncpg (API writes)."""
    return await conn.fetchval(BUMP_SQL, layer_id)


async def ainsert_source(conn: asyncpg.Connection, layer_id: str, info: SourceInfo, **extra: object) -> int:
    """insert_source for asyncpg (API writes)."""
    return await conn.fetchval(SOURCE_SQL, layer_id, _source_json(info, extra))
