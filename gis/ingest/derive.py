"""Derived layers: 騒音/振動 規制地域 from 用途地域 through the rules in zone_rules (rules as data), and the 80 m
特定建設作業 1号区域 around the facilities that widen it."""

from __future__ import annotations

import importlib

import psycopg
from psycopg import sql

from gis.db.provenance import SourceInfo, bump_version, insert_source
from layers import LAYERS

DERIVED = {"noise": "noise_zones", "vibration": "vibration_zones"}


def derive_zones(cur: psycopg.Cursor, cities: list[str]) -> list[str]:
    """Rebuild noise and vibration zones of these cities from zoning; returns report lines."""
    report: list[str] = []
    for kind, table in DERIVED.items():
        cur.execute("SELECT count(*) FROM zone_rules WHERE kind = %s", (kind,))
        if cur.fetchone()[0] == 0:
            report.append(f"{table}: 対応規則が未登録のため導出しない")
            continue
        cur.execute("SELECT string_agg(DISTINCT legal_ref, '／') FROM zone_rules WHERE kind = %s", (kind,))
        refs = cur.fetchone()[0]
        for city in cities:
            report.append(_derive_city(cur, kind, table, city, refs))
        bump_version(cur, table)
    return report


def _derive_city(cur: psycopg.Cursor, kind: str, table: str, city: str, refs: str) -> str:
    """Rebuild one city's zones of one kind; the source is sample when the zoning it comes from is."""
    cur.execute("SELECT coalesce(bool_or(sample), false) FROM zoning WHERE city_code = %s", (city,))
    sample = cur.fetchone()[0]
    info = SourceInfo(
        title=f"{'騒音' if kind == 'noise' else '振動'}規制地域（用途地域から導出）",
        publisher="本サービス（用途地域と告示の対応表から導出）",
        licence="元データ（用途地域）の利用条件に従う",
        attribution=f"用途地域データから {refs} の対応表により導出。実際の区域は各市の告示による。",
        derived=True,
        sample=sample,
        note="導出データ: 市の現行告示による確認が必要（用途無指定地域は対象外）",
    )
    # Keep feature ids stable across re-derivations: a zone keeps the id it had for the same zoning row.
    cur.execute("DROP TABLE IF EXISTS pg_temp.old_ids")
    cur.execute(
        sql.SQL(
            "CREATE TEMP TABLE old_ids ON COMMIT DROP AS SELECT feature_key, id FROM {} WHERE city_code = %s"
        ).format(sql.Identifier(table)),
        (city,),
    )
    cur.execute(sql.SQL("DELETE FROM {} WHERE city_code = %s").format(sql.Identifier(table)), (city,))
    source_id = insert_source(cur, table, info, city_codes=[city])
    # A city's own rule wins over the prefecture-wide one; expired rules never apply.
    cur.execute(
        sql.SQL(
            """
            INSERT INTO {t} (id, city_code, source_id, sample, feature_key, zone_class, youto_name,
                             legal_ref, rule_id, verified, geom)
            SELECT DISTINCT ON (z.id) coalesce(o.id, nextval(pg_get_serial_sequence({tl}, 'id'))), z.city_code,
                   %(src)s, z.sample, 'zoning:' || z.id, r.zone_class, z.youto_name, r.legal_ref, r.id, r.verified,
                   z.geom
            FROM zoning z
            LEFT JOIN old_ids o ON o.feature_key = 'zoning:' || z.id
            JOIN zone_rules r ON r.kind = %(kind)s AND r.youto_name = z.youto_name
                 AND (r.city_code IS NULL OR r.city_code = z.city_code)
                 AND (r.valid_from IS NULL OR r.valid_from <= current_date)
                 AND (r.valid_to IS NULL OR r.valid_to > current_date)
            WHERE z.city_code = %(city)s AND r.zone_class IS NOT NULL
            ORDER BY z.id, r.city_code NULLS LAST
            """
        ).format(t=sql.Identifier(table), tl=sql.Literal(table)),
        {"src": source_id, "kind": kind, "city": city},
    )
    n = cur.rowcount
    cur.execute("UPDATE sources SET row_count = %s WHERE id = %s", (n, source_id))
    return f"{table}: {city} の用途地域から {n} 件を導出"


BUFFERS = "construction_1go_areas"
BUFFER_M = 80


def derive_from(cur: psycopg.Cursor, layer_id: str, cities: list[str]) -> list[str]:
    """Rebuild whatever is derived from this layer or hangs off its rows, for these cities; returns report lines."""
    lines: list[str] = []
    if layer_id == "zoning":
        lines = derive_zones(cur, cities)
    elif layer_id == "facilities":
        lines = derive_buffers(cur, cities)
    hook = LAYERS[layer_id].after_write if layer_id in LAYERS else None
    if hook and cities:
        module, _, name = hook.partition(":")
        lines = [*lines, *getattr(importlib.import_module(module), name)(cur, cities)]
    return lines


def derive_buffers(cur: psycopg.Cursor, cities: list[str]) -> list[str]:
    """The 80 m areas around the facilities flagged widens_1go (circles in metres, EPSG:6670), per city.

    Sample and real facilities get a source each, so a row's sample flag is always its source's.
    """
    report = []
    table = sql.Identifier(BUFFERS)
    for city in cities:
        # Keep ids stable across re-derivations: an area keeps the id it had for the same facility.
        cur.execute("DROP TABLE IF EXISTS pg_temp.old_buffer_ids")
        cur.execute(
            sql.SQL(
                "CREATE TEMP TABLE old_buffer_ids ON COMMIT DROP AS SELECT feature_key, id FROM {} WHERE city_code = %s"
            ).format(table),
            (city,),
        )
        cur.execute(sql.SQL("DELETE FROM {} WHERE city_code = %s").format(table), (city,))
        n = 0
        for sample in (False, True):
            cur.execute(
                "SELECT count(*) FROM facilities WHERE city_code = %s AND widens_1go AND sample = %s", (city, sample)
            )
            if not cur.fetchone()[0]:
                continue
            source_id = insert_source(cur, BUFFERS, _buffer_source(sample), city_codes=[city])
            cur.execute(
                sql.SQL(
                    """
                    INSERT INTO {t} (id, city_code, source_id, sample, feature_key, facility_name, facility_type,
                                     facility_id, radius_m, geom)
                    SELECT coalesce(o.id, nextval(pg_get_serial_sequence({tl}, 'id'))), f.city_code, %(src)s,
                           f.sample, 'facilities:' || f.id, f.name, f.facility_type, f.id, %(r)s,
                           ST_Multi(ST_Transform(ST_Buffer(f.geom_m, %(r)s, 32), 6668))
                    FROM facilities f
                    LEFT JOIN old_buffer_ids o ON o.feature_key = 'facilities:' || f.id
                    WHERE f.city_code = %(city)s AND f.widens_1go AND f.sample = %(sample)s
                    ORDER BY f.id
                    """
                ).format(t=table, tl=sql.Literal(BUFFERS)),
                {"src": source_id, "r": BUFFER_M, "city": city, "sample": sample},
            )
            rows = cur.rowcount
            cur.execute("UPDATE sources SET row_count = %s WHERE id = %s", (rows, source_id))
            n += rows
        report.append(f"{BUFFERS}: {city} の施設から {n} 件を導出")
    bump_version(cur, BUFFERS)
    return report


def _buffer_source(sample: bool) -> SourceInfo:
    return SourceInfo(
        title="特定建設作業の1号区域（施設の周囲 約80 m、導出）",
        publisher="本サービス（学校・病院等の位置から導出）",
        licence="元データ（学校・病院等）の利用条件に従う",
        attribution="学校・保育所・病院等の位置から半径80 mで導出。実際の範囲は施設の敷地境界から測る。",
        derived=True,
        sample=sample,
        note="導出データ: 施設の点からの円で、敷地境界からの80 mではない（市に確認すること）",
    )
