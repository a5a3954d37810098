"""The house's guarantees: the public role fails closed, one write path seen by every worker, the geocoder never
blocks a request, one parser per parameter."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.tokens import create_token
from gis.errors import ConfigurationError
from gis.settings import REPO_ROOT, Settings
from tests.conftest import Cluster, get_when_changed, make_client


def _settings(url: str, tmp: Path, **extra: object) -> Settings:
    return Settings(database_url=url, var_dir=tmp, **extra)


def _start(settings: Settings) -> None:
    with TestClient(create_app(settings)):
        pass


def test_refuses_to_start_without_the_public_role(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="role 'gis_nobody'.*does not exist, may not log in"):
        _start(_settings(db_url, tmp_path, public_role="gis_nobody"))


def test_refuses_to_start_with_a_wrong_public_password(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GIS_PUBLIC_PASSWORD"):
        _start(_settings(db_url, tmp_path, public_password="not-the-password-1234"))


@pytest.mark.parametrize(
    ("grant", "problem"),
    [
        ("GRANT USAGE ON SCHEMA private TO {r}; GRANT SELECT ON private.farmland_persons TO {r}", "private"),
        ("GRANT SELECT ON staff_tokens TO {r}", "can read staff_tokens"),
        ("GRANT SELECT ON sources TO {r}", "can read sources.file_name"),
        ("GRANT INSERT ON zoning TO {r}", "can write table zoning"),
        ("GRANT gis TO {r}", "member of the owner"),
        ("ALTER ROLE {r} SUPERUSER", "superuser"),
    ],
)
def test_refuses_to_start_with_an_over_privileged_public_role(
    cluster: Cluster, scratch_url: str, tmp_path: Path, grant: str, problem: str
) -> None:
    role, password = "gis_leaky", "leaky-password-1234"
    db = scratch_url.rsplit("/", 1)[1]
    cluster.emb.psql("postgres", f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        cluster.emb.psql(db, f"GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON zoning TO {role}; ")
        cluster.emb.psql(db, grant.format(r=role))
        with pytest.raises(ConfigurationError, match=problem):
            _start(_settings(scratch_url, tmp_path, public_role=role, public_password=password))
    finally:
        cluster.emb.psql(db, f"DROP OWNED BY {role}")
        cluster.emb.psql("postgres", f"DROP ROLE {role}")


def test_public_connections_log_in_as_the_public_role(client: TestClient) -> None:
    """Its own login, not SET ROLE on the owner's session: RESET ROLE gains nothing."""

    async def probe() -> tuple:
        rt = client.app.state.runtime
        async with rt.public_conn() as conn:
            await conn.execute("RESET ROLE")
            who = await conn.fetchrow("SELECT session_user, current_user")
            try:
                await conn.fetch("SELECT * FROM private.farmland_persons LIMIT 1")
                leaked = True
            except Exception:  # asyncpg.InsufficientPrivilegeError
                leaked = False
        return tuple(who), leaked

    who, leaked = client.portal.call(probe)
    assert who == ("gis_public", "gis_public") and not leaked


def test_new_tables_are_private_unless_a_migration_grants_them(cluster: Cluster, scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        conn.execute("CREATE TABLE surprise (secret text)")
        conn.execute("INSERT INTO surprise VALUES ('見本')")
        conn.commit()
    public = scratch_url.replace(
        f"{cluster.emb.user}:{cluster.emb.password}@", f"gis_public:{cluster.emb.public_password}@"
    )
    with psycopg.connect(public) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM surprise")


def test_settings_refuse_weak_passwords_and_an_unwritable_var(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL uses a default or weak password"):
        Settings(database_url="postgresql://gis:change-me@db:5432/gis", var_dir=tmp_path).check()
    with pytest.raises(ConfigurationError, match="GIS_PUBLIC_PASSWORD"):
        Settings(
            database_url="postgresql://gis:s3cret-long@db/gis", public_password="change-me", var_dir=tmp_path
        ).check()
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="not writable"):
        Settings(var_dir=blocker / "var").check()
    with pytest.raises(ValueError, match="GIS_PUBLIC_ROLE"):
        Settings(public_role="gis; DROP TABLE zoning")


def test_gis_serve_refuses_in_one_line(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "GIS_PUBLIC_ROLE": "gis_nobody", "GIS_VAR_DIR": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "gis", "serve", "--no-load", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to serve") and "gis_nobody" in lines[0]


def test_an_api_write_reaches_every_worker(scratch_url: str, tmp_path: Path) -> None:
    """PATCH a source in one worker (asyncpg, through gis_bump_version); another worker sees it at once."""
    with psycopg.connect(scratch_url) as conn:
        token = create_token(conn, "都市計画課", "editor")
        source_id = conn.execute("SELECT source_id FROM fire_districts LIMIT 1").fetchone()[0]
    with make_client(scratch_url, tmp_path / "a") as a, make_client(scratch_url, tmp_path / "b") as b:
        path = "/collections/fire_districts/items?limit=5"
        before = b.get(path)
        doc = b.get("/collections/fire_districts").json()
        assert "（職員が訂正）" not in doc["attribution"]
        r = a.patch(
            f"/admin/sources/{source_id}",
            json={"attribution": "出典：武雄市（職員が訂正）", "data_date": "2026-11-30"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["attribution"] == "出典：武雄市（職員が訂正）" and r.json()["layer_version"] > 0
        after = get_when_changed(b, path, before.headers["etag"])
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        doc = b.get("/collections/fire_districts").json()
        assert "（職員が訂正）" in doc["attribution"] and doc["dataDate"] == "2026-11-30"
        report = b.get("/lookup", params={"lat": 33.1955, "lon": 130.0195}).json()
        cited = [s["attribution"] for s in report["fire_district"]["sources"]]
        assert any("（職員が訂正）" in c for c in cited)
        bad = a.patch(
            f"/admin/sources/{source_id}", json={"file_name": "x"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert bad.status_code == 400 and set(bad.json()) == {"code", "description"}
        missing = a.patch("/admin/sources/999999", json={"note": "x"}, headers={"Authorization": f"Bearer {token}"})
        assert missing.status_code == 404
        anonymous = a.patch(f"/admin/sources/{source_id}", json={"note": "x"})
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")


def test_requests_never_wait_for_a_geocoder_rebuild(scratch_url: str, tmp_path: Path) -> None:
    with make_client(scratch_url, tmp_path) as c:
        service = c.app.state.runtime.geocoder
        old = service.current
        real_build = service._build

        async def slow_build():  # noqa: ANN202
            await asyncio.sleep(2)
            return await real_build()

        service._build = slow_build
        rebuilds = service.rebuilds
        with psycopg.connect(scratch_url) as conn:
            conn.execute("SELECT gis_bump_version('towns')")
        time.sleep(0.3)  # the NOTIFY arrives; the rebuild is under way
        t0 = time.perf_counter()
        r = c.get("/geocode", params={"q": "武雄市武雄町武雄5680"})
        assert r.status_code == 200 and time.perf_counter() - t0 < 1.0
        assert service.current is old  # still the old one, answering
        deadline = time.monotonic() + 15
        while service.rebuilds == rebuilds and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.rebuilds > rebuilds and service.current is not old


@pytest.mark.parametrize(
    "path",
    [
        "/collections/zoning/items?limit=5&limit=6",
        "/collections/zoning/items?youto_name=a&youto_name=b",
        "/?f=json&f=html",
        "/lookup?lat=33.19&lat=33.2&lon=130.0",
    ],
)
def test_repeated_parameters_are_refused(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400 and "more than once" in r.json()["description"]


def test_items_parameters_are_documented_once(client: TestClient) -> None:
    params = {
        p["name"] for p in client.get("/api").json()["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    }
    assert {"bbox", "bbox-crs", "limit", "offset", "filter", "filter-lang", "filter-crs", "crs", "datetime"} <= params
    assert {"f", "numberMatched", "properties", "sortby"} <= params


def test_the_write_path_is_the_same_sql_for_both_drivers(scratch_url: str) -> None:
    """Provenance and version bumps through asyncpg (API writes) and psycopg (imports) call the same functions."""
    import asyncpg

    from gis.db.provenance import SourceInfo, abump_version, ainsert_source, bump_version, insert_source

    info = SourceInfo(title="職員の訂正", publisher="武雄市", licence="CC BY 4.0", data_date=date(2026, 11, 30))

    async def through_asyncpg() -> tuple[int, int]:
        conn = await asyncpg.connect(scratch_url)
        try:
            async with conn.transaction():
                source = await ainsert_source(conn, "parks", info, city_codes=["41206"], row_count=3)
                return source, await abump_version(conn, "parks")
        finally:
            await conn.close()

    a_source, a_version = asyncio.run(through_asyncpg())
    with psycopg.connect(scratch_url) as conn, conn.cursor() as cur:
        p_source = insert_source(cur, "parks", info, city_codes=["41206"], row_count=3)
        p_version = bump_version(cur, "parks")
        conn.commit()
        rows = conn.execute(
            "SELECT title, publisher, licence, attribution, data_date, city_codes, row_count FROM sources "
            "WHERE id = ANY(%s) ORDER BY id",
            ([a_source, p_source],),
        ).fetchall()
        version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'parks'").fetchone()[0]
    assert rows[0] == rows[1] == ("職員の訂正", "武雄市", "CC BY 4.0", "職員の訂正", date(2026, 11, 30), ["41206"], 3)
    assert a_version < p_version == version
