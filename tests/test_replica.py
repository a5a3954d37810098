"""A real streaming replica: public reads served from it, imports on the primary, ETags never ahead of the rows."""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.main import create_app
from gis.db.embedded import EmbeddedPostgres
from gis.db.migrate import upgrade
from gis.db.replica import EmbeddedReplica
from gis.ingest.importer import import_file
from gis.settings import Settings
from tiles.service import tile_etag

LAYER = "fire_districts"
ITEMS = f"/collections/{LAYER}/items"
Z = 14


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


X, Y = _tile_of(130.02, 33.19, Z)
TILE = f"/tiles/{LAYER}/{Z}/{X}/{Y}.mvt"


class World:
    """A primary with a replica, and imports that record which version holds how many features."""

    def __init__(self, primary: EmbeddedPostgres, replica: EmbeddedReplica, tmp: Path) -> None:
        self.primary, self.replica, self.tmp = primary, replica, tmp
        self.features: dict[int, int] = {}  # layer version → feature count of that version

    def load(self, k: int) -> int:
        """Replace Takeo's fire districts with k small boxes inside TILE; return the new version."""
        w, s, e, n = _tile_bounds(Z, X, Y)
        step = (e - w) / 12
        boxes = [box(w + (i + 1) * step, s + (n - s) / 3, w + (i + 1.5) * step, s + (n - s) / 2) for i in range(k)]
        path = self.tmp / f"fire{k}.geojson"
        frame = {"fire_type": ["防火地域"] * k, "city_code": ["41206"] * k}
        gpd.GeoDataFrame(frame, geometry=boxes, crs=6668).to_file(path, driver="GeoJSON")
        with psycopg.connect(self.primary.url()) as conn:
            version = import_file(conn, LAYER, path, replace=True).version
        self.features[version] = k
        return version

    def replica_version(self) -> int:
        """The layer version the replica has replayed."""
        out = self.replica.psql("gis", f"SELECT version FROM layer_state WHERE layer_id = '{LAYER}'").strip()
        return int(out or 0)

    def wait_replayed(self, version: int, timeout: float = 30) -> None:
        """Wait until the replica shows this version."""
        deadline = time.monotonic() + timeout
        while self.replica_version() < version:
            assert time.monotonic() < deadline, f"replica never replayed version {version}"
            time.sleep(0.05)

    def app(self) -> TestClient:
        """An app writing to the primary, reading public data from the replica (as the public role)."""
        settings = Settings(
            database_url=self.primary.url(),
            database_read_url=self.replica.url(self.primary.user, self.primary.password),
            public_password=self.primary.public_password,
            var_dir=self.tmp / "var",
        )
        return TestClient(create_app(settings))

    def observe(self, client: TestClient) -> tuple[int, int]:
        """GET items and the tile once; assert each pairs its ETag's version with that version's rows (or newer).

        Returns the items (version, feature count). Newer rows under the older ETag can happen (replayed, not yet
        applied) and are harmless; an ETag ahead of its rows is the bug this guards against.
        """
        r = client.get(ITEMS)
        assert r.status_code == 200, r.text
        version = int(r.headers["etag"].strip('"').split("-", 1)[0])
        count = len(r.json()["features"])
        self._known(version)
        assert count >= self.features[version], f"ETag of version {version} served with {count} features"
        t = client.get(TILE)
        assert t.status_code == 200
        tile_version = self._tile_version(t.headers["etag"].strip('"').removesuffix("-gz"))
        tile_count = len(mapbox_vector_tile.decode(t.content)[LAYER]["features"])
        assert tile_count >= self.features[tile_version], f"tile of version {tile_version}: {tile_count} features"
        return version, count

    def _known(self, version: int) -> None:
        """A served version is one an import made (a concurrent import records it just after its commit)."""
        deadline = time.monotonic() + 10
        while version not in self.features:
            assert time.monotonic() < deadline, f"version {version} served, imports made {self.features}"
            time.sleep(0.01)

    def _tile_version(self, etag: str) -> int:
        """The version a tile ETag stands for (its digest covers the layer version)."""
        deadline = time.monotonic() + 10
        while True:
            for version in list(self.features):
                if tile_etag(LAYER, ((LAYER, version),), Z, X, Y) == etag:
                    return version
            assert time.monotonic() < deadline, f"tile ETag {etag} of no version made by an import"
            time.sleep(0.01)

    def hold(self, client: TestClient, version: int, seconds: float) -> None:
        """For a while, every answer is exactly this version with its rows."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.observe(client) == (version, self.features[version])

    def until(self, client: TestClient, version: int, timeout: float = 30) -> int:
        """Poll until this version is served; return how many answers it took."""
        deadline, n = time.monotonic() + timeout, 0
        while True:
            n += 1
            seen = self.observe(client)
            if seen == (version, self.features[version]):
                return n
            assert time.monotonic() < deadline, f"still {seen}, waiting for version {version}"


@pytest.fixture
def world() -> Iterator[World]:
    """A small dedicated primary (migrated, one fire district) and its streaming replica."""
    root = Path(tempfile.mkdtemp(prefix="gis-test-replica-"))
    root.chmod(0o755)
    primary = EmbeddedPostgres(root=root, preferred_port=_free_port())
    replica = EmbeddedReplica(primary, preferred_port=_free_port())
    try:
        primary.start()
        upgrade(primary.url())
        w = World(primary, replica, root)
        first = w.load(1)
        assert replica.start() is True
        w.wait_replayed(first)
        yield w
    finally:
        replica.destroy()
        primary.destroy()
        shutil.rmtree(root, ignore_errors=True)


def test_public_reads_follow_the_replica_without_etag_ahead_of_rows(world: World) -> None:
    w = world
    status = w.replica.status()
    assert status["running"] and status["hot_standby"] and status["streaming"] == "streaming"
    v1 = max(w.features)
    with w.app() as client:
        rt = client.app.state.runtime

        async def who() -> tuple[bool, str]:
            async with rt.public_conn() as conn:
                return await conn.fetchval("SELECT pg_is_in_recovery()"), await conn.fetchval("SELECT current_user")

        assert client.portal.call(who) == (True, "gis_public")  # public reads: the standby, as the public role
        assert w.observe(client) == (v1, 1)
        on_replica = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'gis_public'"
        assert int(w.replica.psql("postgres", on_replica)) > 0
        assert int(w.primary.psql("postgres", on_replica)) == 0

        # Replay paused: the primary commits and notifies, the API keeps the old version with the old rows.
        w.replica.psql("postgres", "SELECT pg_wal_replay_pause()")
        v2 = w.load(2)
        w.hold(client, v1, 1.5)
        w.replica.psql("postgres", "SELECT pg_wal_replay_resume()")
        w.until(client, v2)

        # Replay delayed while imports keep committing: poll throughout, the ETag is never ahead of its rows.
        w.replica.psql("postgres", "ALTER SYSTEM SET recovery_min_apply_delay = '400ms'; SELECT pg_reload_conf()")
        errors: list[BaseException] = []

        def loads() -> None:
            try:
                for k in (3, 4, 5):
                    w.load(k)
            except BaseException as e:  # surfaced below: a thread's exception would vanish
                errors.append(e)

        thread = threading.Thread(target=loads)
        thread.start()
        answers = 0
        while thread.is_alive():
            w.observe(client)
            answers += 1
        thread.join()
        assert not errors, errors
        v5 = max(w.features)
        assert w.features[v5] == 5 and answers > 10
        w.until(client, v5)
        w.replica.psql("postgres", "ALTER SYSTEM RESET recovery_min_apply_delay; SELECT pg_reload_conf()")

        # A worker that starts while the replica lags: the notification went out before it listened, yet it
        # moves to the primary's version as soon as the replica has replayed it.
        w.replica.psql("postgres", "SELECT pg_wal_replay_pause()")
        v6 = w.load(6)
        with w.app() as late:
            w.hold(late, v5, 1.0)
            w.replica.psql("postgres", "SELECT pg_wal_replay_resume()")
            w.until(late, v6)
        w.until(client, v6)

    assert w.replica.stop() is True
    assert w.replica.status()["running"] is False


def test_gis_db_replica_commands() -> None:
    root = Path(tempfile.mkdtemp(prefix="gis-test-replica-cli-"))
    root.chmod(0o755)
    env = {**os.environ, "GIS_VAR_DIR": str(root / "var"), "GIS_EMBEDDED_PORT": "0"}
    env.pop("DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gis", "db", *args], env=env, capture_output=True, text=True, timeout=180
        )

    try:
        r = run("replica", "start")
        assert r.returncode == 0, r.stderr
        url = r.stdout.strip()
        assert url.startswith("postgresql://gis_public:") and "@127.0.0.1:" in url
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT pg_is_in_recovery(), current_user").fetchone() == (True, "gis_public")
        status = run("replica", "status").stdout
        assert "running: True" in status and "hot_standby: True" in status and "streaming: streaming" in status
        assert "lag_bytes:" in status
    finally:
        assert run("replica", "stop", "--remove").returncode == 0
        assert run("stop").returncode == 0
        shutil.rmtree(root, ignore_errors=True)
    assert not (root / "var" / "pg-replica").exists()
