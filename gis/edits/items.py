"""Staff edits of one feature (OGC API Features Part 4): create, replace, update, delete, one transaction each.

Each change runs in one transaction on its own connection (psycopg: the import's checks and derivations are
reused as they are): lock the layer as an import does, compare the client's If-Match with the item's ETag at the
version under the lock (412 when stale), open an `edit` revision (the history triggers record the rows), write the
row and its private row, bump the layer's version and re-derive what follows from the layer (zoning → noise and
vibration zones, facilities → the 1号区域). The answer carries the new row as the public GET shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.cities import CITIES
from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.db.revisions import Actor, begin_revision
from gis.edits.validate import EditBody, check_inside_city, check_references, city_of, stored_geometry
from gis.errors import Conflict, DatabaseUnavailable, ImportFailed, InvalidParameter, NotFound, PreconditionFailed
from gis.ingest.derive import derive_from
from gis.ogc.crs import CRS84, SUPPORTED
from gis.ogc.items import feature_sql
from layers import LAYERS
from layers.base import Layer

JST = ZoneInfo("Asia/Tokyo")
LOCK_TIMEOUT = "5s"  # an import holding the layer longer answers 409 (try again), not a hung request
STATEMENT_TIMEOUT = "60s"
Accept = Callable[[int], bool]  # does the client's If-Match name the item's ETag at this layer version?


@dataclass
class EditResult:
    """What a change did: the feature id, the layer's new version and the row as published (None once deleted)."""

    fid: int
    version: int
    feature: str | None
    notes: list[str] = field(default_factory=list)


def derived_layers(layer: Layer) -> list[str]:
    """The layers derived from this one."""
    return [lyr.id for lyr in LAYERS.values() if lyr.derived_from == layer.id]


def refuse_derived(layer: Layer) -> None:
    """409 for a layer that is rebuilt from another by a rule."""
    if layer.derived_from:
        raise Conflict(
            f"{layer.id} is derived from {layer.derived_from} by a rule and cannot be edited: "
            f"edit {layer.derived_from} instead; {layer.id} follows it"
        )


@contextmanager
def _transaction(url: str, layer: Layer) -> Iterator[psycopg.Cursor]:
    """A cursor in a transaction holding the layer's write lock (as an import takes it); database errors mapped."""
    try:
        conn = psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable("the database is not reachable") from e
    try:
        with conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cur.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
            cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(layer.id)))
            yield cur
    except psycopg.errors.LockNotAvailable as e:
        raise Conflict(f"{layer.id} is being changed by another write (an import?); try again shortly") from e
    except psycopg.errors.ForeignKeyViolation as e:
        raise Conflict(f"{layer.id}: other rows ({e.diag.table_name}) refer to this feature") from e
    except psycopg.errors.NotNullViolation as e:
        raise InvalidParameter(f"properties.{e.diag.column_name}: required by {layer.id}") from e
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as e:
        what = e.diag.column_name or e.diag.constraint_name
        column = f" ({what})" if what else ""
        raise InvalidParameter(f"properties: a value does not fit the columns of {layer.id}{column}") from e
    except psycopg.errors.TransactionRollback as e:  # a deadlock with another writer: nothing was saved
        raise Conflict(f"{layer.id} was being changed at the same moment; try again") from e
    except psycopg.errors.QueryCanceled as e:
        raise DatabaseUnavailable(f"the change took longer than {STATEMENT_TIMEOUT}; nothing was saved") from e
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable("the database connection was lost during the change; nothing was saved") from e


def _version(cur: psycopg.Cursor, layer: Layer) -> int:
    """The layer's version, its row locked until commit (under the table lock: no write can slip in between)."""
    row = cur.execute("SELECT version FROM layer_state WHERE layer_id = %s FOR UPDATE", (layer.id,)).fetchone()
    return row[0] if row else 0


def _existing(cur: psycopg.Cursor, layer: Layer, fid: int, accept: Accept) -> dict:
    """The row being changed (404 when absent), after the If-Match check (412 when the client's copy is stale)."""
    version = _version(cur, layer)
    public = [c.name for c in layer.public_columns]
    row = cur.execute(
        sql.SQL("SELECT city_code, sample, source_id{c} FROM {t} WHERE id = %s").format(
            c=sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(n)) for n in public), t=sql.Identifier(layer.id)
        ),
        (fid,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no feature '{fid}' in {layer.id}")
    if not accept(version):
        raise PreconditionFailed(
            f"{layer.id}/{fid} changed since that ETag was sent (the layer is now at version {version}): "
            "GET the feature again and repeat the change"
        )
    values = dict(zip(public, row[3:], strict=True))
    private = [c.name for c in layer.columns if not c.public]
    if private and layer.private_table and layer.private_key:
        found = cur.execute(
            sql.SQL("SELECT {c} FROM {t} WHERE {k} = %s").format(
                c=sql.SQL(", ").join(map(sql.Identifier, private)),
                t=sql.Identifier("private", layer.private_table),
                k=sql.Identifier(layer.private_key),
            ),
            (fid,),
        ).fetchone()
        values.update(dict(zip(private, found or [None] * len(private), strict=True)))
    return {"city_code": row[0], "sample": row[1], "source_id": row[2], "values": values}


def _plain(value: object) -> object:
    """A value out of a pandas frame as plain Python (NA → None, numpy scalars → int/float/bool)."""
    if isinstance(value, (list, dict)):
        return value
    if value is None or pd.isna(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def normalize(layer: Layer, values: dict, city: str, given: set[str], notes: list[str]) -> dict:
    """The import's cleaning of the layer (layer.clean: spellings, derived codes, personal names moved to private
    columns) on the row as it will be; a value the client did not change is never blanked by it (farmland's ledger
    summaries, which an import clears and the ledger refresh fills, stay)."""
    if layer.clean is None:
        return values
    report: list[str] = []
    try:
        row = layer.clean(pd.DataFrame([{**values, "city_code": city}], dtype=object), report).iloc[0]
    except (ImportFailed, KeyError, ValueError, TypeError) as e:
        raise InvalidParameter(f"properties: the values do not pass the {layer.id} import rules") from e
    notes.extend(report)
    out = {}
    for c in layer.columns:
        value = _plain(row.get(c.name))
        out[c.name] = values.get(c.name) if value is None and c.name not in given else value
    return out


def _edit_source(cur: psycopg.Cursor, layer: Layer, city: str, sample: bool, based_on: int | None) -> int:
    """The provenance of edited rows: one source per layer, city and JST day, licence as the row's source had it."""
    base = cur.execute(
        "SELECT licence, licence_url, attribution FROM sources WHERE id = %s "
        "UNION ALL (SELECT licence, licence_url, attribution FROM sources WHERE layer_id = %s AND %s = ANY(city_codes) "
        "AND NOT derived ORDER BY id DESC LIMIT 1) LIMIT 1",
        (based_on, layer.id, city),
    ).fetchone() or ("要確認", None, "")
    licence, licence_url, attribution = base
    today = datetime.now(JST).date()
    title = f"{layer.title}（職員による編集）"
    attribution = attribution or title
    found = cur.execute(
        "SELECT id FROM sources WHERE layer_id = %s AND origin = 'edit' AND data_date = %s AND city_codes = %s "
        "AND sample = %s AND licence = %s AND licence_url IS NOT DISTINCT FROM %s AND attribution = %s "
        "ORDER BY id DESC LIMIT 1",
        (layer.id, today, [city], sample, licence, licence_url, attribution),
    ).fetchone()
    if found:
        return found[0]
    info = SourceInfo(
        title=title,
        publisher=f"{CITIES[city].name if city in CITIES else city}（職員による編集）",
        licence=licence,
        licence_url=licence_url,
        attribution=attribution,
        data_date=today,
        origin="edit",
        sample=sample,
        note="職員が本サービスの編集機能（OGC API Features Part 4）で作成・更新した地物。"
        "変更の履歴は職員用の監査記録にある。",
    )
    return insert_source(cur, layer.id, info, city_codes=[city])


def _db_value(layer: Layer, name: str, value: object) -> object:
    return Jsonb(value) if value is not None and layer.column(name).type == "json" else value


def _write_private(cur: psycopg.Cursor, layer: Layer, fid: int, values: dict, sample: bool, replace: bool) -> None:
    """Private columns go to the layer's private table (never the layer table); a replace empties what it omits."""
    if not layer.private_table or not layer.private_key:
        return
    table, key = sql.Identifier("private", layer.private_table), sql.Identifier(layer.private_key)
    if replace and all(v is None for v in values.values()):
        cur.execute(sql.SQL("DELETE FROM {} WHERE {} = %s").format(table, key), (fid,))
        return
    if not values:
        return
    names = list(values)
    cur.execute(
        sql.SQL("INSERT INTO {t} ({k}, {c}, sample) VALUES (%s, {v}, %s) ON CONFLICT ({k}) DO UPDATE SET {u}").format(
            t=table,
            k=key,
            c=sql.SQL(", ").join(map(sql.Identifier, names)),
            v=sql.SQL(", ").join(sql.Placeholder() * len(names)),
            u=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(n)) for n in [*names, "sample"]),
        ),
        (fid, *[_db_value(layer, n, values[n]) for n in names], sample),
    )


def _feature(cur: psycopg.Cursor, layer: Layer, fid: int) -> str:
    """The row as the public GET builds it (public columns only), in CRS84."""
    text = f"SELECT {feature_sql(layer, SUPPORTED[CRS84])} FROM {layer.relation()} t WHERE t.id = %s"
    return cur.execute(_escape(text), (fid,)).fetchone()[0]


def _escape(text: str) -> str:
    """Literal % of the generated SQL doubled for psycopg; the final placeholder kept."""
    return text.replace("%", "%%").removesuffix("%%s") + "%s"


def _finish(
    cur: psycopg.Cursor, layer: Layer, fid: int | None, cities: set[str], deleted: bool
) -> tuple[int, str | None]:
    version = bump_version(cur, layer.id)
    derive_from(cur, layer.id, sorted(cities))
    return version, None if deleted or fid is None else _feature(cur, layer, fid)


def _geometry(
    cur: psycopg.Cursor, layer: Layer, body: EditBody, given_city: str | None, srid: int, notes: list[str]
) -> tuple[bytes, str]:
    assert body.geometry is not None
    ewkb = stored_geometry(cur, layer, body.geometry, notes)
    city = city_of(cur, layer, ewkb, given_city)
    check_inside_city(cur, layer, city, ewkb, body.geometry, srid)
    return ewkb, city


def _values(layer: Layer, values: dict) -> tuple[dict, dict]:
    """(public, private) column values."""
    public = {c.name: values.get(c.name) for c in layer.public_columns}
    return public, {c.name: values.get(c.name) for c in layer.columns if not c.public}


def create_item(url: str, layer: Layer, body: EditBody, actor: Actor, srid: int) -> EditResult:
    """POST: insert one feature; returns its new id."""
    refuse_derived(layer)
    notes: list[str] = []
    with _transaction(url, layer) as cur:
        ewkb, city = _geometry(cur, layer, body, body.city_code, srid, notes)
        given = {**body.public, **body.private}
        public, private = _values(layer, normalize(layer, given, city, set(given), notes))
        check_references(cur, layer, city, public)
        sample = bool(body.sample)
        begin_revision(cur, layer.id, "edit", actor.name, actor.role, actor.request_id, "; ".join(notes) or None)
        source = _edit_source(cur, layer, city, sample, None)
        names = list(public)
        fid = cur.execute(
            sql.SQL(
                "INSERT INTO {t} (city_code, source_id, sample, {c}geom) VALUES (%s, %s, %s, {v}ST_GeomFromEWKB(%s)) "
                "RETURNING id"
            ).format(
                t=sql.Identifier(layer.id),
                c=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(n)) for n in names),
                v=sql.SQL("").join(sql.SQL("%s, ") for _ in names),
            ),
            (city, source, sample, *[_db_value(layer, n, public[n]) for n in names], ewkb),
        ).fetchone()[0]
        _write_private(cur, layer, fid, {k: v for k, v in private.items() if v is not None}, sample, False)
        version, feature = _finish(cur, layer, fid, {city}, False)
    return EditResult(fid, version, feature, notes)


def change_item(
    url: str, layer: Layer, fid: int, body: EditBody, actor: Actor, srid: int, accept: Accept
) -> EditResult:
    """PUT (a whole body: every column set, omitted ones emptied) or PATCH (a merge patch: only what it names)."""
    refuse_derived(layer)
    notes: list[str] = []
    with _transaction(url, layer) as cur:
        old = _existing(cur, layer, fid, accept)
        city = old["city_code"]
        if body.geometry is not None:
            ewkb, city = _geometry(cur, layer, body, body.city_code, srid, notes)
        else:
            ewkb = None
            if body.city_code is not None and body.city_code != city:
                raise InvalidParameter(
                    f"properties.city_code: the feature lies in {CITIES[city].name if city in CITIES else city} "
                    f"({city}); move its geometry to change its city"
                )
        given = {**body.public, **body.private}
        touched = {k for k, v in given.items() if old["values"].get(k) != v}  # a PUT sends back what it read
        public, private = _values(layer, normalize(layer, {**old["values"], **given}, city, touched, notes))
        check_references(cur, layer, city, public)
        sample = old["sample"] if body.sample is None else body.sample
        begin_revision(cur, layer.id, "edit", actor.name, actor.role, actor.request_id, "; ".join(notes) or None)
        source = _edit_source(cur, layer, city, sample, old["source_id"])
        sets = [sql.SQL("city_code = %s"), sql.SQL("source_id = %s"), sql.SQL("sample = %s")]
        params: list[object] = [city, source, sample]
        for name, value in public.items():
            sets.append(sql.SQL("{} = %s").format(sql.Identifier(name)))
            params.append(_db_value(layer, name, value))
        if ewkb is not None:
            sets.append(sql.SQL("geom = ST_GeomFromEWKB(%s)"))
            params.append(ewkb)
        cur.execute(
            sql.SQL("UPDATE {t} SET {s} WHERE id = %s").format(t=sql.Identifier(layer.id), s=sql.SQL(", ").join(sets)),
            (*params, fid),
        )
        _write_private(cur, layer, fid, private, sample, True)
        version, feature = _finish(cur, layer, fid, {old["city_code"], city}, False)
    return EditResult(fid, version, feature, notes)


def _blockers(cur: psycopg.Cursor, layer: Layer, fid: int) -> list[str]:
    """Rows of other tables that refer to this feature by foreign key, as 'table (n rows)'."""
    refs = cur.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = %s::regclass AND cardinality(c.conkey) = 1 ORDER BY 1",
        (layer.id,),
    ).fetchall()
    out = []
    for table, column in refs:
        n = cur.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(sql.SQL(table), sql.Identifier(column)), (fid,)
        ).fetchone()[0]
        if n:
            out.append(f"{table} ({n} row{'s' if n != 1 else ''})")
    return out


def delete_item(url: str, layer: Layer, fid: int, actor: Actor, accept: Accept) -> EditResult:
    """DELETE: remove the feature and its private row; 409 naming what still refers to it."""
    refuse_derived(layer)
    with _transaction(url, layer) as cur:
        old = _existing(cur, layer, fid, accept)
        blockers = _blockers(cur, layer, fid)
        if blockers:
            raise Conflict(
                f"{layer.id}/{fid} cannot be deleted: {', '.join(blockers)} refer to it; remove or move those first"
            )
        begin_revision(cur, layer.id, "edit", actor.name, actor.role, actor.request_id, None)
        if layer.private_table and layer.private_key:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                    sql.Identifier("private", layer.private_table), sql.Identifier(layer.private_key)
                ),
                (fid,),
            )
        cur.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(layer.id)), (fid,))
        version, _ = _finish(cur, layer, None, {old["city_code"]}, True)
    return EditResult(fid, version, None)
