"""Revisions and rollback: every write is a revision, a rollback restores every row (public and private) exactly,
is itself a revision that can be rolled back, re-derives what depends on the layer, and refuses what it cannot do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from shapely.geometry import Point

from gis.db.revisions import begin_revision
from gis.db.tokens import create_token
from gis.edits.rollback import rollback
from gis.edits.tables import check_history, history_tables, install_sql
from gis.errors import ConfigurationError, Conflict, InvalidParameter, NotFound, PreconditionFailed
from gis.ingest.derive import derive_from
from gis.ingest.importer import import_file
from gis.settings import REPO_ROOT
from layers import LAYERS, get_layer
from tests.conftest import make_client

SAMPLE_POINTS = REPO_ROOT / "data" / "sample" / "garbage_points_sample.geojson"


def checksum(conn: psycopg.Connection, layer_id: str) -> str:
    """md5 of every row of the layer's table and its private table, in key order, as text (geometry included)."""
    parts = []
    for table, key, _ in history_tables(get_layer(layer_id)):
        parts.append(
            conn.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.{key}), '')) FROM {table} t"
            ).fetchone()[0]
        )
    return "/".join(parts)


def current(conn: psycopg.Connection, layer_id: str) -> int:
    return conn.execute(
        "SELECT coalesce(max(revision), 0) FROM layer_revisions WHERE layer_id = %s", (layer_id,)
    ).fetchone()[0]


def gis(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "gis", *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=180
    )


def test_history_tables_match_their_declarations(db_url: str) -> None:
    """gis/edits/tables.py and migration 0013 describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import gis.edits.tables as tables
    from gis.db.connect import engine_for

    names = {"layer_revisions", "layer_revision_counts", "layer_row_changes", "layer_row_changes_private"}

    def ours(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return (getattr(table, "name", name) or "") in names

    with engine_for(db_url).connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": ours, "compare_type": True, "include_schemas": True}
        )
        assert compare_metadata(ctx, tables.metadata) == []


def test_the_bundled_load_is_recorded_and_every_recorded_layer_has_its_trigger(conn: psycopg.Connection) -> None:
    check_history(conn)  # raises when a non-derived layer table or private table lacks a trigger
    loaded = dict(conn.execute("SELECT layer_id, count(*) FROM layer_revisions GROUP BY layer_id").fetchall())
    for layer in LAYERS.values():
        n = conn.execute(f'SELECT count(*) FROM "{layer.id}"').fetchone()[0]
        if layer.derived_from:
            assert layer.id not in loaded  # re-derived by its rule, not recorded row by row
        elif n:
            assert loaded.get(layer.id), layer.id
    # Every row the bundled load put into a recorded layer is in the log with its whole row.
    n = conn.execute("SELECT count(*) FROM garbage_points").fetchone()[0]
    logged = conn.execute(
        "SELECT count(*) FROM layer_row_changes WHERE table_name = 'garbage_points' AND op = 'insert' "
        "AND after ? 'geom' AND after ? 'name'"
    ).fetchone()[0]
    assert logged == n == 300


def _modified_points(tmp: Path) -> Path:
    """The bundled points with 3 removed, one renamed, one moved and one added: a realistic re-import."""
    gdf = gpd.read_file(SAMPLE_POINTS).iloc[3:].copy()
    first, second = gdf.index[0], gdf.index[1]
    gdf.loc[first, "name"] = str(gdf.loc[first, "name"]) + "（移設予定）"
    gdf.loc[second, "geometry"] = Point(gdf.loc[second, "geometry"].x + 0.0003, gdf.loc[second, "geometry"].y)
    extra = gdf.iloc[[5]].copy()
    extra["name"] = "（サンプル）新設 集積所"
    extra["point_code"] = "41205-9999"
    extra["geometry"] = [Point(extra.iloc[0].geometry.x + 0.0005, extra.iloc[0].geometry.y + 0.0005)]
    out = tmp / "points.geojson"
    gpd.GeoDataFrame(pd.concat([gdf, extra], ignore_index=True)).to_file(out, driver="GeoJSON")
    return out


def test_rollback_restores_an_import_and_an_edit_exactly_and_is_itself_a_revision(
    scratch_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        start = current(conn, "garbage_points")
        original = checksum(conn, "garbage_points")
        result = import_file(
            conn, "garbage_points", _modified_points(tmp_path), replace=True, force=True, actor="環境課 山田"
        )
        assert result.revision_id is not None
        with conn.transaction(), conn.cursor() as cur:
            begin_revision(cur, "garbage_points", "edit", "環境課 佐藤", "editor", "req-edit-1")
            first = "(SELECT min(id) FROM garbage_points)"
            cur.execute(f"UPDATE garbage_points SET geom = ST_Translate(geom, 0.0002, 0) WHERE id = {first}")
            cur.execute("DELETE FROM garbage_points WHERE id = (SELECT max(id) FROM garbage_points)")
            three = "(SELECT id FROM garbage_points ORDER BY id LIMIT 3)"
            cur.execute(f"UPDATE garbage_points SET accessibility = '段差あり' WHERE id IN {three}")
        edited = checksum(conn, "garbage_points")
        edited_revision = current(conn, "garbage_points")
        assert edited != original and edited_revision == start + 2
        token = create_token(conn, "総務課 管理者", "admin")

    with make_client(scratch_url, tmp_path / "var") as client:
        auth = {"Authorization": f"Bearer {token}"}
        h = client.get("/admin/layers/garbage_points/history", headers=auth)
        assert h.status_code == 200
        body = h.json()
        assert body["current_revision"] == edited_revision
        assert [r["kind"] for r in body["revisions"][:3]] == ["edit", "import", "load"]
        imp = body["revisions"][1]
        assert imp["actor"] == "環境課 山田" and (imp["rows_added"], imp["rows_removed"]) != (0, 0)
        r = client.post(
            "/admin/layers/garbage_points/rollback",
            json={"revision": start},
            headers={**auth, "If-Match": h.headers["etag"], "X-Request-Id": "req-rollback-1"},
        )
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["rolled_back_to"] == start and done["revision"] == edited_revision + 1
        assert done["request_id"] == "req-rollback-1" and done["actor"] == "総務課 管理者"
        assert r.headers["etag"] != h.headers["etag"]

    with psycopg.connect(scratch_url, autocommit=True) as conn:
        assert checksum(conn, "garbage_points") == original
        # Identity stays ahead of every id put back.
        top, last = conn.execute(
            "SELECT (SELECT max(id) FROM garbage_points), last_value FROM garbage_points_id_seq"
        ).fetchone()
        assert last >= top
        # The rollback is a revision: rolling it back restores the edited state, by the command line.
        out = gis(scratch_url, "rollback", "garbage_points", str(edited_revision))
        assert out.returncode == 0, out.stderr
        assert f"restored revision {edited_revision}" in out.stdout
        assert checksum(conn, "garbage_points") == edited
        listing = gis(scratch_url, "history", "garbage_points")
        assert listing.returncode == 0, listing.stderr
        assert "rollback" in listing.stdout and f"→ revision {start}" in listing.stdout
        kinds = conn.execute(
            "SELECT kind, rolled_back_to, actor FROM layer_revisions WHERE layer_id = 'garbage_points' "
            "ORDER BY revision DESC LIMIT 2"
        ).fetchall()
        assert kinds == [("rollback", edited_revision, "cli"), ("rollback", start, "総務課 管理者")]


def test_private_rows_are_restored_and_logged_in_the_private_schema(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        start = current(conn, "cemeteries")
        original = checksum(conn, "cemeteries")
        ids = [r[0] for r in conn.execute("SELECT id FROM cemeteries ORDER BY id LIMIT 3").fetchall()]
        with conn.transaction(), conn.cursor() as cur:
            begin_revision(cur, "cemeteries", "edit", "環境課 佐藤", "editor", "req-private")
            cur.execute("DELETE FROM private.cemetery_managers WHERE cemetery_id = %s", (ids[0],))
            cur.execute(
                "INSERT INTO private.cemetery_managers (cemetery_id, manager_name, manager_address) "
                "VALUES (%s, '試験 太郎', '武雄市試験町1') ON CONFLICT (cemetery_id) DO UPDATE "
                "SET manager_name = EXCLUDED.manager_name, manager_address = EXCLUDED.manager_address",
                (ids[1],),
            )
            cur.execute("UPDATE cemeteries SET geom = ST_Translate(geom, 0.0001, 0.0001) WHERE id = %s", (ids[2],))
        assert checksum(conn, "cemeteries") != original
        public_log = conn.execute(
            "SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), '') FROM layer_row_changes"
        ).fetchone()[0]
        assert "試験 太郎" not in public_log
        private_log = conn.execute(
            "SELECT count(*) FROM private.layer_row_changes_private WHERE after ->> 'manager_name' = '試験 太郎'"
        ).fetchone()[0]
        assert private_log == 1
        r = rollback(conn, "cemeteries", start, actor="test")
        assert r.revision == start + 2
        assert checksum(conn, "cemeteries") == original


def test_rolling_back_zoning_re_derives_the_noise_zones(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        start = current(conn, "zoning")
        zoning = checksum(conn, "zoning")
        zones = "SELECT feature_key, zone_class, ST_AsEWKB(geom) FROM noise_zones ORDER BY feature_key"
        noise = conn.execute(zones).fetchall()
        victim, city = conn.execute(
            "SELECT z.id, z.city_code FROM zoning z JOIN noise_zones n ON n.feature_key = 'zoning:' || z.id LIMIT 1"
        ).fetchone()
        with conn.transaction(), conn.cursor() as cur:
            begin_revision(cur, "zoning", "edit", "都市計画課", "editor", None)
            cur.execute("DELETE FROM zoning WHERE id = %s", (victim,))
            derive_from(cur, "zoning", [city])
        assert conn.execute(zones).fetchall() != noise
        rollback(conn, "zoning", start)
        assert checksum(conn, "zoning") == zoning
        assert conn.execute(zones).fetchall() == noise


def test_rollback_refusals(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        start = current(conn, "garbage_points")
        with pytest.raises(InvalidParameter, match="already"):
            rollback(conn, "garbage_points", start)
        with pytest.raises(NotFound, match="no revision 99"):
            rollback(conn, "garbage_points", 99)
        with pytest.raises(NotFound):
            rollback(conn, "no_such_layer", 1)
        with pytest.raises(Conflict, match="derived"):
            rollback(conn, "noise_zones", 1)
        with conn.transaction(), conn.cursor() as cur:
            begin_revision(cur, "garbage_points", "edit", "環境課 佐藤", "editor", None)
            cur.execute("DELETE FROM garbage_points WHERE id = (SELECT min(id) FROM garbage_points)")
        version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'garbage_points'").fetchone()[0]
        with pytest.raises(PreconditionFailed):
            rollback(conn, "garbage_points", start, if_version=version - 1)
        token = create_token(conn, "環境課 佐藤", "editor")
    with make_client(scratch_url, tmp_path / "var") as client:
        auth = {"Authorization": f"Bearer {token}"}
        url = "/admin/layers/garbage_points/rollback"
        assert client.post(url, json={"revision": start}, headers=auth).status_code == 428
        stale = client.post(url, json={"revision": start}, headers={**auth, "If-Match": f'"{version - 1}-abc"'})
        assert stale.status_code == 412 and stale.json()["code"] == "PreconditionFailed"
        bad = client.post(url, json={"revision": "x"}, headers={**auth, "If-Match": str(version)})
        assert bad.status_code == 400
        now = client.post(url, json={"revision": start + 1}, headers={**auth, "If-Match": str(version)})
        assert now.status_code == 400 and "already" in now.json()["description"]
        gone = client.post(url, json={"revision": 99}, headers={**auth, "If-Match": str(version)})
        assert gone.status_code == 404
        derived = client.post(
            "/admin/layers/noise_zones/rollback", json={"revision": 1}, headers={**auth, "If-Match": "1"}
        )
        assert derived.status_code == 409
    # A later schema change the recorded rows no longer fit: refused, nothing changed.
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE garbage_points DROP COLUMN accessibility")
        before = checksum(conn, "garbage_points")
        with pytest.raises(Conflict, match="accessibility"):
            rollback(conn, "garbage_points", start)
        assert checksum(conn, "garbage_points") == before
        assert current(conn, "garbage_points") == start + 1


def test_no_op_updates_are_skipped_and_provenance_only_changes_are_kept_small(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        start = current(conn, "parks")
        conn.execute("UPDATE parks SET name = name")
        assert current(conn, "parks") == start  # nothing changed: no revision at all
        other = conn.execute("SELECT max(id) FROM sources").fetchone()[0]
        original = checksum(conn, "parks")
        conn.execute("UPDATE parks SET source_id = %s WHERE id = (SELECT min(id) FROM parks)", (other,))
        assert current(conn, "parks") == start + 1  # a write without a revision gets an automatic one
        kind, actor, note = conn.execute(
            "SELECT kind, actor, note FROM layer_revisions WHERE layer_id = 'parks' ORDER BY revision DESC LIMIT 1"
        ).fetchone()
        assert (kind, actor) == ("load", "gis") and note.startswith("automatic")
        before, after = conn.execute(
            "SELECT before, after FROM layer_row_changes WHERE table_name = 'parks' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert set(before) == set(after) == {"source_id"}
        rollback(conn, "parks", start)
        assert checksum(conn, "parks") == original


def test_start_up_and_upgrade_refuse_a_layer_without_its_history(scratch_url: str, tmp_path: Path) -> None:
    from gis.db.migrate import upgrade

    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER gis_history_upd ON garbage_points")
        with pytest.raises(ConfigurationError, match="garbage_points"):
            check_history(conn)
        with pytest.raises(ConfigurationError, match="install_history"):
            upgrade(scratch_url)
        with pytest.raises(ConfigurationError, match="garbage_points"), make_client(scratch_url, tmp_path):
            pass
        for stmt in install_sql(get_layer("garbage_points")):
            conn.execute(stmt)
        check_history(conn)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="history"):
            conn.execute("TRUNCATE garbage_points CASCADE")
