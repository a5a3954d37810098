"""The migrations and the layer declarations describe the same schema."""

from __future__ import annotations

import psycopg
from alembic import command

from gis.db.migrate import alembic_config, current
from layers import LAYERS


def test_migrations_match_declarations(empty_url: str) -> None:
    assert current(empty_url) is not None
    command.check(alembic_config(empty_url))  # raises when a declaration is not in a migration


def test_every_layer_table_has_the_common_columns_and_gist(empty_url: str) -> None:
    with psycopg.connect(empty_url) as conn:
        for layer_id in LAYERS:
            cols = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (layer_id,)
                ).fetchall()
            }
            assert {"id", "city_code", "source_id", "sample", "feature_key", "geom"} <= cols, layer_id
            srid = conn.execute("SELECT Find_SRID('public', %s, 'geom')", (layer_id,)).fetchone()[0]
            assert srid == 6668
            gist = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE '%%gist%%'", (layer_id,)
            ).fetchone()[0]
            assert gist == 1, layer_id


def test_upgrading_a_database_with_facilities_derives_the_1go_areas(cluster) -> None:  # type: ignore[no-untyped-def]
    """0010 on a database that already holds facilities derives their 80 m areas (no empty layer until an import)."""
    from gis.db.migrate import upgrade
    from gis.db.provenance import SourceInfo, insert_source

    url = cluster.create("gis_upgrade_0010")
    try:
        upgrade(url, "0009")
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            info = SourceInfo(title="t", publisher="p", licence="l", attribution="a")
            src = insert_source(cur, "facilities", info, city_codes=["41206"])
            cur.execute(
                "INSERT INTO facilities (city_code, source_id, name, facility_type, widens_1go, geom) VALUES "
                "('41206', %s, '病院A', '病院', true, ST_SetSRID(ST_Point(130.02, 33.19), 6668)), "
                "('41206', %s, '老健B', '介護老人保健施設', false, ST_SetSRID(ST_Point(130.03, 33.19), 6668))",
                (src, src),
            )
        upgrade(url)
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT facility_name, radius_m FROM construction_1go_areas").fetchall()
            assert rows == [("病院A", 80)]
            assert conn.execute("SELECT version FROM layer_state WHERE layer_id = 'construction_1go_areas'").fetchone()
    finally:
        cluster.drop("gis_upgrade_0010")
