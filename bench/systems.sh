# Our service as extra systems for the shared bench harness (BENCH_SYSTEMS_FILE for run_peers.sh).
#
# Sourced by bash from run_peers.sh, which runs in the working copy of the shared bench
# (bench/.work/shared-bench): relative paths would point there, so everything of ours is absolute.
# bench/run.sh sets BENCH_SYSTEMS_FILE to this file; see bench/README.md.
#
#   gis        our FastAPI service (`gis serve`) on database "gis" of the bench cluster, into which
#              bench/run.sh imported the bench tables with `gis import` (W1, W2, W3)
#   gis-tiles  the same service on its own port, tile workloads (W4a, W4b), tile cache on; gis-tiles-nocache
#              the same with the tile cache off. Not in the default BENCH_SYSTEMS:
#              BENCH_SYSTEMS="raw tipg gis-tiles-nocache gis-tiles" BENCH_WORKLOADS="W4a W4b" BENCH_NAME=tiles bench/run.sh
#
# DATABASE_READ_URL is removed from the environment so a developer's replica setting cannot leak in.

GIS_BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GIS_BENCH_PORT=${GIS_BENCH_PORT:-8090}
GIS_BENCH_DB=postgresql://bench:bench@127.0.0.1:${BENCH_PG_PORT:-54329}/gis
GIS_BENCH_PUBLIC_PASSWORD=${GIS_BENCH_PUBLIC_PASSWORD:-bench-public-secret}
GIS_BENCH_START="env -u DATABASE_READ_URL DATABASE_URL=$GIS_BENCH_DB GIS_PUBLIC_PASSWORD=$GIS_BENCH_PUBLIC_PASSWORD $GIS_BENCH_REPO/.venv/bin/gis serve --host 127.0.0.1 --port $GIS_BENCH_PORT --workers ${BENCH_WORKERS:-2} --no-load"
GIS_BENCH_VERSION="$GIS_BENCH_REPO/.venv/bin/python -c \"import importlib.metadata as m; print(\\\"imari-takeo-gis\\\", m.version(\\\"imari-takeo-gis\\\"), \\\"fastapi\\\", m.version(\\\"fastapi\\\"), \\\"uvicorn\\\", m.version(\\\"uvicorn\\\"), \\\"asyncpg\\\", m.version(\\\"asyncpg\\\"))\""
GIS_BENCH_URL=http://127.0.0.1:$GIS_BENCH_PORT

bench_system gis \
  start="$GIS_BENCH_START" ready="$GIS_BENCH_URL/health" version="$GIS_BENCH_VERSION" \
  note="our service: gis serve (FastAPI under uvicorn), ${BENCH_WORKERS:-2} worker processes, database gis on the bench cluster; bench tables exported in bench id order and loaded with gis import (see Data in our service at the top of this report)" \
  W1="$GIS_BENCH_URL/collections/zoning/items?filter=S_INTERSECTS(geom,POINT({lon}%20{lat}))&filter-lang=cql2-text" \
  W2="$GIS_BENCH_URL/collections/farmland/items?bbox={minx},{miny},{maxx},{maxy}&limit=100" \
  W3="$GIS_BENCH_URL/collections/farmland/items?bbox={minx},{miny},{maxx},{maxy}&limit=1000"

# Vector tiles (/tiles/{layer}/{z}/{x}/{y}.mvt), measured only when named in BENCH_SYSTEMS:
#   BENCH_SYSTEMS="raw tipg gis-tiles-nocache gis-tiles" BENCH_WORKLOADS="W4a W4b" BENCH_NAME=tiles bench/run.sh
# gis-tiles keeps its tile cache (GIS_TILE_CACHE_MIB, default 128): the harness cycles 2,000 targets over 156
# (W4a) and 665 (W4b) distinct tiles, so after the warm-up every tile comes from memory ("cached").
# gis-tiles-nocache has GIS_TILE_CACHE_MIB=0: PostGIS builds every tile ("uncached"). wrk sends no
# If-None-Match, so neither measures 304s (bench/results-tiles.md has a separate wrk run for those).
GIS_TILES_URL=http://127.0.0.1:$((GIS_BENCH_PORT + 3))
bench_system gis-tiles \
  start="env GIS_TILE_CACHE_MIB=128 ${GIS_BENCH_START/--port $GIS_BENCH_PORT/--port $((GIS_BENCH_PORT + 3))}" \
  ready="$GIS_TILES_URL/health" version="$GIS_BENCH_VERSION" \
  note="our service: gis serve, ${BENCH_WORKERS:-2} worker processes, database gis; GET /tiles/{layer}/{z}/{x}/{y}.mvt (ST_AsMVT in PostGIS, feature id = our id, public columns + city_code + sample) with the in-process tile cache on (GIS_TILE_CACHE_MIB=128): cached tiles after the first pass; no gzip (wrk sends no Accept-Encoding)" \
  W4a="$GIS_TILES_URL/tiles/zoning/{z}/{x}/{y}.mvt" \
  W4b="$GIS_TILES_URL/tiles/farmland/{z}/{x}/{y}.mvt"

GIS_TILES_NOCACHE_URL=http://127.0.0.1:$((GIS_BENCH_PORT + 4))
bench_system gis-tiles-nocache \
  start="env GIS_TILE_CACHE_MIB=0 ${GIS_BENCH_START/--port $GIS_BENCH_PORT/--port $((GIS_BENCH_PORT + 4))}" \
  ready="$GIS_TILES_NOCACHE_URL/health" version="$GIS_BENCH_VERSION" \
  note="our service as gis-tiles but with GIS_TILE_CACHE_MIB=0: every request builds its tile in PostGIS (uncached)" \
  W4a="$GIS_TILES_NOCACHE_URL/tiles/zoning/{z}/{x}/{y}.mvt" \
  W4b="$GIS_TILES_NOCACHE_URL/tiles/farmland/{z}/{x}/{y}.mvt"

# The same service with its in-process response cache switched off: every request reaches PostgreSQL.
# Measured next to `gis` so the report shows what the cache contributes and what the uncached path does.
GIS_NOCACHE_URL=http://127.0.0.1:$((GIS_BENCH_PORT + 1))
bench_system gis-nocache \
  start="env GIS_RESPONSE_CACHE_MIB=0 ${GIS_BENCH_START/--port $GIS_BENCH_PORT/--port $((GIS_BENCH_PORT + 1))}" \
  ready="$GIS_NOCACHE_URL/health" version="$GIS_BENCH_VERSION" \
  note="our service with GIS_RESPONSE_CACHE_MIB=0 (no response cache; ETag/304 unused by wrk)" \
  W1="$GIS_NOCACHE_URL/collections/zoning/items?filter=S_INTERSECTS(geom,POINT({lon}%20{lat}))&filter-lang=cql2-text" \
  W2="$GIS_NOCACHE_URL/collections/farmland/items?bbox={minx},{miny},{maxx},{maxy}&limit=100" \
  W3="$GIS_NOCACHE_URL/collections/farmland/items?bbox={minx},{miny},{maxx},{maxy}&limit=1000"

# The "what applies here" report: every layer at the point in one SQL statement (W1 targets, f=geojson gives the
# report as one Feature so the harness check of W1 — a FeatureCollection with one feature — applies unchanged).
GIS_LOOKUP_URL=http://127.0.0.1:$((GIS_BENCH_PORT + 2))
bench_system gis-lookup \
  start="${GIS_BENCH_START/--port $GIS_BENCH_PORT/--port $((GIS_BENCH_PORT + 2))}" \
  ready="$GIS_LOOKUP_URL/health" version="$GIS_BENCH_VERSION" \
  note="our service: GET /lookup (all sections: 14 layers, boundary distances in EPSG:6670), no response cache involved" \
  W1="$GIS_LOOKUP_URL/lookup?lat={lat}&lon={lon}&f=geojson"
