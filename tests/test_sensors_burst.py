"""Sensor ingest under a concurrent burst stores every unique reading exactly once: with duplicates and resent
batches, and across a PostgreSQL restart in the middle of the burst with the clients retrying. The same code as
bench/sensors_burst.py (500 sensors × 20 readings, results in bench/results-sensors-burst.md), at a smaller scale."""

from __future__ import annotations

import contextlib
import itertools
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench import sensors as api_bench
from bench.sensors_burst import Restart, batches, burst, readings, streams, verify
from gis.db.embedded import EmbeddedPostgres
from gis.db.tokens import create_token
from tests.conftest import Cluster
from tests.test_reliability import _live

_dbs = itertools.count()
CLEAN = {"lost": 0, "extra": 0, "duplicated": 0, "wrong_result": 0, "wrong_last_seen": 0}


def _prepare(url: str, n: int, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`n` generated sensors (the API bench's generator, its file in tmp) and a device token."""
    monkeypatch.setattr(api_bench, "WORK", tmp)
    api_bench.things(url, n)
    with psycopg.connect(url) as conn:
        return create_token(conn, "burst test", "device")


def test_a_concurrent_burst_stores_each_unique_reading_once(
    cluster: Cluster, loaded_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"gis_burst_{next(_dbs)}"
    url = cluster.create(name, template=loaded_template)
    try:
        token = _prepare(url, 100, tmp_path, monkeypatch)
        unique = readings(streams(url), 10)
        work = batches(unique, 50, 0.1)
        with contextlib.contextmanager(_live)(url, tmp_path) as base:
            b = burst(base, token, work, clients=4, lost=0.1)
        check = verify(url, unique)
    finally:
        cluster.drop(name)
    assert len(unique) == 1000 and not b.errors
    assert check == {"sent": 1000, "rows": 1000, **CLEAN}
    assert b.lost > 0 and b.posted == b.stored + b.duplicates and b.duplicates >= 100
    assert b.stored == 1000  # no restart: every answer came, and together they stored each reading once


@pytest.fixture
def own_cluster() -> Iterator[EmbeddedPostgres]:
    """A migrated cluster of this test's own: the test stops and starts it."""
    root = Path(tempfile.mkdtemp(prefix="gis-burst-pg-"))
    root.chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emb = EmbeddedPostgres(root=root, preferred_port=port)
    emb.start()
    try:
        yield emb
    finally:
        emb.destroy()


def test_a_postgresql_restart_mid_burst_loses_and_duplicates_nothing(
    own_cluster: EmbeddedPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emb = own_cluster
    token = _prepare(emb.url(), 100, tmp_path, monkeypatch)
    unique = readings(streams(emb.url()), 10)
    work = batches(unique, 10, 0.1)
    restart = Restart(emb, at=len(work) // 4, outage=1.0)
    with contextlib.contextmanager(_live)(emb.url(), tmp_path, public_password=emb.public_password) as base:
        b = burst(base, token, work, clients=3, lost=0.05, on_progress=restart, give_up_after=60)
        restart.join()
    assert restart.times.get("stop") is not None and restart.times.get("start") is not None
    assert b.retries > 0, "the clients never met the outage"
    assert not b.errors and b.batches == len(work)
    assert verify(emb.url(), unique) == {"sent": 1000, "rows": 1000, **CLEAN}
    # The outage is a 503 the clients may retry (or a dropped connection), never a 500.
    assert "500" not in b.failures, b.failures
