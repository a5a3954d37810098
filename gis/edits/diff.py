"""What an import changes, by feature: added / changed (which fields) / removed, against the layer's current rows.

`snapshot` keeps the rows of the import's cities before the load, `compare` reads them again after it (in the same
transaction) and classifies every row that differs. Rows are matched by id: `load_frame` gives a re-imported
feature (same feature key and city) its old id, so matching by id after the load is matching by feature key exactly
as the import does it. Geometries compare by their exact binary form; values are shown as stored.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from layers.base import Layer

DIFF_LIMIT = 50
OPS = ("added", "changed", "removed")
GEOM = "geom"


def _row_sql(layer: Layer) -> sql.Composed:
    """SELECT id, feature_key, city_code, row (every stored value as jsonb, the geometry as a digest), position."""
    names = [c.name for c in layer.public_columns] + ["city_code", "feature_key", "sample"]
    pairs = [sql.SQL("{}, t.{}").format(sql.Literal(n), sql.Identifier(n)) for n in names]
    pairs.append(sql.SQL("{}, md5(ST_AsEWKB(t.geom))").format(sql.Literal(GEOM)))
    row = sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(pairs))
    private = [c.name for c in layer.columns if not c.public]
    if layer.private_table and layer.private_key and private:
        # Staff see personal fields only here (an admin endpoint); they are stored in the private schema.
        ppairs = [sql.SQL("{}, p.{}").format(sql.Literal(n), sql.Identifier(n)) for n in private]
        row = sql.SQL(
            "{row} || coalesce((SELECT jsonb_build_object({pp}) FROM private.{pt} p WHERE p.{pk} = t.id "
            "ORDER BY {order} LIMIT 1), {empty})"
        ).format(
            row=row,
            pp=sql.SQL(", ").join(ppairs),
            pt=sql.Identifier(layer.private_table),
            pk=sql.Identifier(layer.private_key),
            order=sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(n)) for n in private),
            empty=sql.SQL("jsonb_build_object({})").format(
                sql.SQL(", ").join(sql.SQL("{}, NULL::text").format(sql.Literal(n)) for n in private)
            ),
        )
    return sql.SQL(
        "SELECT t.id, t.feature_key, t.city_code, {row} AS row, "
        "(ST_AsGeoJSON(ST_PointOnSurface(t.geom), 7)::jsonb -> 'coordinates') AS pos FROM {t} t"
    ).format(row=row, t=sql.Identifier(layer.id))


def snapshot(cur: psycopg.Cursor, layer: Layer, cities: list[str]) -> None:
    """Keep the layer's rows of these cities as they are now (a temporary table dropped at the end of the
    transaction)."""
    cur.execute("DROP TABLE IF EXISTS pg_temp.diff_before, pg_temp.diff_rows")
    cur.execute(
        sql.SQL("CREATE TEMP TABLE diff_before ON COMMIT DROP AS {q} WHERE t.city_code = ANY(%s)").format(
            q=_row_sql(layer)
        ),
        (cities,),
    )
    cur.execute("CREATE UNIQUE INDEX ON diff_before (id)")


def compare(cur: psycopg.Cursor, layer: Layer, cities: list[str], limit: int = DIFF_LIMIT) -> dict[str, Any]:
    """The difference between the snapshot and the rows now: counts, changed-field counts, the first rows of each."""
    cur.execute(
        sql.SQL(
            "CREATE TEMP TABLE diff_rows ON COMMIT DROP AS "
            "SELECT CASE WHEN b.id IS NULL THEN 'added' WHEN a.id IS NULL THEN 'removed' ELSE 'changed' END AS op, "
            "coalesce(a.id, b.id) AS id, coalesce(a.feature_key, b.feature_key) AS key, "
            "coalesce(a.city_code, b.city_code) AS city_code, b.row AS before, a.row AS after, "
            "b.pos AS before_pos, a.pos AS after_pos, "
            "ARRAY(SELECT k FROM jsonb_object_keys(coalesce(a.row, '{{}}') || coalesce(b.row, '{{}}')) k "
            "WHERE (a.row -> k) IS DISTINCT FROM (b.row -> k) ORDER BY k) AS fields "
            "FROM ({q} WHERE t.city_code = ANY(%s)) a FULL JOIN diff_before b ON a.id = b.id "
            "WHERE a.row IS DISTINCT FROM b.row"
        ).format(q=_row_sql(layer)),
        (cities,),
    )
    cur.execute("SELECT op, count(*) FROM diff_rows GROUP BY op")
    counts = dict.fromkeys(OPS, 0) | dict(cur.fetchall())
    cur.execute(
        "SELECT f, count(*) FROM diff_rows, unnest(fields) f WHERE op = 'changed' GROUP BY f ORDER BY count(*) DESC, f"
    )
    fields = {f: n for f, n in cur.fetchall()}
    # Added rows whose feature key the layer already has: a non-replacing import would hold both.
    cur.execute(
        "SELECT count(*) FROM diff_rows d WHERE d.op = 'added' AND d.key IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM diff_before b WHERE b.feature_key = d.key AND b.city_code = d.city_code)"
    )
    duplicates = cur.fetchone()[0]
    rows: dict[str, list[dict[str, Any]]] = {}
    for op in OPS:
        cur.execute(
            "SELECT id, key, city_code, before, after, before_pos, after_pos, fields FROM diff_rows "
            "WHERE op = %s ORDER BY key NULLS LAST, id LIMIT %s",
            (op, limit),
        )
        rows[op] = [_entry(op, *r) for r in cur.fetchall()]
    return {
        "counts": counts,
        "changed_fields": fields,
        "duplicate_keys": duplicates,
        "limit": limit,
        **rows,
    }


def _entry(
    op: str,
    fid: int,
    key: str | None,
    city: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    before_pos: list[float] | None,
    after_pos: list[float] | None,
    fields: list[str],
) -> dict[str, Any]:
    """One row of the diff: the whole row when added or removed, the changed fields only when changed."""
    entry: dict[str, Any] = {"id": fid, "key": key, "city_code": city}
    if op == "added":
        entry["after"] = _shown(after, after_pos)
    elif op == "removed":
        entry["before"] = _shown(before, before_pos)
    else:
        entry["fields"] = fields
        entry["before"] = {f: _value(f, before, before_pos) for f in fields}
        entry["after"] = {f: _value(f, after, after_pos) for f in fields}
    return entry


def _value(field: str, row: dict[str, Any] | None, pos: list[float] | None) -> Any:
    # The geometry is compared by digest; people see where it is (a point's coordinates, else a point on it).
    if field == GEOM:
        return pos
    return (row or {}).get(field)


def _shown(row: dict[str, Any] | None, pos: list[float] | None) -> dict[str, Any]:
    out = {k: v for k, v in (row or {}).items() if k != GEOM}
    out[GEOM] = pos
    return out
