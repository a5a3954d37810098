"""The audit: every row change of an import and an edit, with who, role, time and request id; staff only; never
editable, not even by the API's own database role; the public role and the public endpoints never see it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.db.revisions import begin_revision
from gis.db.tokens import create_token
from gis.ingest.importer import import_file
from tests.conftest import Cluster, make_client
from tests.test_history import _modified_points

HISTORY_TABLES = ("layer_revisions", "layer_revision_counts", "layer_row_changes", "private.layer_row_changes_private")
ROUTES = (
    ("GET", "/admin/audit"),
    ("GET", "/admin/layers/garbage_points/history"),
    ("POST", "/admin/layers/garbage_points/rollback"),
)


def _rows(conn: psycopg.Connection) -> dict[int, dict]:
    rows = conn.execute("SELECT id, to_jsonb(g) - 'geom_m' - 'source_id' FROM garbage_points g").fetchall()
    return dict(rows)


def _changes(client: TestClient, auth: dict, **params: object) -> list[dict]:
    r = client.get("/admin/audit", params={"limit": 1000, **params}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["changes"]


def test_every_row_change_of_an_import_and_an_edit_is_in_the_audit(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        before = _rows(conn)
        import_file(
            conn, "garbage_points", _modified_points(tmp_path), replace=True, force=True,
            actor="環境課 山田", request_id="req-import-7",
        )  # fmt: skip
        imported = _rows(conn)
        ids = sorted(imported)
        with conn.transaction(), conn.cursor() as cur:
            begin_revision(cur, "garbage_points", "edit", "環境課 佐藤", "editor", "req-edit-8")
            cur.execute("UPDATE garbage_points SET name = name || '（仮）' WHERE id = ANY(%s)", (ids[:2],))
            cur.execute("DELETE FROM garbage_points WHERE id = %s", (ids[2],))
            cur.execute(
                "INSERT INTO garbage_points (city_code, source_id, name, group_id, sample, geom) "
                "SELECT city_code, source_id, '（サンプル）追加', group_id, true, ST_Translate(geom, 0.001, 0) "
                "FROM garbage_points WHERE id = %s RETURNING id",
                (ids[3],),
            )
            new_id = cur.fetchone()[0]
        token = create_token(conn, "監査 担当", "editor")
    added = set(imported) - set(before)
    removed = set(before) - set(imported)
    changed = {i for i in set(before) & set(imported) if before[i] != imported[i]}
    assert added and removed and changed

    with make_client(scratch_url, tmp_path / "var") as client:
        auth = {"Authorization": f"Bearer {token}"}
        rows = _changes(client, auth, layer="garbage_points")
        imp = [r for r in rows if r["kind"] == "import"]
        assert {r["feature_id"] for r in imp if r["op"] == "insert"} == added
        assert {r["feature_id"] for r in imp if r["op"] == "delete"} == removed
        # Updates name only what changed; a re-imported row whose provenance alone changed is kept as such.
        content = {r["feature_id"] for r in imp if r["op"] == "update" and set(r["before"]) - {"source_id"}}
        assert content == changed
        assert all(r["actor"] == "環境課 山田" and r["request_id"] == "req-import-7" for r in imp)
        edit = [r for r in rows if r["kind"] == "edit"]
        assert sorted((r["feature_id"], r["op"]) for r in edit) == sorted(
            [(ids[0], "update"), (ids[1], "update"), (ids[2], "delete"), (new_id, "insert")]
        )
        for r in edit:
            assert (r["actor"], r["role"], r["request_id"], r["layer"]) == (
                "環境課 佐藤", "editor", "req-edit-8", "garbage_points",
            )  # fmt: skip
            assert r["time"].endswith("+09:00") and r["private"] is False
        renamed = next(r for r in edit if r["feature_id"] == ids[0])
        assert set(renamed["before"]) == set(renamed["after"]) == {"name"}
        assert renamed["after"]["name"] == renamed["before"]["name"] + "（仮）"
        deleted = next(r for r in edit if r["op"] == "delete")
        assert deleted["after"] is None and deleted["before"]["geom"].startswith("0101000020")  # hex EWKB

        # Filters.
        assert {r["op"] for r in _changes(client, auth, op="delete")} == {"delete"}
        assert {r["actor"] for r in _changes(client, auth, actor="環境課 佐藤")} == {"環境課 佐藤"}
        one = _changes(client, auth, layer="garbage_points", feature=ids[0])
        assert {r["feature_id"] for r in one} == {ids[0]} and {r["kind"] for r in one} >= {"edit"}
        assert _changes(client, auth, since="2999-01-01") == []
        assert _changes(client, auth, until="2000-01-01T00:00:00+09:00") == []
        assert len(_changes(client, auth, layer="garbage_points", limit=5)) == 5
        for params, name in (({"op": "upsert"}, "op"), ({"since": "yesterday"}, "since"), ({"limit": 0}, "limit")):
            bad = client.get("/admin/audit", params=params, headers=auth)
            assert bad.status_code == 400 and name in bad.json()["description"], bad.text
        assert client.get("/admin/audit", params={"layer": "nope"}, headers=auth).status_code == 404


def test_the_public_role_cannot_read_the_history(cluster: Cluster, db_url: str) -> None:
    public = db_url.replace(
        f"{cluster.emb.user}:{cluster.emb.password}@", f"{cluster.emb.public_role}:{cluster.emb.public_password}@"
    )
    with psycopg.connect(public, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == cluster.emb.public_role
        for table in HISTORY_TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM {table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT gis_begin_revision('parks', 'edit', 'x', NULL, NULL, NULL)")


def test_the_service_refuses_a_public_role_that_can_read_the_history(
    cluster: Cluster, scratch_url: str, tmp_path: Path
) -> None:
    from gis.errors import ConfigurationError

    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute(f"GRANT SELECT ON layer_row_changes TO {cluster.emb.public_role}")
    with pytest.raises(ConfigurationError, match="layer_row_changes"), make_client(scratch_url, tmp_path):
        pass


def test_no_public_answer_shows_the_history(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        fid = conn.execute("SELECT min(id) FROM cemeteries").fetchone()[0]
        with conn.transaction(), conn.cursor() as cur:
            begin_revision(cur, "cemeteries", "edit", "監査太郎", "editor", "req-secret-123")
            cur.execute("UPDATE cemeteries SET geom = ST_Translate(geom, 0.00001, 0) WHERE id = %s", (fid,))
            cur.execute(
                "INSERT INTO private.cemetery_managers (cemetery_id, manager_name) VALUES (%s, '秘密 花子') "
                "ON CONFLICT (cemetery_id) DO UPDATE SET manager_name = EXCLUDED.manager_name",
                (fid,),
            )
    secrets = ("監査太郎", "req-secret-123", "秘密 花子", "layer_row_changes", "layer_revisions")
    with make_client(scratch_url, tmp_path) as client:
        paths = [
            "/collections",
            "/collections/cemeteries",
            "/collections/cemeteries/items?limit=1000",
            f"/collections/cemeteries/items/{fid}",
            "/collections/cemeteries/items?f=csv&limit=1000",
            "/collections/cemeteries/download?f=geojson",
            "/lookup?lat=33.19&lon=130.02",
        ]
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            assert not any(s in r.text for s in secrets), path
        for method, path in ROUTES:
            r = client.request(method, path, json={"revision": 1})
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer"), path
            assert not any(s in r.text for s in secrets)
        # Every route that reaches the history is a staff route.
        for route in client.app.routes:
            path = getattr(route, "path", "")
            if any(w in path for w in ("audit", "history", "rollback", "revision")):
                assert path.startswith("/admin/"), path


def test_the_api_role_may_only_read_and_append_the_history(scratch_url: str, tmp_path: Path) -> None:
    # The API's staff connection logs in with the service's own role (DATABASE_URL), as this connection does.
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        for table in HISTORY_TABLES:
            rights = conn.execute(
                "SELECT has_table_privilege(current_user, %s, 'SELECT'), has_table_privilege(current_user, %s, "
                "'INSERT'), has_table_privilege(current_user, %s, 'UPDATE'), has_table_privilege(current_user, %s, "
                "'DELETE'), has_table_privilege(current_user, %s, 'TRUNCATE')",
                (table,) * 5,
            ).fetchone()
            assert rights == (True, True, False, False, False), table
            column = "revision_id" if table == "layer_revision_counts" else "id"
            for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
        # Even a role that got UPDATE back (or a superuser) meets the guard trigger.
        conn.execute("GRANT UPDATE, DELETE ON layer_revisions TO CURRENT_USER")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE layer_revisions SET actor = 'someone else'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM layer_revisions")
        token = create_token(conn, "総務課", "admin")
    with make_client(scratch_url, tmp_path) as client:
        auth = {"Authorization": f"Bearer {token}"}
        for method in ("PUT", "PATCH", "DELETE"):
            assert client.request(method, "/admin/audit", headers=auth).status_code == 405
            assert client.request(method, "/admin/layers/parks/history", headers=auth).status_code == 405


def test_role_matrix(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        tokens = {role: create_token(conn, f"{role} の人", role) for role in ("admin", "editor", "device")}
        version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'garbage_points'").fetchone()[0]
    with make_client(scratch_url, tmp_path) as client:
        for method, path in ROUTES:
            body = {"revision": 1}
            assert client.request(method, path, json=body).status_code == 401
            bad = client.request(method, path, json=body, headers={"Authorization": "Bearer gis_nope"})
            assert bad.status_code == 401
            device = client.request(method, path, json=body, headers={"Authorization": f"Bearer {tokens['device']}"})
            assert device.status_code == 403 and device.json()["code"] == "Forbidden"
            for role in ("editor", "admin"):
                auth = {"Authorization": f"Bearer {tokens[role]}", "If-Match": str(version)}
                r = client.request(method, path, json=body, headers=auth)
                # The rollback to revision 1 is the current revision of the bundled load: a 400, past the role check.
                assert r.status_code == (400 if method == "POST" else 200), (role, path, r.text)
