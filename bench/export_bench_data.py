#!/usr/bin/env python3
"""Export the shared bench tables (make_data.py) as GeoJSON files that `gis import` accepts.

Run with the bench venv's python (numpy + shapely + psycopg), e.g. from bench/run.sh:

  .work/shared-bench/.venv/bin/python bench/export_bench_data.py \
      --db postgresql://bench:bench@127.0.0.1:54329/bench \
      --boundaries data/boundaries/saga_municipalities_n03_2022.geojson --out bench/.work/data

Writes, in bench id order (our importer numbers features in file order, so our ids follow the bench ids):

  zoning.geojson    feature_key "bench:zoning:<id>", bench_id, city_code, youto_name, kenpei, yoseki
                    (youto_code is derived from the name by our importer)
  farmland.geojson  polygon_uuid (uuid5 of "bench:farmland:<id>"), bench_id, city_code, land_type
                    (田 → 100; 畑, 樹園地, 牧草地 → 200: MAFF 筆ポリゴン counts orchards and pasture as 畑),
                    land_type_name (田/畑), area_m2
  export.json       row counts per city, the city rule, source table comments, timings

City assignment (every feature gets 41205 伊万里市 or 41206 武雄市, so our importer drops nothing): the
feature's centroid is tested against the two cities' N03 polygons (dissolved per N03_007, prepared
point-in-polygon); a centroid inside neither (有田町 and the other neighbours inside the bench box) goes
to the city whose boundary is nearer, found with a shapely STRtree over the boundary rings cut into short
pieces. Distances are measured with longitude scaled by cos(33.225°) (local equirectangular), so a degree
east counts as much as the same distance north.

Coordinates are written with Python's shortest round-trip float repr, i.e. exactly the stored doubles.
The output is deterministic: same tables + same boundaries => byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid

import numpy as np
import shapely
from shapely.geometry import shape

CITIES = {"41205": "伊万里市", "41206": "武雄市"}
LAT_REF = 33.225  # middle of the bench box (33.10 .. 33.35)
KX = math.cos(math.radians(LAT_REF))
UUID_NS = uuid.UUID("6f1d3c1e-8a57-4b43-9a0e-5b2f0b6c7a11")  # fixed namespace for bench parcel uuids
LAND_TYPE = {"田": (100, "田"), "畑": (200, "畑"), "樹園地": (200, "畑"), "牧草地": (200, "畑")}
PIECE = 32  # vertices per boundary piece in the STRtree


def load_cities(path: str) -> dict[str, shapely.Geometry]:
    """Dissolved city polygons (EPSG:6668 lon/lat, same numbers as EPSG:4326 at this precision)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    parts: dict[str, list] = {c: [] for c in CITIES}
    for f in doc["features"]:
        code = str(f["properties"].get("N03_007") or "")
        if code in parts and f.get("geometry"):
            parts[code].append(shape(f["geometry"]))
    missing = [c for c, p in parts.items() if not p]
    if missing:
        sys.exit(f"no N03 polygons for {missing} in {path}")
    return {c: shapely.union_all(shapely.make_valid(np.array(p, dtype=object))) for c, p in parts.items()}


def scale(geoms):
    return shapely.transform(geoms, lambda a: np.c_[a[:, 0] * KX, a[:, 1]])


def assign_cities(centroids: np.ndarray, cities: dict[str, shapely.Geometry]) -> tuple[np.ndarray, dict]:
    """City code per centroid: containing city, else nearest city boundary (STRtree over ring pieces)."""
    codes = list(cities)
    x, y = shapely.get_x(centroids), shapely.get_y(centroids)
    out = np.full(len(centroids), "", dtype=object)
    for c in codes:
        poly = cities[c]
        shapely.prepare(poly)
        inside = (out == "") & shapely.contains_xy(poly, x, y)
        out[inside] = c
    rest = np.nonzero(out == "")[0]
    stats = {"inside": {c: int((out == c).sum()) for c in codes}, "nearest": {c: 0 for c in codes}}
    if len(rest):
        pieces, owner = [], []
        for ci, c in enumerate(codes):
            for ring in shapely.get_parts(shapely.boundary(cities[c])):
                coords = shapely.get_coordinates(ring)
                for s in range(0, len(coords) - 1, PIECE):
                    pieces.append(shapely.linestrings(coords[s : s + PIECE + 1]))
                    owner.append(ci)
        pieces_m = scale(np.array(pieces, dtype=object))
        owner = np.array(owner)
        tree = shapely.STRtree(pieces_m)
        idx = tree.query_nearest(scale(centroids[rest]), all_matches=False)
        # idx[0]: position in rest (each once), idx[1]: nearest piece
        near = np.empty(len(rest), dtype=int)
        near[idx[0]] = owner[idx[1]]
        for ci, c in enumerate(codes):
            sel = rest[near == ci]
            out[sel] = c
            stats["nearest"][c] = int(len(sel))
    return out, stats


def fetch(conn, sql: str):
    rows = conn.execute(sql).fetchall()
    geoms = shapely.from_wkb(np.array([bytes(r[-1]) for r in rows], dtype=object))
    return rows, geoms


def write_geojson(path: str, name: str, props: list[dict], geoms: np.ndarray) -> int:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[\n')
        for i, (p, g) in enumerate(zip(props, geoms, strict=True)):
            gj = json.dumps(g.__geo_interface__, separators=(",", ":"))
            f.write(
                ("" if i == 0 else ",\n")
                + '{"type":"Feature","properties":'
                + json.dumps(p, ensure_ascii=False, separators=(",", ":"))
                + ',"geometry":'
                + gj
                + "}"
            )
        f.write("\n]}\n")
    os.replace(tmp, path)
    return os.path.getsize(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="bench database URL (the make_data.py tables)")
    ap.add_argument("--boundaries", required=True, help="N03 GeoJSON with N03_007 city codes")
    ap.add_argument("--out", required=True, help="output directory")
    a = ap.parse_args()
    import psycopg

    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    cities = load_cities(a.boundaries)
    t_b = time.time() - t0
    meta: dict = {
        "rule": "centroid inside the city's N03 polygon (N03_007 41205 伊万里市 / 41206 武雄市, dissolved); "
        "otherwise the city whose boundary is nearer (STRtree over boundary pieces; lon scaled by "
        f"cos({LAT_REF}°))",
        "boundaries": os.path.basename(a.boundaries),
        "layers": {},
        "timings_s": {"boundaries": round(t_b, 2)},
    }
    with psycopg.connect(a.db) as conn:
        for t in ("zoning", "farmland"):
            meta.setdefault("source_comments", {})[t] = conn.execute(
                f"SELECT obj_description('public.{t}'::regclass)"
            ).fetchone()[0]

        # ---------------------------------------------------------------- zoning
        t1 = time.time()
        rows, geoms = fetch(
            conn, "SELECT id, youto_name, kenpei, yoseki, ST_AsBinary(geom) FROM public.zoning ORDER BY id"
        )
        codes, stats = assign_cities(shapely.centroid(geoms), cities)
        props = [
            {
                "feature_key": f"bench:zoning:{r[0]}",
                "bench_id": r[0],
                "city_code": c,
                "youto_name": r[1],
                "kenpei": r[2],
                "yoseki": r[3],
            }
            for r, c in zip(rows, codes, strict=True)
        ]
        size = write_geojson(os.path.join(a.out, "zoning.geojson"), "zoning", props, geoms)
        meta["layers"]["zoning"] = {
            "rows": len(rows),
            "by_city": {c: int((codes == c).sum()) for c in CITIES},
            "assignment": stats,
            "bytes": size,
        }
        meta["timings_s"]["zoning"] = round(time.time() - t1, 2)

        # ---------------------------------------------------------------- farmland
        t1 = time.time()
        rows, geoms = fetch(conn, "SELECT id, land_use, area_m2, ST_AsBinary(geom) FROM public.farmland ORDER BY id")
        t_f = time.time()
        codes, stats = assign_cities(shapely.centroid(geoms), cities)
        t_a = time.time()
        unknown = sorted({r[1] for r in rows} - set(LAND_TYPE))
        if unknown:
            sys.exit(f"farmland: land_use values without a land_type mapping: {unknown}")
        props = []
        for r, c in zip(rows, codes, strict=True):
            lt, ltn = LAND_TYPE[r[1]]
            props.append(
                {
                    "polygon_uuid": str(uuid.uuid5(UUID_NS, f"bench:farmland:{r[0]}")),
                    "bench_id": r[0],
                    "city_code": c,
                    "land_type": lt,
                    "land_type_name": ltn,
                    "area_m2": r[2],
                }
            )
        size = write_geojson(os.path.join(a.out, "farmland.geojson"), "farmland", props, geoms)
        meta["layers"]["farmland"] = {
            "rows": len(rows),
            "by_city": {c: int((codes == c).sum()) for c in CITIES},
            "assignment": stats,
            "bytes": size,
            "land_type": {str(k): sum(1 for p in props if p["land_type"] == k) for k in (100, 200)},
        }
        meta["timings_s"]["farmland"] = round(time.time() - t1, 2)
        meta["timings_s"]["farmland_city_assignment"] = round(t_a - t_f, 2)
    meta["timings_s"]["total"] = round(time.time() - t0, 2)
    with open(os.path.join(a.out, "export.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1, sort_keys=True)
    for t, d in meta["layers"].items():
        print(
            f"{t}: {d['rows']} rows -> {t}.geojson ({d['bytes'] / 1e6:.1f} MB); by city {d['by_city']}; "
            f"inside {d['assignment']['inside']}, nearest {d['assignment']['nearest']}"
        )
    print(f"timings: {meta['timings_s']}")


if __name__ == "__main__":
    main()
