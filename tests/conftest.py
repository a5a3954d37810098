"""Fixtures: a real PostgreSQL+PostGIS cluster started from the system binaries for the test session."""

from __future__ import annotations

import itertools
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.embedded import EmbeddedPostgres
from gis.db.migrate import upgrade
from gis.ingest.loader import load_all
from gis.settings import REPO_ROOT, Settings

pytest_plugins = ["tests.conftest_browser"]
DATA = REPO_ROOT / "data"
TEMPLATE = "gis_loaded"
_counter = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """The session's cluster plus helpers to make databases from the loaded template."""

    def __init__(self, emb: EmbeddedPostgres) -> None:
        self.emb = emb

    def url(self, db: str) -> str:
        """URL of a database on this cluster, as the application user."""
        return f"postgresql://{self.emb.user}:{self.emb.password}@127.0.0.1:{self.emb.port}/{db}"

    def create(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally a copy of a template) and return its URL."""
        tpl = f" TEMPLATE {template}" if template else ""
        self.emb.psql("postgres", f"CREATE DATABASE {name} OWNER {self.emb.user}{tpl}")
        if not template:
            self.emb.psql(name, "CREATE EXTENSION IF NOT EXISTS postgis")
        return self.url(name)

    def drop(self, name: str) -> None:
        """Drop a database, closing its connections first."""
        self.emb.psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A private cluster in a temp dir; when run as root it runs as the unprivileged postgres user."""
    root = Path(tempfile.mkdtemp(prefix="gis-test-pg-"))
    root.chmod(0o755)
    emb = EmbeddedPostgres(root=root, preferred_port=_free_port())
    emb.start()
    try:
        # Every app and `gis` subprocess of the session logs public requests in as the cluster's public role.
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GIS_PUBLIC_PASSWORD", emb.public_password)
            yield Cluster(emb)
    finally:
        emb.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def loaded_template(cluster: Cluster) -> str:
    """A database migrated and loaded with every bundled file (`gis load`), used as a template."""
    url = cluster.create(TEMPLATE)
    upgrade(url)
    with psycopg.connect(url) as conn:
        load_all(conn, DATA, log=lambda _: None)
    return TEMPLATE


@pytest.fixture(scope="session")
def db_url(cluster: Cluster, loaded_template: str) -> str:
    """A loaded database shared by read-only tests."""
    return cluster.create("gis_shared", template=loaded_template)


@pytest.fixture
def scratch_url(cluster: Cluster, loaded_template: str) -> Iterator[str]:
    """A fresh copy of the loaded database for a test that writes."""
    name = f"gis_scratch_{next(_counter)}"
    url = cluster.create(name, template=loaded_template)
    yield url
    cluster.drop(name)


@pytest.fixture
def empty_url(cluster: Cluster) -> Iterator[str]:
    """A migrated database with no data."""
    name = f"gis_empty_{next(_counter)}"
    url = cluster.create(name)
    upgrade(url)
    yield url
    cluster.drop(name)


def make_client(url: str, tmp: Path) -> TestClient:
    """A TestClient for an app on this database (use it as a context manager so lifespan runs)."""
    return TestClient(create_app(Settings(database_url=url, var_dir=tmp)))


@pytest.fixture(scope="session")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API on the shared loaded database."""
    with make_client(db_url, tmp_path_factory.mktemp("var")) as c:
        yield c


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the shared loaded database."""
    with psycopg.connect(db_url) as c:
        yield c


@pytest.fixture(scope="session")
def live_url(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API served by a real uvicorn on a loopback port, for real clients (GDAL, OWSLib)."""
    import threading
    import time

    import uvicorn

    port = _free_port()
    app = create_app(Settings(database_url=db_url, var_dir=tmp_path_factory.mktemp("live")))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def reimport_fire_district(url: str, tmp: Path) -> None:
    """Replace Takeo's 防火/準防火 with one small 防火地域 (a re-import every cache must notice)."""
    import geopandas as gpd
    from shapely.geometry import box

    from gis.ingest.importer import import_file

    path = tmp / "fire.geojson"
    gpd.GeoDataFrame(
        {"fire_type": ["防火地域"], "city_code": ["41206"]}, geometry=[box(130.015, 33.19, 130.02, 33.195)], crs=6668
    ).to_file(path, driver="GeoJSON")
    with psycopg.connect(url) as conn:
        import_file(conn, "fire_districts", path, replace=True)


def get_when_changed(client: TestClient, path: str, etag: str, timeout: float = 5.0):  # noqa: ANN201
    """GET path until it no longer matches etag (the new version arrives by LISTEN/NOTIFY) or time runs out."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path, headers={"if-none-match": etag})
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)
