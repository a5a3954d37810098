"""The fault suite's harness: a `gis serve` it can start and stop, throwaway files and the state it compares."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gis.db.embedded import EmbeddedPostgres  # noqa: E402

GIS = str(REPO / ".venv" / "bin" / "gis")
FARMLAND = REPO / "data" / "sample" / "farmland_sample.geojson"


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """`gis serve` on the private cluster, as a subprocess."""

    def __init__(self, emb: EmbeddedPostgres, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, "DATABASE_URL": emb.url(), "GIS_PUBLIC_PASSWORD": emb.public_password, **env}
        full.pop("DATABASE_READ_URL", None)
        self.proc = subprocess.Popen(
            [GIS, "serve", "--no-load", "--port", str(self.port), "--workers", str(workers)],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tempfile.gettempdir()) / f"gis-faults-serve-{self.port}.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gis serve did not start")

    def rss_mib(self) -> float:
        """Resident memory of the server and its workers."""
        pids = [self.proc.pid, *_children(self.proc.pid)]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        """Stop the server and its workers."""
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def fire_file(tmp: Path, x: float) -> Path:
    """A small 防火地域 for Takeo, different for each x (a re-import every cache must notice)."""
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"fire_type": "防火地域", "city_code": "41206"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x, 33.19], [x + 0.005, 33.19], [x + 0.005, 33.195], [x, 33.195], [x, 33.19]]],
                },
            }
        ],
    }
    path = tmp / f"fire-{x}.geojson"
    path.write_text(json.dumps(geo))
    return path


def _secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.3f} s"


def gis_cli(emb: EmbeddedPostgres, *args: str) -> subprocess.CompletedProcess:
    """Run the `gis` command against the private cluster."""
    env = {**os.environ, "DATABASE_URL": emb.url(), "GIS_PUBLIC_PASSWORD": emb.public_password}
    return subprocess.run([GIS, *args], env=env, capture_output=True, text=True, timeout=600)


def farmland_state(emb: EmbeddedPostgres) -> tuple[int, str]:
    """Row count and a checksum of ids and keys of the farmland layer (and its private rows)."""
    with psycopg.connect(emb.url()) as conn:
        return conn.execute(
            "SELECT count(*), md5(coalesce(string_agg(id::text || ':' || feature_key, ',' ORDER BY id), '')) "
            "|| '/' || (SELECT count(*) FROM private.farmland_persons) FROM farmland"
        ).fetchone()


async def _load(url: str, stop: asyncio.Event, stats: dict[str, int]) -> None:
    paths = [
        "/collections/zoning/items?limit=20",
        "/collections/fire_districts/items",
        "/lookup?lat=33.1955&lon=130.0195",
        "/tiles/zoning/14/14393/6593.mvt",
        "/collections/farmland/items?limit=2000",
    ]
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while not stop.is_set():
            try:
                r = await client.get(random.choice(paths))
                key = "5xx (not 503)" if r.status_code >= 500 and r.status_code != 503 else str(r.status_code)
            except httpx.HTTPError as e:
                key = f"transport: {type(e).__name__}"
            stats[key] = stats.get(key, 0) + 1
            await asyncio.sleep(0.01)
