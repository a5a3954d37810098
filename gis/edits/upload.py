"""Staff uploads: a file read and checked exactly as `gis import` does, previewed as a diff or applied in one
transaction.

A preview (`dry_run`) runs the very load an apply would run (`load_frame`: staging, the inside-the-city and
--replace guards, ids kept by feature key, private rows, derived layers) inside a transaction that is then rolled
back, and reports the import report plus the diff against the rows that were there. An apply runs the same steps
and commits, recorded as an `import` revision of the layer under the staff member's name.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from gis.db.provenance import SourceInfo
from gis.db.revisions import Actor
from gis.edits.diff import DIFF_LIMIT, compare, snapshot
from gis.errors import Conflict, ImportFailed, NotFound
from gis.ingest.crsfit import connection_areas
from gis.ingest.importer import ImportResult, load_frame
from gis.ingest.mapping import map_columns
from gis.ingest.readers import FORMATS, read_source
from layers import LAYERS
from layers.base import Layer

# What a client's file name may keep: letters (any script), digits, dot, dash, underscore, space.
_UNSAFE = re.compile(r"[^\w.\- ]+")
MAX_NAME = 120
# Where a COPY into the staging table stopped: "COPY stage, line 3, column plots: ..." (line = feature number).
_COPY_AT = re.compile(r"COPY stage, line (\d+), column (\w+)")


@dataclass(frozen=True)
class UploadOptions:
    """The options of `gis import`, and the provenance recorded with the load."""

    crs: str | None = None
    city: str | None = None
    replace: bool = False
    force: bool = False
    allow_outside: bool = False
    layer_name: str | None = None
    title: str | None = None
    publisher: str = "不明（職員による取込）"
    licence: str = "要確認"
    attribution: str = ""
    data_date: date | None = None
    sample: bool = False


def importable_layer(layer_id: str) -> Layer:
    """The layer an upload may load into: 404 when unknown, 409 when its rows come from a rule."""
    if layer_id not in LAYERS:
        raise NotFound(f"unknown layer '{layer_id}': one of {', '.join(LAYERS)}")
    layer = LAYERS[layer_id]
    if layer.derived_from:
        raise Conflict(f"layer {layer_id} is derived from {layer.derived_from}: upload {layer.derived_from} instead")
    return layer


def safe_file_name(name: str | None) -> str:
    """The client's file name without any directory part or unusual character; its suffix must be readable."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip(" .")[-MAX_NAME:]
    suffix = Path(cleaned).suffix.lower()
    if suffix == ".shp":
        raise ImportFailed("file: upload a Shapefile as one .zip holding its .shp, .shx, .dbf and .prj")
    if suffix not in FORMATS:
        kinds = ", ".join(sorted(FORMATS))
        raise ImportFailed(f"file: unsupported file type '{suffix or base or '(none)'}': use {kinds}")
    if cleaned.startswith("."):
        cleaned = "upload" + cleaned
    return cleaned


@contextmanager
def spooled(directory: Path, name: str) -> Iterator[Path]:
    """A private temporary directory holding the upload under its own name; removed afterwards, whatever happens."""
    directory.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=directory))
    try:
        yield folder / name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_upload(
    conn: psycopg.Connection,
    layer_id: str,
    path: Path,
    options: UploadOptions,
    actor: Actor,
    *,
    dry_run: bool,
    limit: int = DIFF_LIMIT,
) -> dict[str, Any]:
    """Read, map and load the file; a dry run rolls everything back. Either way: the report and the diff."""
    layer = importable_layer(layer_id)
    source = read_source(path, crs=options.crs, layer_name=options.layer_name, areas=connection_areas(conn))
    mapped = map_columns(source.frame, layer, options.city, source.report)
    cities = sorted(set(mapped["city_code"]))
    info = SourceInfo(
        title=options.title or path.name,
        publisher=options.publisher,
        licence=options.licence,
        attribution=options.attribution,
        data_date=options.data_date,
        sample=options.sample,
    )
    version_before = _version(conn, layer.id)
    try:
        with conn.transaction() as tx:
            with conn.cursor() as cur:
                # The importer's lock, taken before the snapshot: no other writer changes the rows in between.
                cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(layer.id)))
                snapshot(cur, layer, cities)
            result = load_frame(
                conn,
                layer,
                mapped,
                info,
                replace=options.replace,
                force=options.force,
                allow_outside=options.allow_outside,
                source_crs=source.crs,
                file=path,
                report=source.report,
                actor=actor.name,
                kind="import",
                request_id=actor.request_id,
                actor_role=actor.role,
            )
            with conn.cursor() as cur:
                diff = compare(cur, layer, cities, limit)
                revision = None if dry_run else _revision(cur, result.revision_id)
            if dry_run:
                # Every check has run and the diff is known: undo it all (rows, sources, version, revision).
                raise psycopg.Rollback(tx)
    except psycopg.errors.DataError as e:
        # A value the layer's column type cannot hold (the mapping coerces most; this names what is left).
        raise ImportFailed(f"file: a value does not fit its column ({_column_of(e)})") from None
    except psycopg.errors.IntegrityError as e:
        raise ImportFailed(f"file: the rows break a rule of the layer ({_column_of(e)})") from None
    return _answer(layer, path.name, options, result, diff, dry_run, version_before, revision)


def _answer(
    layer: Layer,
    name: str,
    options: UploadOptions,
    result: ImportResult,
    diff: dict[str, Any],
    dry_run: bool,
    version_before: int,
    revision: int | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "layer": layer.id,
        "title": layer.title,
        "file": name,
        "dry_run": dry_run,
        "rows": result.rows,
        "cities": result.cities,
        "replace": options.replace,
        "replaced": result.replaced,
        "outside": result.outside,
        "sample": options.sample,
        "report": result.report,
        "diff": diff,
        "version_before": version_before,
    }
    if dry_run:
        out["applied"] = False
    else:
        out |= {"applied": True, "version": result.version, "source_id": result.source_id, "revision": revision}
    return out


def _version(conn: psycopg.Connection, layer_id: str) -> int:
    row = conn.execute("SELECT version FROM layer_state WHERE layer_id = %s", (layer_id,)).fetchone()
    conn.rollback()
    return int(row[0]) if row else 0


def _revision(cur: psycopg.Cursor, revision_id: int | None) -> int | None:
    """The layer's revision number (1, 2, ...) this import was recorded as."""
    if revision_id is None:
        return None
    cur.execute("SELECT revision FROM layer_revisions WHERE id = %s", (revision_id,))
    row = cur.fetchone()
    return row[0] if row else None


def _column_of(e: psycopg.Error) -> str:
    # Only names (column, constraint, the feature's number) from the diagnostics, never the server's message text.
    diag = e.diag
    copied = _COPY_AT.search(diag.context or "")
    if copied:
        return f"column {copied.group(2)}, feature {copied.group(1)}"
    what = diag.column_name or diag.constraint_name
    return f"column {what}" if what else f"SQLSTATE {e.sqlstate}"
