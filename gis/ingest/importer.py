"""`gis import`: a file → one layer, through a COPY-loaded staging table and a one-transaction swap."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS

from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.db.revisions import Kind, begin_revision
from gis.errors import ImportFailed
from gis.geo import STORAGE_SRID
from gis.ingest.checks import Scope, check_inside, check_replace, scope_sql
from gis.ingest.crsfit import connection_areas
from gis.ingest.derive import derive_from
from gis.ingest.mapping import map_columns
from gis.ingest.readers import read_source
from layers import LAYERS, get_layer
from layers.base import Layer

Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    """What an import did."""

    layer: str
    rows: int
    cities: list[str]
    source_id: int
    version: int
    report: list[str] = field(default_factory=list)
    replaced: int = 0
    outside: int = 0
    revision_id: int | None = None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_stage(cur: psycopg.Cursor, layer: Layer, frame: pd.DataFrame, progress: Progress | None) -> None:
    """COPY the mapped rows into a temporary staging table shaped like the layer table."""
    cols = [c.name for c in layer.public_columns] + ["city_code", "feature_key", "sample"]
    # Inside an outer transaction ON COMMIT DROP has not fired yet for an earlier load.
    cur.execute("DROP TABLE IF EXISTS pg_temp.stage, pg_temp.stage_private")
    cur.execute(
        sql.SQL("CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT id, {cols}, geom FROM {t} WITH NO DATA").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)), t=sql.Identifier(layer.id)
        )
    )
    cur.execute("ALTER TABLE stage ADD COLUMN _row int")
    geoms = shapely.set_srid(frame["geom"].to_numpy(), STORAGE_SRID)
    wkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
    ordered = frame[cols].astype(object).where(frame[cols].notna(), None)
    target = sql.SQL("COPY stage ({cols}, geom, _row) FROM STDIN").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    total = len(frame)
    with cur.copy(target) as copy:
        for i, row in enumerate(ordered.itertuples(index=False, name=None)):
            copy.write_row((*row, wkb[i], i))
            if progress and (i % 2000 == 0 or i == total - 1):
                progress(i + 1, total)


def _private_rows(layer: Layer, frame: pd.DataFrame) -> pd.DataFrame | None:
    """The non-public columns that carry data, to be stored in the private schema."""
    private = [c.name for c in layer.columns if not c.public]
    if not private or layer.private_table is None:
        return None
    part = frame[private]
    keep = part.notna().any(axis=1)
    if not keep.any():
        return None
    out = part[keep].copy()
    out["_row"] = out.index
    return out


def load_frame(
    conn: psycopg.Connection,
    layer: Layer,
    frame: pd.DataFrame,
    info: SourceInfo,
    *,
    replace: bool,
    force: bool = False,
    allow_outside: bool = False,
    source_crs: CRS | None = None,
    file: Path | None = None,
    report: list[str] | None = None,
    progress: Progress | None = None,
    scope: Scope | None = None,
    actor: str = "loader",
    kind: Kind = "load",
    request_id: str | None = None,
    actor_role: str | None = None,
    after_write: bool = True,
) -> ImportResult:
    """Load a mapped frame in one transaction: stage, check, (replace), insert, private rows, version, provenance.

    `source_crs` is the CRS the file's coordinates were read as (for the "wrong CRS" hint); `allow_outside`
    keeps features outside their city, `force` lets --replace drop most of a city's rows or move them; `scope`
    limits what --replace replaces to the rows of that part of the layer (every staged row must belong to it).
    The load is one revision of the layer (`kind` by `actor`, with the request id of an API upload). Derived
    layers and the layer's `after_write` hook run in the same transaction unless `after_write` is False (a caller
    that loads several files and rebuilds once at the end).
    """
    report = report if report is not None else []
    cities = sorted(set(frame["city_code"]))
    frame = frame.copy()
    frame["sample"] = frame["sample"] | info.sample
    if scope is not None and not frame[scope.column].isin(scope.values).all():
        raise ImportFailed(f"rows outside the import's scope ({scope.column} not in {list(scope.values)})")
    with conn.transaction(), conn.cursor() as cur:
        # One writer per layer at a time; readers keep seeing the old rows until commit.
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(layer.id)))
        # Derived layers are rebuilt by their rule, not recorded row by row.
        revision_id = None if layer.derived_from else begin_revision(cur, layer.id, kind, actor, actor_role, request_id)
        _copy_stage(cur, layer, frame, progress)
        geoms = frame["geom"].to_numpy()
        outside = check_inside(cur, layer.id, cities, geoms, source_crs, allow_outside=allow_outside, report=report)
        cur.execute(
            sql.SQL("UPDATE stage SET id = nextval(pg_get_serial_sequence({t}, 'id'))").format(t=sql.Literal(layer.id))
        )
        replaced = 0
        if replace:
            check_replace(cur, layer.id, cities, force=force, report=report, scope=scope)
            # Keep feature ids stable across re-imports of the same features.
            cur.execute(
                sql.SQL(
                    "UPDATE stage s SET id = o.id FROM {t} o WHERE s.feature_key IS NOT NULL "
                    "AND o.feature_key = s.feature_key AND o.city_code = s.city_code{scope}"
                ).format(t=sql.Identifier(layer.id), scope=scope_sql(scope, "o"))
            )
            if layer.private_table:
                cur.execute(
                    sql.SQL(
                        "DELETE FROM private.{p} WHERE {k} IN (SELECT id FROM {t} WHERE city_code = ANY(%s){scope})"
                    ).format(
                        p=sql.Identifier(layer.private_table),
                        k=sql.Identifier(layer.private_key),
                        t=sql.Identifier(layer.id),
                        scope=scope_sql(scope),
                    ),
                    (cities,),
                )
            cur.execute(
                sql.SQL("SELECT count(*) FROM {t} WHERE city_code = ANY(%s){scope}").format(
                    t=sql.Identifier(layer.id), scope=scope_sql(scope)
                ),
                (cities,),
            )
            replaced = cur.fetchone()[0]
            # Rows that keep their id are updated in place below, not deleted and inserted again: what hangs off a
            # feature by foreign key (a sensor's datastreams, state and history) stays with it.
            cur.execute(
                sql.SQL("DELETE FROM {t} WHERE city_code = ANY(%s){scope} AND id NOT IN (SELECT id FROM stage)").format(
                    t=sql.Identifier(layer.id), scope=scope_sql(scope)
                ),
                (cities,),
            )
        source_id = insert_source(
            cur,
            layer.id,
            info,
            file_name=file.name if file else None,
            file_sha256=_sha256(file) if file else None,
            city_codes=cities,
            row_count=len(frame),
            report=json.dumps(report, ensure_ascii=False),
        )
        cols = [c.name for c in layer.public_columns] + ["city_code", "feature_key", "sample"]
        ident = sql.SQL(", ").join(map(sql.Identifier, ["id", *cols, "geom"]))
        update = sql.SQL(", ").join(
            sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in [*cols, "geom", "source_id"]
        )
        cur.execute(
            sql.SQL(
                "INSERT INTO {t} ({c}, source_id) SELECT {c}, %s FROM stage ON CONFLICT (id) DO UPDATE SET {u}"
            ).format(t=sql.Identifier(layer.id), c=ident, u=update),
            (source_id,),
        )
        private = _private_rows(layer, frame)
        if private is not None:
            _store_private(cur, layer, private)
        version = bump_version(cur, layer.id)
        if after_write:
            report.extend(derive_from(cur, layer.id, cities))
    # Fresh statistics right away, so the planner uses the GiST index on the new rows.
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(layer.id)))
    if idle:
        conn.commit()
    return ImportResult(layer.id, len(frame), cities, source_id, version, report, replaced, outside, revision_id)


def _store_private(cur: psycopg.Cursor, layer: Layer, private: pd.DataFrame) -> None:
    """Write personal data to the private schema, keyed by the new row ids."""
    names = [c for c in private.columns if c != "_row"]
    cur.execute(
        sql.SQL("CREATE TEMP TABLE stage_private ({cols}, _row int) ON COMMIT DROP").format(
            cols=sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(n)) for n in names)
        )
    )
    rows = private.astype(object).where(private.notna(), None)
    with cur.copy(
        sql.SQL("COPY stage_private ({}, _row) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, names)))
    ) as copy:
        for row in rows[[*names, "_row"]].itertuples(index=False, name=None):
            copy.write_row(row)
    cur.execute(
        sql.SQL(
            "INSERT INTO private.{p} ({k}, {cols}, sample) SELECT s.id, {pcols}, s.sample "
            "FROM stage_private p JOIN stage s USING (_row)"
        ).format(
            p=sql.Identifier(layer.private_table),
            k=sql.Identifier(layer.private_key),
            cols=sql.SQL(", ").join(map(sql.Identifier, names)),
            pcols=sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(n)) for n in names),
        )
    )


def import_file(
    conn: psycopg.Connection,
    layer_id: str,
    path: Path,
    info: SourceInfo | None = None,
    *,
    crs: str | None = None,
    city: str | None = None,
    replace: bool = False,
    force: bool = False,
    allow_outside: bool = False,
    layer_name: str | None = None,
    progress: Progress | None = None,
    actor: str = "cli",
    kind: Kind = "import",
    request_id: str | None = None,
) -> ImportResult:
    """Read, map, validate and load one file; on any error nothing in the database changes."""
    if layer_id not in LAYERS:
        raise ImportFailed(f"unknown layer '{layer_id}': one of {', '.join(LAYERS)}")
    layer = get_layer(layer_id)
    if layer.derived_from:
        raise ImportFailed(f"layer {layer_id} is derived from {layer.derived_from}; import that layer instead")
    source = read_source(Path(path), crs=crs, layer_name=layer_name, areas=connection_areas(conn))
    mapped = map_columns(source.frame, layer, city, source.report)
    info = info or SourceInfo(title=Path(path).name)
    return load_frame(
        conn,
        layer,
        mapped,
        info,
        replace=replace,
        force=force,
        allow_outside=allow_outside,
        source_crs=source.crs,
        file=Path(path),
        report=source.report,
        progress=progress,
        actor=actor,
        kind=kind,
        request_id=request_id,
    )
