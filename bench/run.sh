#!/usr/bin/env bash
# Side-by-side benchmark of our service against tipg, pygeoapi and raw SQL, on the shared bench harness.
#
#   bench/run.sh            prepare (below) and run the benchmark; writes bench/results-$BENCH_NAME.md
#   bench/run.sh prepare    only prepare: harness copy, venvs, PostgreSQL, bench data, database gis
#
# Steps (each skipped when already up to date):
#   1. copy the shared harness ($BENCH_SHARED, default <repo>/../shared/bench, read-only) to
#      bench/.work/shared-bench (refreshed every run; its .venv*, out/ are kept)
#   2. its setup.sh (venvs; re-run only when setup.sh or the requirements change)
#   3. pg.sh start (PostgreSQL 15 + PostGIS on 127.0.0.1:54329, left running afterwards)
#   4. make_data.py (zoning 20k, farmland 200k, points 50k) unless the tables hold those counts
#   5. database "gis" on the same cluster (owner bench, postgis, role gis_public), `gis migrate`
#   6. export the bench tables to GeoJSON in bench id order, one city code per feature (export_bench_data.py)
#   7. `gis import zoning|farmland FILE --replace --crs EPSG:4326 --sample --allow-outside` unless database gis already holds
#      the rows of exactly these files (count + file sha256 recorded by the importer), then VACUUM (FULL, ANALYZE)
#   8. run_peers.sh with BENCH_SYSTEMS_FILE=bench/systems.sh, BENCH_SYSTEMS (default "raw tipg pygeoapi gis")
#   9. bench/results-$BENCH_NAME.md = a header (how the data got into our service, the command line) +
#      the harness report
#
# Knobs: BENCH_NAME (features), BENCH_SYSTEMS, BENCH_SHARED, BENCH_GIS_REIMPORT=1 (import even when up to
# date), and everything run_peers.sh reads
# (BENCH_DURATION, BENCH_WARMUP, BENCH_WORKLOADS, BENCH_CONNECTIONS, ...), passed through unchanged.
# Never run two benchmarks at once on the 2-core machine.
set -euo pipefail

MODE=${1:-run}
case "$MODE" in run | prepare) ;; *) echo "usage: $0 [run|prepare]" >&2; exit 2 ;; esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$REPO/bench
SHARED=$(cd "${BENCH_SHARED:-$REPO/../shared/bench}" && pwd)
WORK=$HERE/.work
COPY=$WORK/shared-bench
DATA=$WORK/data
NAME=${BENCH_NAME:-features}
[[ "$NAME" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "bad BENCH_NAME: $NAME" >&2; exit 2; }
GIS=$REPO/.venv/bin/gis
PGPORT=${BENCH_PG_PORT:-54329}
PSQL=/usr/lib/postgresql/15/bin/psql
BENCH_URL=postgresql://bench:bench@127.0.0.1:$PGPORT/bench
GIS_URL=postgresql://bench:bench@127.0.0.1:$PGPORT/gis
GIS_BENCH_PUBLIC_PASSWORD=${GIS_BENCH_PUBLIC_PASSWORD:-bench-public-secret}  # same default as systems.sh
export GIS_PUBLIC_PASSWORD=$GIS_BENCH_PUBLIC_PASSWORD
SU_URL=postgresql://postgres@127.0.0.1:$PGPORT   # pg.sh trusts loopback connections
BOUNDARIES=$REPO/data/boundaries/saga_municipalities_n03_2022.geojson
ZONING_N=20000 FARMLAND_N=200000 POINTS_N=50000   # make_data.py defaults, as in the reference run

# The exact command line, for the report (BENCH_* settings first).
CMDLINE=""
for v in $(compgen -e | grep '^BENCH_' | sort); do CMDLINE+="$v=$(printf '%q' "${!v}") "; done
CMDLINE+="bench/run.sh${1:+ $1}"

[ -x "$GIS" ] || { echo "missing $GIS: create the project venv first (./quickstart.sh test or pip install -e .)" >&2; exit 1; }
[ -f "$SHARED/run_peers.sh" ] || { echo "no shared bench at $SHARED (set BENCH_SHARED)" >&2; exit 1; }
mkdir -p "$WORK" "$DATA"
PREP_LOG=$WORK/prepare.log   # this run's step timings (goes into the report header)
: >"$PREP_LOG"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
note() { printf '%s\n' "$*" | tee -a "$PREP_LOG" >&2; }
sha() { sha256sum "$@" | awk '{print $1}' | sha256sum | cut -c1-16; }
psql_su() { PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA "$SU_URL/$1" "${@:2}"; }
psql_gis() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA "$GIS_URL" "$@"; }
psql_bench() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA "$BENCH_URL" "$@"; }

# ------------------------------------------------------------------ 1. harness copy
t=$(now)
mkdir -p "$COPY"
find "$COPY" -mindepth 1 -maxdepth 1 ! -name '.venv' ! -name '.venv-*' ! -name out -exec rm -rf {} +
cp -a "$SHARED/." "$COPY/"
find "$COPY" -path "$COPY/.venv*" -prune -o -path "$COPY/out" -prune -o -exec chmod u+w {} +
# results-notes.md holds hand-written observations of the reference run; the harness appends it to every
# report. Ours get bench/results-notes.md if there is one, never the reference observations.
rm -f "$COPY/results-notes.md"
if [ -f "$HERE/results-notes.md" ]; then cp "$HERE/results-notes.md" "$COPY/results-notes.md"; fi
note "copy: ${BENCH_SHARED:-../shared/bench} -> bench/.work/shared-bench ($(secs "$t" "$(now)") s)"

# ------------------------------------------------------------------ 2. venvs
t=$(now)
stamp=$(sha "$COPY/setup.sh" "$COPY"/requirements-*.txt)
if [ -x "$COPY/.venv/bin/python" ] && [ -x "$COPY/.venv-pygeoapi/bin/python" ] \
   && [ "$(cat "$COPY/.venv/.setup-stamp" 2>/dev/null)" = "$stamp" ]; then
  note "setup.sh: venvs up to date (skipped)"
else
  (cd "$COPY" && ./setup.sh)
  echo "$stamp" >"$COPY/.venv/.setup-stamp"
  note "setup.sh: venvs installed ($(secs "$t" "$(now)") s)"
fi
PY=$COPY/.venv/bin/python

# ------------------------------------------------------------------ 3. PostgreSQL
t=$(now)
(cd "$COPY" && ./pg.sh start >/dev/null)
note "pg.sh start: $(cd "$COPY" && ./pg.sh url) ($(secs "$t" "$(now)") s)"

# ------------------------------------------------------------------ 4. bench data
t=$(now)
counts=$(psql_bench -c "SELECT (SELECT count(*) FROM public.zoning) || ' ' || (SELECT count(*) FROM public.farmland)
  || ' ' || (SELECT count(*) FROM public.points)" 2>/dev/null || true)   # fails (empty) while a table is missing
if [ "$counts" = "$ZONING_N $FARMLAND_N $POINTS_N" ]; then
  note "make_data.py: tables present ($counts rows; skipped)"
else
  (cd "$COPY" && "$PY" make_data.py --zoning "$ZONING_N" --farmland "$FARMLAND_N" --points "$POINTS_N")
  note "make_data.py: generated zoning/farmland/points ($(secs "$t" "$(now)") s)"
fi

# ------------------------------------------------------------------ 5. database gis
t=$(now)
if [ "$(psql_su postgres -c "SELECT 1 FROM pg_database WHERE datname = 'gis'")" != 1 ]; then
  psql_su postgres -c "CREATE DATABASE gis OWNER bench"
fi
# Public requests log in as gis_public with a password of its own (the service refuses to start otherwise).
psql_su postgres <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gis_public') THEN CREATE ROLE gis_public; END IF;
END \$\$;
ALTER ROLE gis_public LOGIN PASSWORD '$GIS_BENCH_PUBLIC_PASSWORD';
GRANT gis_public TO bench;
EOF
psql_su gis -c "CREATE EXTENSION IF NOT EXISTS postgis"
DATABASE_URL=$GIS_URL "$GIS" migrate >&2
note "database gis: created/migrated ($(secs "$t" "$(now)") s)"
# The lookup report reads every layer (municipalities, towns, facilities, ...): load the bundled data once;
# the bench zoning and farmland then replace those two layers for both cities (step 7).
if [ "$(psql_gis -c "SELECT count(*) FROM public.municipalities")" = 0 ]; then
  t=$(now)
  DATABASE_URL=$GIS_URL "$GIS" load >&2
  note "gis load: bundled layers for the lookup report ($(secs "$t" "$(now)") s)"
fi

# ------------------------------------------------------------------ 6. export
t=$(now)
# The export depends on the bench tables (their make_data comments and counts), the boundaries and the script.
src=$(psql_bench -c "SELECT obj_description('public.zoning'::regclass) || '|' || obj_description('public.farmland'::regclass)
  || '|' || (SELECT count(*) FROM public.zoning) || '|' || (SELECT count(*) FROM public.farmland)")
estamp=$(printf '%s|%s' "$src" "$(sha "$BOUNDARIES" "$HERE/export_bench_data.py")")
if [ -f "$DATA/zoning.geojson" ] && [ -f "$DATA/farmland.geojson" ] && [ -f "$DATA/export.json" ] \
   && [ "$(cat "$DATA/export.stamp" 2>/dev/null)" = "$estamp" ]; then
  note "export: bench/.work/data/{zoning,farmland}.geojson up to date (skipped)"
else
  rm -f "$DATA/export.stamp"
  "$PY" "$HERE/export_bench_data.py" --db "$BENCH_URL" --boundaries "$BOUNDARIES" --out "$DATA" | tee -a "$PREP_LOG" >&2
  echo "$estamp" >"$DATA/export.stamp"
  note "export: bench tables -> GeoJSON ($(secs "$t" "$(now)") s)"
fi

# ------------------------------------------------------------------ 7. gis import
IMPORT_LOG=$WORK/gis-import.log   # kept from the last real import (goes into the report header)
import_layer() {
  local layer=$1 file=$DATA/$1.geojson want have fsha lsha t
  want=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['layers'][sys.argv[2]]['rows'])" "$DATA/export.json" "$layer")
  fsha=$(sha256sum "$file" | awk '{print $1}')
  have=$(psql_gis -c "SELECT count(*) FROM public.$layer")
  lsha=$(psql_gis -c "SELECT file_sha256 FROM sources WHERE layer_id = '$layer' AND file_sha256 IS NOT NULL ORDER BY id DESC LIMIT 1")
  if [ "$have" = "$want" ] && [ "$lsha" = "$fsha" ] && [ -z "${BENCH_GIS_REIMPORT:-}" ]; then
    note "gis import $layer: database gis already holds these $have rows (file sha256 ${fsha:0:12}; skipped)"
    return 0
  fi
  # --allow-outside: the bench box covers 有田町 and other neighbours; their features are assigned to the nearest
  # city on purpose (export_bench_data.py), and the importer refuses features outside their city without it.
  local cmd=(env DATABASE_URL="$GIS_URL" "$GIS" import "$layer" "$file" --replace --crs EPSG:4326 --sample --allow-outside
             --title "bench $layer (make_data.py, synthetic)" --publisher "bench/make_data.py (synthetic)"
             --licence "synthetic benchmark data")
  t=$(now)
  # the command as run, with repo-relative paths, for the report
  local shown="\$" a
  for a in "${cmd[@]}"; do a=${a//$REPO\//}; shown+=" $(printf '%q' "$a")"; done
  echo "$shown" >>"$IMPORT_LOG.new"
  if ! "${cmd[@]}" 2>&1 | tee -a "$IMPORT_LOG.new" >&2; then
    note "gis import $layer: FAILED ($(secs "$t" "$(now)") s); output in bench/.work/gis-import.log.new"
    return 1
  fi
  local el; el=$(secs "$t" "$(now)")
  echo "# $layer: $want features, ${el} s wall ($(date -u +%FT%TZ))" >>"$IMPORT_LOG.new"
  note "gis import $layer: $want features ($el s)"
}
t=$(now)
: >"$IMPORT_LOG.new"
import_layer zoning
import_layer farmland
if [ -s "$IMPORT_LOG.new" ]; then
  mv "$IMPORT_LOG.new" "$IMPORT_LOG"
  t2=$(now)
  psql_gis -c "VACUUM (FULL, ANALYZE) public.zoning" -c "VACUUM (FULL, ANALYZE) public.farmland"
  note "VACUUM (FULL, ANALYZE) zoning, farmland in gis ($(secs "$t2" "$(now)") s)"
else
  rm -f "$IMPORT_LOG.new"
fi
note "gis db rows: $(psql_gis -c "SELECT string_agg(format('%s %s=%s', l, c, n), ', ' ORDER BY l, c) FROM (
  SELECT 'zoning' l, city_code c, count(*) n FROM public.zoning GROUP BY 2
  UNION ALL SELECT 'farmland', city_code, count(*) FROM public.farmland GROUP BY 2) s")"

if [ "$MODE" = prepare ]; then
  note "prepare: done; the bench cluster keeps running (bench/.work/shared-bench/pg.sh stop to stop it)"
  exit 0
fi

# ------------------------------------------------------------------ 8. benchmark
SYSTEMS=${BENCH_SYSTEMS:-"raw tipg pygeoapi gis"}
OUTMD=results-$NAME.md
rm -f "$COPY/$OUTMD"
t=$(now)
(cd "$COPY" && BENCH_SYSTEMS_FILE="$HERE/systems.sh" BENCH_SYSTEMS="$SYSTEMS" BENCH_OUT="$OUTMD" ./run_peers.sh)
[ -f "$COPY/$OUTMD" ] || { echo "run_peers.sh wrote no $OUTMD" >&2; exit 1; }
note "run_peers.sh: $(secs "$t" "$(now)") s"

# ------------------------------------------------------------------ 9. report
RESULT=$HERE/results-$NAME.md
"$PY" - "$DATA/export.json" "$IMPORT_LOG" "$PREP_LOG" "$CMDLINE" "$SYSTEMS" "$GIS_URL" "$COPY/$OUTMD" >"$RESULT.tmp" <<'EOF'
import json, sys
import psycopg

exp_path, imp_log, prep_log, cmdline, systems, gis_url, report = sys.argv[1:]
exp = json.load(open(exp_path, encoding="utf-8"))
with psycopg.connect(gis_url) as conn:
    counts = conn.execute(
        "SELECT l, city_code, count(*), min(id), max(id), bool_and(sample) FROM ("
        " SELECT 'zoning' l, city_code, id, sample FROM public.zoning"
        " UNION ALL SELECT 'farmland', city_code, id, sample FROM public.farmland) s GROUP BY 1, 2 ORDER BY 1 DESC, 2"
    ).fetchall()
    # our ids should equal the bench ids (features numbered in file order on a fresh database)
    import uuid
    ns = uuid.UUID("6f1d3c1e-8a57-4b43-9a0e-5b2f0b6c7a11")  # as in export_bench_data.py
    same_ids = {
        "zoning": conn.execute(
            "SELECT count(*) FILTER (WHERE id <> split_part(feature_key, ':', 3)::int) FROM public.zoning").fetchone()[0],
        "farmland": sum(1 for i, u in conn.execute("SELECT id, polygon_uuid FROM public.farmland")
                        if str(uuid.uuid5(ns, f"bench:farmland:{i}")) != u),
    }
L = ["# Benchmark: our service next to tipg, pygeoapi and raw SQL", ""]
L += ["Produced by `bench/run.sh` (our part) around the shared harness `run_peers.sh` (a copy of the read-only",
      "shared bench in `bench/.work/shared-bench`); the harness report follows after this header.", ""]
L += ["## Command", "", "```sh", cmdline, "```", "",
      f"Systems: `{systems}`; our systems file: `bench/systems.sh`.", ""]
L += ["## Data in our service", "",
      "Our service reads its own database `gis` on the bench cluster (our tables are also called zoning/farmland,",
      "so they cannot share database `bench`). It holds the bench tables of `make_data.py`, loaded with our",
      "own importer:", "",
      "1. `bench/export_bench_data.py` reads `public.zoning` / `public.farmland` from database bench in id order and",
      "   writes GeoJSON in that order (exact coordinates): zoning with `feature_key` = `bench:zoning:<id>`, `city_code`,",
      "   `youto_name`, `kenpei`, `yoseki` (our importer derives `youto_code` from the name); farmland with",
      "   `polygon_uuid` (uuid5 of the bench id), `city_code`, `land_type` (田 → 100; 畑, 樹園地, 牧草地 → 200),",
      "   `land_type_name`, `area_m2`.",
      f"2. City rule: {exp['rule']}. Boundaries: `data/boundaries/{exp['boundaries']}`.",
      "3. `gis migrate`, then `gis import zoning|farmland FILE --replace --crs EPSG:4326 --sample --allow-outside` into database gis",
      "   (our importer reprojects to EPSG:6668, makes MultiPolygons and numbers features in file order, so our ids",
      "   follow the bench ids), then `VACUUM (FULL, ANALYZE)` of both tables (compact, as after a first load).", ""]
L += ["| layer | bench rows | assigned 41205 伊万里市 | assigned 41206 武雄市 | of which by nearest boundary |", "|---|---:|---:|---:|---:|"]
for t, d in exp["layers"].items():
    near = sum(d["assignment"]["nearest"].values())
    L.append(f"| {t} | {d['rows']:,} | {d['by_city']['41205']:,} | {d['by_city']['41206']:,} | {near:,} |")
L += ["", "Rows in database gis now:", "", "| layer | city_code | rows | ids | sample |", "|---|---|---:|---|---|"]
for t, c, n, lo, hi, smp in counts:
    L.append(f"| {t} | {c} | {n:,} | {lo}..{hi} | {smp} |")
L += ["", "Rows whose id differs from the bench id: " + ", ".join(f"{t} {n}" for t, n in same_ids.items()) + "."]
L += ["", "Last import (`bench/.work/gis-import.log`):", "", "```"]
try:
    L += [line.rstrip("\n") for line in open(imp_log, encoding="utf-8")]
except OSError:
    L.append("(no import log)")
L += ["```", "", "Preparation steps of this run (`bench/.work/prepare.log`):", "", "```"]
L += [line.rstrip("\n") for line in open(prep_log, encoding="utf-8")]
L += ["```", "", "---", ""]
body = open(report, encoding="utf-8").read()
sys.stdout.write("\n".join(L) + "\n" + body)
EOF
mv "$RESULT.tmp" "$RESULT"
echo "== done: bench/results-$NAME.md (raw data in bench/.work/shared-bench/out/runs/)" >&2
