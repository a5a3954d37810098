"""Measure tile sizes: every tile of every layer over a zoom range within each layer's extent.

    python -m tiles.sizes postgresql://... [--layers zoning farmland all] [--zooms 8-16]

Prints a Markdown table (largest and median tile per layer and zoom, slowest build) for bench/results-tiles.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass

import psycopg

from layers import LAYERS
from tiles.sql import combined_sql, in_zoom, layer_mvt_sql, layers_at


@dataclass
class ZoomStats:
    """Sizes of the tiles of one layer at one zoom."""

    layer: str
    z: int
    tiles: int = 0
    non_empty: int = 0
    max_bytes: int = 0
    max_tile: str = ""
    p50_bytes: int = 0
    max_ms: float = 0.0
    served: bool = True


def tile_range(z: int, bbox: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """The (x, y) of every XYZ tile at zoom z touching the lon/lat box."""
    n = 2**z

    def tx(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def ty(lat: float) -> int:
        y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
        return min(n - 1, max(0, int(y)))

    x0, x1 = tx(bbox[0]), tx(bbox[2])
    y0, y1 = ty(bbox[3]), ty(bbox[1])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _extent(conn: psycopg.Connection, layer_ids: list[str]) -> tuple[float, float, float, float] | None:
    union = " UNION ALL ".join(f'SELECT geom::box2d b FROM "{lid}"' for lid in layer_ids)
    row = conn.execute(
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(b) e FROM ({union}) u) s"
    )
    found = row.fetchone()
    return None if found is None or found[0] is None else found


def measure(conn: psycopg.Connection, layer_id: str, z: int) -> ZoomStats:
    """Build every tile of the layer (or 'all') at zoom z inside its extent and record the sizes."""
    st = ZoomStats(layer_id, z)
    if layer_id == "all":
        members = layers_at(z)
        sql = combined_sql(members, z)
    else:
        members = [LAYERS[layer_id]] if in_zoom(LAYERS[layer_id], z) else []
        sql = layer_mvt_sql(LAYERS[layer_id], z)
    if not members:
        st.served = False
        return st
    bbox = _extent(conn, [la.id for la in members])
    if bbox is None:
        return st
    sql = sql.replace("$1", "%(z)s").replace("$2", "%(x)s").replace("$3", "%(y)s")
    sizes = []
    for x, y in tile_range(z, bbox):
        t0 = time.perf_counter()
        (body,) = conn.execute(sql, {"z": z, "x": x, "y": y}, prepare=True).fetchone()
        ms = (time.perf_counter() - t0) * 1000
        st.tiles += 1
        st.max_ms = max(st.max_ms, ms)
        if body:
            st.non_empty += 1
            sizes.append(len(body))
            if len(body) > st.max_bytes:
                st.max_bytes, st.max_tile = len(body), f"{z}/{x}/{y}"
    st.p50_bytes = int(statistics.median(sizes)) if sizes else 0
    return st


def _kib(n: int) -> str:
    return f"{n / 1024:,.1f} KiB"


def table(rows: list[ZoomStats]) -> str:
    """The Markdown table of the measurements."""
    out = [
        "| layer | z | tiles in extent | non-empty | largest | largest tile | median | slowest build ms |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        if not r.served:
            out.append(f"| {r.layer} | {r.z} | – | – | not served (204) | – | – | – |")
            continue
        out.append(
            f"| {r.layer} | {r.z} | {r.tiles} | {r.non_empty} | {_kib(r.max_bytes)} | {r.max_tile} | "
            f"{_kib(r.p50_bytes)} | {r.max_ms:,.1f} |"
        )
    return "\n".join(out)


def main() -> None:
    """Command line: measure and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db")
    ap.add_argument("--layers", nargs="*", default=[*LAYERS, "all"], help="layer ids, or all (the combined tile)")
    ap.add_argument("--zooms", default="8-16", help="first-last zoom")
    a = ap.parse_args()
    lo, _, hi = a.zooms.partition("-")
    rows = []
    with psycopg.connect(a.db, autocommit=True) as conn:
        for layer_id in a.layers:
            for z in range(int(lo), int(hi or lo) + 1):
                rows.append(measure(conn, layer_id, z))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
