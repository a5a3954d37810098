"""Provenance (the sources table) and layer versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql


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


VERSION_CHANNEL = "layer_version"


def bump_version(cur: psycopg.Cursor, layer_id: str) -> int:
    """Give a layer a new version (ETags and tile caches follow it)."""
    cur.execute(
        "INSERT INTO layer_state (layer_id, version, updated_at) VALUES (%s, nextval('layer_version_seq'), now()) "
        "ON CONFLICT (layer_id) DO UPDATE SET version = EXCLUDED.version, updated_at = now() RETURNING version",
        (layer_id,),
    )
    version = cur.fetchone()[0]
    # Delivered at commit: every API worker updates its versions (ETags, caches) at once.
    cur.execute("SELECT pg_notify(%s, %s)", (VERSION_CHANNEL, f"{layer_id}:{version}"))
    return version


def insert_source(cur: psycopg.Cursor, layer_id: str, info: SourceInfo, **extra: object) -> int:
    """Record a provenance row and return its id."""
    values = {
        "layer_id": layer_id,
        "title": info.title,
        "publisher": info.publisher,
        "licence": info.licence,
        "licence_url": info.licence_url,
        "attribution": info.attribution or info.title,
        "data_date": info.data_date,
        "origin": info.origin,
        "sample": info.sample,
        "derived": info.derived,
        "note": info.note,
        **extra,
    }
    cols = sql.SQL(", ").join(sql.Identifier(k) for k in values)
    cur.execute(
        sql.SQL("INSERT INTO sources ({}) VALUES ({}) RETURNING id").format(
            cols, sql.SQL(", ").join(sql.Placeholder() * len(values))
        ),
        list(values.values()),
    )
    return cur.fetchone()[0]
