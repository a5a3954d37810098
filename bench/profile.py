#!/usr/bin/env python3
"""Where a server's CPU goes under load: py-spy samples one worker of `gis serve` while wrk replays a bench workload.

    .venv/bin/python bench/profile.py W1 [W3 W4b report ...] [--seconds 10] [--out bench/results-speed-profile.md]

Needs the 1x bench cluster prepared by `bench/run.sh prepare` (database gis on 127.0.0.1:54329), its harness paths
(bench/.work/shared-bench/out/paths) and py-spy (`.venv/bin/pip install -e '.[bench]'`). Per workload it starts
`gis serve` with one worker and every cache off (the uncached path), warms it for 2 s, samples the worker at 250 Hz
for --seconds while wrk (2 threads, 8 connections) cycles the harness's request list, and sorts every sample by the
frame it was executing (self time) into areas: the event loop and sockets, HTTP (uvicorn, httptools), the ASGI stack
(Starlette, FastAPI, our middlewares), the database driver (asyncpg), our own code, JSON and gzip. The database's
side is EXPLAIN (ANALYZE, BUFFERS): bench/report_profile.py for the report.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "bench" / ".work" / "shared-bench"
PORT = 8097
DB = "postgresql://bench:bench@127.0.0.1:54329/gis"
PATHS = {
    "W1": "gis-nocache/W1.txt",
    "W2": "gis-nocache/W2.txt",
    "W3": "gis-nocache/W3.txt",
    "W4a": "gis-tiles-nocache/W4a.txt",
    "W4b": "gis-tiles-nocache/W4b.txt",
    "report": "gis-lookup/W1.txt",
}
AREAS = [  # (area, pattern on the innermost frame's file as py-spy names it), first match wins
    ("database driver (asyncpg)", r"asyncpg/"),
    ("HTTP (uvicorn, httptools)", r"uvicorn/|httptools"),
    ("ASGI stack (Starlette, FastAPI, our middlewares)", r"starlette/|fastapi/|^api/(limits|head|counting|compress)\."),
    ("JSON and gzip", r"json/|orjson|gzip|zlib"),
    ("our code (handlers, SQL building, report)", r"^(api|gis|tiles|layers)/"),
    ("event loop (uvloop, asyncio)", r"asyncio/|runners\.py|selectors|uvloop"),
    ("other Python (urllib, typing, ...)", r""),
]


def _wait(url: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server not ready at {url}")


def profile(workload: str, seconds: int) -> tuple[dict[str, float], list[tuple[str, float]], float]:
    """Sample one workload; (share by area, top frames by self share, req/s under py-spy)."""
    env = {
        **os.environ,
        "DATABASE_URL": DB,
        "GIS_PUBLIC_PASSWORD": os.environ.get("GIS_BENCH_PUBLIC_PASSWORD", "bench-public-secret"),
        "GIS_RESPONSE_CACHE_MIB": "0",
        "GIS_TILE_CACHE_MIB": "0",
    }
    env.pop("DATABASE_READ_URL", None)
    cmd = [
        str(REPO / ".venv/bin/gis"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(PORT),
        "--workers",
        "1",
        "--no-load",
    ]
    server = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    raw = REPO / "bench" / ".work" / f"profile-{workload}.txt"
    try:
        _wait(f"http://127.0.0.1:{PORT}/health")
        paths = HARNESS / "out" / "paths" / PATHS[workload]
        wrk = ["wrk", "-t2", "-c8", "-s", "wrk/paths.lua", f"http://127.0.0.1:{PORT}", "--", str(paths), "2"]
        subprocess.run([*wrk[:3], "-d2s", *wrk[3:]], cwd=HARNESS, capture_output=True, check=False)
        load = subprocess.Popen(
            [*wrk[:3], f"-d{seconds + 3}s", *wrk[3:]], cwd=HARNESS, stdout=subprocess.PIPE, text=True
        )
        time.sleep(1)
        subprocess.run(
            [
                str(REPO / ".venv/bin/py-spy") if (REPO / ".venv/bin/py-spy").exists() else "py-spy",
                "record",
                "-p",
                str(server.pid),
                "-d",
                str(seconds),
                "-r",
                "250",
                "-f",
                "raw",
                "-o",
                str(raw),
                "--nonblocking",
            ],
            capture_output=True,
            check=True,
        )
        out = load.communicate()[0]
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    areas: collections.Counter[str] = collections.Counter()
    frames: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        total += int(n)
        leaf = stack.split(";")[-1]
        m = re.match(r"(\S+) \((.*?):(\d+)\)", leaf)
        path = m.group(2) if m else ""
        area = next(a for a, pat in AREAS if re.search(pat, path))
        areas[area] += int(n)
        if m:
            frames[f"{m.group(1)} ({path.split('site-packages/')[-1].replace(str(REPO) + '/', '')}:{m.group(3)})"] += (
                int(n)
            )
    share = {a: 100 * areas[a] / total for a, _ in AREAS}
    return share, [(f, 100 * n / total) for f, n in frames.most_common(8)], rps


def main() -> None:
    """Profile the named workloads and write the markdown table."""
    p = argparse.ArgumentParser()
    p.add_argument("workloads", nargs="+", choices=sorted(PATHS))
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--out", default=str(REPO / "bench" / "results-speed-profile-samples.md"))
    a = p.parse_args()
    results = {w: profile(w, a.seconds) for w in a.workloads}
    lines = [
        "# Where one worker's CPU goes (py-spy, self time of the innermost frame)",
        "",
        f"`.venv/bin/python bench/profile.py {' '.join(a.workloads)} --seconds {a.seconds}`; one worker, caches off, "
        "wrk -t2 -c8 on the harness's request lists; the shares are of the samples in which the worker was busy.",
        "",
        "| area | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for area, _ in AREAS:
        lines.append(f"| {area} | " + " | ".join(f"{r[0][area]:.0f} %" for r in results.values()) + " |")
    lines.append(
        "| req/s under the profiler (1 worker) | " + " | ".join(f"{r[2]:,.0f}" for r in results.values()) + " |"
    )
    for w, (_, top, _) in results.items():
        lines += ["", f"Top frames, {w}:", ""] + [f"- {s:.1f} % {f}" for f, s in top]
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
