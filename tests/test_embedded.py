"""The embedded cluster and the `gis db` commands, run for real on a private data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from gis.settings import REPO_ROOT
from tests.conftest import Cluster


def test_cluster_runs_unprivileged_on_loopback(cluster: Cluster) -> None:
    with psycopg.connect(cluster.url("postgres")) as conn:
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
        assert listen == "127.0.0.1"
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'plpgsql'").fetchone()
    owner = Path(cluster.emb.data).stat().st_uid
    if os.geteuid() == 0:
        assert owner != 0  # PostgreSQL refuses root: the cluster belongs to the postgres user


def test_gis_db_commands(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    env = {**os.environ, "GIS_VAR_DIR": str(tmp_path / "var"), "GIS_EMBEDDED_PORT": "0"}
    env.pop("DATABASE_URL", None)
    gis = [sys.executable, "-m", "gis"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*gis, *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)

    try:
        r = run("db", "start")
        assert r.returncode == 0, r.stderr
        url = run("db", "url").stdout.strip()
        assert url.startswith("postgresql://gis:") and "@127.0.0.1:" in url
        with psycopg.connect(url) as conn:
            tables = {
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
            }
        assert {"zoning", "farmland", "sources", "layer_state", "staff_tokens"} <= tables
        assert "running: True" in run("db", "status").stdout
        r = run("import", "roads", str(REPO_ROOT / "data/parks/takeo_parks_plateau2022.geojson"))
        assert r.returncode == 2 and r.stderr.strip().startswith("error: unknown layer 'roads'")
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        assert run("db", "stop").returncode == 0
    assert "running: False" in run("db", "status").stdout
