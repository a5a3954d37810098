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
