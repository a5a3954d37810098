#!/usr/bin/env bash
# Side-by-side benchmark of our service against tipg, pygeoapi and raw SQL, on the shared bench harness.
#
#   bench/run.sh            prepare (below) and run the benchmark; writes bench/results-$BENCH_NAME.md
#   bench/run.sh prepare    only prepare: harness copy, venvs, PostgreSQL, bench data, database gis
#   bench/run.sh speed      issue 16: a run at BENCH_SCALE=1, then one at BENCH_SCALE=10 (systems raw tipg gis-nocache
#                           gis-lookup gis-tiles-nocache, workloads W1-W4b), one file bench/results-speed.md with the
#                           verdict per goal, both sizes side by side and both reports
#
# BENCH_SCALE=1 (default) uses the cluster /tmp/bench-pg on port 54329 and bench/.work/data; BENCH_SCALE=10 uses its
# own throwaway cluster (BENCH_PG_ROOT=/tmp/bench-pg-10x, BENCH_PG_PORT=54330), bench/.work/data-10x and
# bench/.work/gis-import-10x.log, and ten times the data: the 1x tables plus nine translated copies (step 4).
#
# Steps (each skipped when already up to date):
#   1. copy the shared harness ($BENCH_SHARED, default <repo>/../shared/bench, read-only) to
#      bench/.work/shared-bench (refreshed every run; its .venv*, out/ are kept); on a cluster port other than 54329
#      the copy's run_peers.sh (raw pgbench) and pygeoapi config get that port (they name 54329 literally)
#   2. its setup.sh (venvs; re-run only when setup.sh or the requirements change)
#   3. pg.sh start (PostgreSQL 15 + PostGIS on 127.0.0.1:54329, or 54330 at 10x; left running afterwards); the
#      cluster of the other size is stopped when idle (BENCH_STOP_OTHER: default 1 at BENCH_SCALE=1, 0 at 10)
#   4. make_data.py (zoning 20k, farmland 200k, points 50k) unless the tables hold those counts; at 10x then nine
#      copies of every table, ST_Translate'd over a 5 x 2 grid of the bench box (ids + k * rows), and the request
#      targets of the 1x data (harness.py targets on the 1x rows; kept in bench/.work/data-10x/targets)
#   5. database "gis" on the same cluster (owner bench, postgis, role gis_public), `gis migrate`
#   6. export the bench tables to GeoJSON in bench id order, one city code per feature (export_bench_data.py)
#   7. `gis import zoning|farmland FILE --replace --crs EPSG:4326 --sample --allow-outside` unless database gis already holds
#      the rows of exactly these files (count + file sha256 recorded by the importer), then VACUUM (FULL, ANALYZE)
#   8. run_peers.sh with BENCH_SYSTEMS_FILE=bench/systems.sh, BENCH_SYSTEMS (default "raw tipg pygeoapi gis");
#      the run's directory is recorded in bench/.work/last-run-<scale>x.txt
#   9. bench/results-$BENCH_NAME.md = a header (how the data got into our service, the command line, the verdict
#      of bench/verdict.py, with growth against the last run of the other size) + the harness report
#
# Knobs: BENCH_NAME (features, features-10x at scale 10), BENCH_SCALE, BENCH_SYSTEMS, BENCH_SHARED,
# BENCH_GIS_REIMPORT=1 (import even when up to date), BENCH_STOP_OTHER, and everything run_peers.sh reads
# (BENCH_DURATION, BENCH_WARMUP, BENCH_WORKLOADS, BENCH_CONNECTIONS, ...), passed through unchanged.
# Never run two benchmarks at once on the 2-core machine.
set -euo pipefail

MODE=${1:-run}
case "$MODE" in run | prepare | speed) ;; *) echo "usage: $0 [run|prepare|speed]" >&2; exit 2 ;; esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$REPO/bench
SHARED=$(cd "${BENCH_SHARED:-$REPO/../shared/bench}" && pwd)
WORK=$HERE/.work
COPY=$WORK/shared-bench

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# pg.sh of the harness copy for the cluster of one size: pg_of 1|10 ARGS...
pg_of() {
  local s=$1; shift
  if [ "$s" = 10 ]; then (cd "$COPY" && BENCH_PG_ROOT=/tmp/bench-pg-10x BENCH_PG_PORT=54330 ./pg.sh "$@")
  else (cd "$COPY" && env -u BENCH_PG_ROOT -u BENCH_PG_PORT ./pg.sh "$@"); fi
}

# ------------------------------------------------------------------ speed: 1x, then 10x, one results file
if [ "$MODE" = speed ]; then
  NAME=${BENCH_NAME:-speed}
  [[ "$NAME" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "bad BENCH_NAME: $NAME" >&2; exit 2; }
  CMDLINE=""
  for v in $(compgen -e | grep '^BENCH_' | sort); do val=${!v}; CMDLINE+="$v=$(printf '%q' "${val//$REPO\//}") "; done  # repo-relative paths
  CMDLINE+="bench/run.sh speed"
  export BENCH_SYSTEMS=${BENCH_SYSTEMS:-"raw tipg gis-nocache gis-lookup gis-tiles-nocache"}
  export BENCH_WORKLOADS=${BENCH_WORKLOADS:-"W1 W2 W3 W4a W4b"}
  unset BENCH_SCALE BENCH_PG_ROOT BENCH_PG_PORT BENCH_RESULT_FILE   # each size uses its own cluster
  SPEED=$WORK/speed
  mkdir -p "$SPEED"
  rm -f "$SPEED"/results-*.md
  # At the end (also after a failure): the 10x cluster stops, the 1x cluster runs, as after a plain run.sh.
  speed_end() {
    if [ -x "$COPY/pg.sh" ]; then
      pg_of 10 stop >/dev/null 2>&1 || true
      pg_of 1 start >/dev/null || echo "speed: could not start the 1x cluster again" >&2
    fi
  }
  trap speed_end EXIT
  TIMINGS=""
  t0=$(now)
  for s in 1 10; do
    t=$(now)
    started=$(date -u +%Y%m%dT%H%M%SZ)
    echo "== speed: BENCH_SCALE=$s" >&2
    BENCH_SCALE=$s BENCH_NAME=$NAME-${s}x BENCH_STOP_OTHER=1 BENCH_RESULT_FILE=$SPEED/results-${s}x.md \
      BENCH_SPEED_PART=1 "$HERE/run.sh" run
    run=$(cat "$WORK/last-run-${s}x.txt")
    [[ ! "$(basename "$run")" < "$started" ]] || { echo "speed: no new ${s}x run recorded" >&2; exit 1; }
    declare "RUN_${s}X=$REPO/$run"
    TIMINGS+="BENCH_SCALE=$s bench/run.sh (preparation + measurements): $(secs "$t" "$(now)") s, run $(basename "$run")"$'\n'
    plog=$WORK/prepare.log
    if [ "$s" = 10 ]; then plog=$WORK/prepare-10x.log; fi
    TIMINGS+="$(sed 's/^/  /' "$plog")"$'\n'
  done
  TIMINGS+="total: $(secs "$t0" "$(now)") s"
  "$COPY/.venv/bin/python" "$HERE/verdict.py" speed --run-1x "$RUN_1X" --run-10x "$RUN_10X" \
    --report-1x "$SPEED/results-1x.md" --report-10x "$SPEED/results-10x.md" --out "$HERE/results-$NAME.md" \
    --cmdline "$CMDLINE" --timings "$TIMINGS"
  echo "== done: bench/results-$NAME.md" >&2
  exit 0
fi

SCALE=${BENCH_SCALE:-1}
case "$SCALE" in 1 | 10) ;; *) echo "BENCH_SCALE must be 1 or 10 (got $SCALE)" >&2; exit 2 ;; esac
if [ "$SCALE" = 1 ]; then
  DATA=$WORK/data
  NAME=${BENCH_NAME:-features}
  PREP_LOG=$WORK/prepare.log   # this run's step timings (goes into the report header)
  IMPORT_LOG=$WORK/gis-import.log   # kept from the last real import (goes into the report header)
else
  DATA=$WORK/data-10x
  NAME=${BENCH_NAME:-features-10x}
  PREP_LOG=$WORK/prepare-10x.log
  IMPORT_LOG=$WORK/gis-import-10x.log
fi
[[ "$NAME" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "bad BENCH_NAME: $NAME" >&2; exit 2; }
GIS=$REPO/.venv/bin/gis

# The exact command line, for the report (BENCH_* settings first; before the 10x cluster settings are exported).
CMDLINE=""
for v in $(compgen -e | grep '^BENCH_' | grep -v '^BENCH_SPEED_PART$' | sort); do val=${!v}; CMDLINE+="$v=$(printf '%q' "${val//$REPO\//}") "; done  # repo-relative paths
CMDLINE+="bench/run.sh${1:+ $1}"

if [ "$SCALE" = 10 ]; then
  # its own cluster: pg.sh, run_peers.sh, peers/tipg.sh and our systems.sh all read these two
  export BENCH_PG_ROOT=${BENCH_PG_ROOT:-/tmp/bench-pg-10x} BENCH_PG_PORT=${BENCH_PG_PORT:-54330}
  if [ "$BENCH_PG_PORT" = 54329 ] || [ "$(realpath -m "$BENCH_PG_ROOT")" = /tmp/bench-pg ]; then
    echo "BENCH_SCALE=10 must not use the 1x cluster (/tmp/bench-pg, port 54329)" >&2; exit 2
  fi
  OTHER=1 OTHER_ROOT=/tmp/bench-pg OTHER_PORT=54329
  STOP_OTHER=${BENCH_STOP_OTHER:-0}
else
  OTHER=10 OTHER_ROOT=/tmp/bench-pg-10x OTHER_PORT=54330
  STOP_OTHER=${BENCH_STOP_OTHER:-1}
fi
PGPORT=${BENCH_PG_PORT:-54329}
PSQL=/usr/lib/postgresql/15/bin/psql
BENCH_URL=postgresql://bench:bench@127.0.0.1:$PGPORT/bench
GIS_URL=postgresql://bench:bench@127.0.0.1:$PGPORT/gis
GIS_BENCH_PUBLIC_PASSWORD=${GIS_BENCH_PUBLIC_PASSWORD:-bench-public-secret}  # same default as systems.sh
export GIS_PUBLIC_PASSWORD=$GIS_BENCH_PUBLIC_PASSWORD
SU_URL=postgresql://postgres@127.0.0.1:$PGPORT   # pg.sh trusts loopback connections
BOUNDARIES=$REPO/data/boundaries/saga_municipalities_n03_2022.geojson
ZONING_N=20000 FARMLAND_N=200000 POINTS_N=50000   # make_data.py defaults, as in the reference run
# 10x: nine copies of the 1x tables on a 5 x 2 grid of the bench box (lon 129.80-130.10, lat 33.10-33.35) and a
# 0.0005 deg gap, as bench/farmland_data.py: copy k (1..9) is moved by (k % 5) * 0.3005 east and (k / 5) * 0.2505
# south; its ids are id + k * (rows of the 1x table), so the ids stay 1..10 x rows in file order.
COPY_DX=0.3005 COPY_DY=-0.2505
COPY_NOTE="  # + 9 translated copies by bench/run.sh BENCH_SCALE=10 (5 x 2 grid, +${COPY_DX} lon / ${COPY_DY} lat steps, id + k * rows)"
TARGETS_N=${BENCH_TARGETS:-2000} TARGETS_SEED=${BENCH_SEED:-7}   # run_peers.sh's defaults

[ -x "$GIS" ] || { echo "missing $GIS: create the project venv first (./quickstart.sh test or pip install -e .)" >&2; exit 1; }
[ -f "$SHARED/run_peers.sh" ] || { echo "no shared bench at $SHARED (set BENCH_SHARED)" >&2; exit 1; }
mkdir -p "$WORK" "$DATA"
: >"$PREP_LOG"

note() { printf '%s\n' "$*" | tee -a "$PREP_LOG" >&2; }
sha() { sha256sum "$@" | awk '{print $1}' | sha256sum | cut -c1-16; }
psql_su() { PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA "$SU_URL/$1" "${@:2}"; }
psql_gis() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA "$GIS_URL" "$@"; }
psql_bench() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA "$BENCH_URL" "$@"; }
# The report names the cluster by its setting, not by this machine's path.
[ "$SCALE" = 1 ] || note "BENCH_SCALE=$SCALE: a cluster of its own (BENCH_PG_ROOT) on port $PGPORT, data in ${DATA#$REPO/}"

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
# run_peers.sh runs pgbench with "-p 54329" and the pygeoapi config names port 54329 (pg.sh, the harness's psycopg
# connections and tipg follow BENCH_PG_PORT): on another cluster the copy gets its port, or raw SQL would measure
# the 1x cluster.
if [ "$PGPORT" != 54329 ]; then
  sed -i "s/-p 54329 /-p $PGPORT /" "$COPY/run_peers.sh"
  sed -i "s/^\( *port: \)54329\$/\1$PGPORT/" "$COPY/peers/pygeoapi-config.yml"
  if grep -q 54329 "$COPY/run_peers.sh" "$COPY/peers/pygeoapi-config.yml"; then
    echo "could not point the harness copy at port $PGPORT (run_peers.sh / pygeoapi-config.yml changed?)" >&2; exit 1
  fi
  note "copy: raw pgbench and pygeoapi pointed at port $PGPORT in the copy"
fi
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
# The cluster of the other size would idle beside this run (autovacuum, checkpoints) on the 2-core machine: stop it,
# unless a client is connected to it (someone is using it) or BENCH_STOP_OTHER=0.
if [ "$(pg_of "$OTHER" status 2>/dev/null)" = running ]; then
  busy=$("$PSQL" -X -tA "postgresql://postgres@127.0.0.1:$OTHER_PORT/postgres" -c "SELECT count(*) FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null || echo "?")
  if [ "$STOP_OTHER" != 1 ]; then
    note "WARNING: the ${OTHER}x cluster ($OTHER_ROOT, port $OTHER_PORT) keeps running beside this run (BENCH_STOP_OTHER=0)"
  elif [ "$busy" != 0 ]; then
    note "WARNING: the ${OTHER}x cluster ($OTHER_ROOT, port $OTHER_PORT) has $busy client sessions: not stopped, it shares the CPU with this run"
  else
    pg_of "$OTHER" stop 2>/dev/null
    note "pg.sh stop: the idle ${OTHER}x cluster (port $OTHER_PORT) while this size runs"
  fi
fi

# ------------------------------------------------------------------ 4. bench data
bench_counts() {   # "zoning farmland points" row counts; empty while a table is missing
  psql_bench -c "SELECT (SELECT count(*) FROM public.zoning) || ' ' || (SELECT count(*) FROM public.farmland)
    || ' ' || (SELECT count(*) FROM public.points)" 2>/dev/null || true
}
make_data_1x() {
  local t; t=$(now)
  (cd "$COPY" && "$PY" make_data.py --zoning "$ZONING_N" --farmland "$FARMLAND_N" --points "$POINTS_N")
  note "make_data.py: generated zoning/farmland/points ($(secs "$t" "$(now)") s)"
}

# 10x: the nine copies, in id order (so the heap is in id order as at 1x), GiST rebuilt after the load as
# make_data.py builds it; the comment says so (the harness report's data section shows it).
add_copies() {
  local t; t=$(now)
  psql_bench -v dx="$COPY_DX" -v dy="$COPY_DY" -v note="$COPY_NOTE" \
    -v nz="$ZONING_N" -v nf="$FARMLAND_N" -v np="$POINTS_N" <<'SQL'
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
BEGIN;
SELECT obj_description('public.zoning'::regclass) || :'note' AS made10 \gset
DROP INDEX public.zoning_geom_gist;
INSERT INTO public.zoning (id, youto_code, youto_name, kenpei, yoseki, geom)
SELECT z.id + k * :nz, z.youto_code, z.youto_name, z.kenpei, z.yoseki,
       ST_Translate(z.geom, :dx * (k % 5), :dy * (k / 5))
  FROM public.zoning z CROSS JOIN generate_series(1, 9) k WHERE z.id <= :nz ORDER BY k, z.id;
CREATE INDEX zoning_geom_gist ON public.zoning USING gist (geom);
DROP INDEX public.farmland_geom_gist;
INSERT INTO public.farmland (id, land_use, crop, area_m2, geom)
SELECT f.id + k * :nf, f.land_use, f.crop, f.area_m2, ST_Translate(f.geom, :dx * (k % 5), :dy * (k / 5))
  FROM public.farmland f CROSS JOIN generate_series(1, 9) k WHERE f.id <= :nf ORDER BY k, f.id;
CREATE INDEX farmland_geom_gist ON public.farmland USING gist (geom);
DROP INDEX public.points_geom_gist;
INSERT INTO public.points (id, name, district, collection_days, geom)
SELECT p.id + k * :np, p.name, p.district, p.collection_days, ST_Translate(p.geom, :dx * (k % 5), :dy * (k / 5))
  FROM public.points p CROSS JOIN generate_series(1, 9) k WHERE p.id <= :np ORDER BY k, p.id;
CREATE INDEX points_geom_gist ON public.points USING gist (geom);
COMMENT ON TABLE public.zoning IS :'made10';
COMMENT ON TABLE public.farmland IS :'made10';
COMMENT ON TABLE public.points IS :'made10';
COMMIT;
SQL
  psql_bench -c "VACUUM ANALYZE public.zoning" -c "VACUUM ANALYZE public.farmland" -c "VACUUM ANALYZE public.points"
  # the copies stay out of the study box, so every request target there gets the 1x answer (step 4b)
  local inbox
  inbox=$(psql_bench -c "SELECT (SELECT count(*) FROM public.zoning WHERE id > $ZONING_N
      AND geom && ST_MakeEnvelope(129.80, 33.10, 130.10, 33.35, 4326))
    + (SELECT count(*) FROM public.farmland WHERE id > $FARMLAND_N
      AND geom && ST_MakeEnvelope(129.80, 33.10, 130.10, 33.35, 4326))")
  [ "$inbox" = 0 ] || { echo "copies: $inbox copied rows reach into the bench box" >&2; exit 1; }
  note "copies: 9 translated copies of zoning/farmland/points, GiST rebuilt, VACUUM ANALYZE ($(secs "$t" "$(now)") s;" \
    "extent $(psql_bench -c "SELECT ST_Extent(geom)::text FROM public.farmland"))"
}

# Request targets at 10x. harness.py targets draws them inside the bench box (lon 129.80-130.10, lat 33.10-33.35)
# and sizes the W2/W3 boxes from count(farmland) / box area: with the copies counted, the boxes would be sized for a
# ten times denser box and hold a tenth of the parcels they need. The 1x rows inside the box are exactly the 1x data,
# so the 1x targets are the right ones: they are drawn with the three tables swapped for their 1x rows for a moment,
# then stamped with the 10x counts and comments (the stamp harness.py compares; run_peers.sh then reuses them) and
# kept in $DATA/targets (bench/.work/shared-bench/out/targets is shared with 1x runs, which redraw their own).
targets_stamp() {   # targets_stamp check|write FILE: the stamp harness.py targets would want for database bench now
  "$PY" - "$1" "$2" "$BENCH_URL" "$TARGETS_N" "$TARGETS_SEED" <<'PY'
import json, sys
import psycopg
mode, path, url, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
with psycopg.connect(url) as conn:
    counts = {t: conn.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0] for t in ("zoning", "farmland", "points")}
    made = {t: conn.execute(f"SELECT obj_description('public.{t}'::regclass)").fetchone()[0] for t in ("zoning", "farmland")}
    tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bench_params'").fetchone()[0]
want = {"n": n, "seed": seed, "counts": counts, "made": made}
if mode == "write":
    json.dump(want, open(path, "w"))
else:
    try:
        have = json.load(open(path))
    except (OSError, ValueError):
        have = None
    print("ok" if have == want and tables >= 5 else "stale")
PY
}
unswap_1x() {   # put the 10x tables back (also after an interrupted targets step)
  psql_bench <<'SQL'
SET client_min_messages = warning;
BEGIN;
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['zoning', 'farmland', 'points'] LOOP
    IF to_regclass('public.' || t || '_10x') IS NOT NULL THEN
      EXECUTE format('DROP TABLE IF EXISTS public.%I', t);
      EXECUTE format('ALTER TABLE public.%I RENAME TO %I', t || '_10x', t);
    END IF;
  END LOOP;
END $$;
COMMIT;
SQL
}
targets_10x() {
  local t stash=$DATA/targets out=$COPY/out/targets
  t=$(now)
  mkdir -p "$stash" "$out"
  if [ "$(targets_stamp check "$stash/stamp.json")" = ok ]; then
    cp "$stash"/W*.tsv "$stash/info.json" "$stash/stamp.json" "$out/"
    note "targets: the 1x targets (n=$TARGETS_N, seed $TARGETS_SEED) from ${stash#$REPO/} (bench_params in database bench)"
    return 0
  fi
  psql_bench -v nz="$ZONING_N" -v nf="$FARMLAND_N" -v np="$POINTS_N" <<'SQL'
SET client_min_messages = warning;
BEGIN;
SELECT split_part(obj_description('public.zoning'::regclass), '  # ', 1) AS made1 \gset
ALTER TABLE public.zoning RENAME TO zoning_10x;
ALTER TABLE public.farmland RENAME TO farmland_10x;
ALTER TABLE public.points RENAME TO points_10x;
CREATE TABLE public.zoning AS SELECT * FROM public.zoning_10x WHERE id <= :nz ORDER BY id;
CREATE TABLE public.farmland AS SELECT * FROM public.farmland_10x WHERE id <= :nf ORDER BY id;
CREATE TABLE public.points AS SELECT * FROM public.points_10x WHERE id <= :np ORDER BY id;
CREATE INDEX ON public.zoning USING gist (geom);
CREATE INDEX ON public.farmland USING gist (geom);
COMMENT ON TABLE public.zoning IS :'made1';
COMMENT ON TABLE public.farmland IS :'made1';
ANALYZE public.zoning;
ANALYZE public.farmland;
COMMIT;
SQL
  if ! (cd "$COPY" && BENCH_DB_URL=$BENCH_URL "$PY" harness.py targets --n "$TARGETS_N" --seed "$TARGETS_SEED" --force); then
    unswap_1x; echo "targets: harness.py targets failed" >&2; exit 1
  fi
  unswap_1x
  targets_stamp write "$out/stamp.json"
  rm -f "$stash"/*
  cp "$out"/W*.tsv "$out/info.json" "$out/stamp.json" "$stash/"
  note "targets: drawn on the 1x rows (n=$TARGETS_N, seed $TARGETS_SEED), stamped for 10x, kept in ${stash#$REPO/} ($(secs "$t" "$(now)") s)"
}

t=$(now)
counts=$(bench_counts)
if [ "$SCALE" = 1 ]; then
  if [ "$counts" = "$ZONING_N $FARMLAND_N $POINTS_N" ]; then
    note "make_data.py: tables present ($counts rows; skipped)"
  else
    make_data_1x
  fi
else
  unswap_1x 2>/dev/null || true   # an interrupted targets step (no tables yet: nothing to do)
  counts=$(bench_counts)
  made=$(psql_bench -c "SELECT obj_description('public.zoning'::regclass)" 2>/dev/null || true)
  if [ "$counts" = "$((ZONING_N * 10)) $((FARMLAND_N * 10)) $((POINTS_N * 10))" ] && [[ "$made" == *"$COPY_NOTE" ]]; then
    note "make_data.py + copies: tables present ($counts rows; skipped)"
  else
    if [ "$counts" = "$ZONING_N $FARMLAND_N $POINTS_N" ] && [[ "$made" == make_data.py* ]] && [[ "$made" != *"  # "* ]]; then
      note "make_data.py: 1x tables present ($counts rows; skipped)"
    else
      make_data_1x
    fi
    add_copies
  fi
  targets_10x
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
  note "export: ${DATA#$REPO/}/{zoning,farmland}.geojson up to date (skipped)"
else
  rm -f "$DATA/export.stamp"
  "$PY" "$HERE/export_bench_data.py" --db "$BENCH_URL" --boundaries "$BOUNDARIES" --out "$DATA" | tee -a "$PREP_LOG" >&2
  echo "$estamp" >"$DATA/export.stamp"
  note "export: bench tables -> GeoJSON ($(secs "$t" "$(now)") s)"
fi

# ------------------------------------------------------------------ 7. gis import
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
    note "gis import $layer: FAILED ($(secs "$t" "$(now)") s); output in ${IMPORT_LOG#$REPO/}.new"
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
  if [ "$SCALE" = 1 ]; then
    note "prepare: done; the bench cluster keeps running (bench/.work/shared-bench/pg.sh stop to stop it)"
  else
    note "prepare: done; the ${SCALE}x cluster keeps running (BENCH_PG_ROOT=$BENCH_PG_ROOT BENCH_PG_PORT=$PGPORT" \
      "bench/.work/shared-bench/pg.sh stop to stop it)"
  fi
  exit 0
fi

# ------------------------------------------------------------------ 8. benchmark
SYSTEMS=${BENCH_SYSTEMS:-"raw tipg pygeoapi gis"}
OUTMD=results-$NAME.md
rm -f "$COPY/$OUTMD"
t=$(now)
started=$(date -u +%Y%m%dT%H%M%SZ)
(cd "$COPY" && BENCH_SYSTEMS_FILE="$HERE/systems.sh" BENCH_SYSTEMS="$SYSTEMS" BENCH_OUT="$OUTMD" ./run_peers.sh)
[ -f "$COPY/$OUTMD" ] || { echo "run_peers.sh wrote no $OUTMD" >&2; exit 1; }
note "run_peers.sh: $(secs "$t" "$(now)") s"
# this run's directory: the newest one since the start that holds the report (run_peers.sh copies it there)
RUNDIR=""
for d in "$COPY"/out/runs/*/; do
  d=${d%/}
  if [[ ! "$(basename "$d")" < "$started" ]] && [ -f "$d/$OUTMD" ]; then RUNDIR=$d; fi
done
[ -n "$RUNDIR" ] || { echo "no run directory with $OUTMD under bench/.work/shared-bench/out/runs" >&2; exit 1; }
echo "${RUNDIR#$REPO/}" >"$WORK/last-run-${SCALE}x.txt"

# ------------------------------------------------------------------ 9. report
# The verdict per goal of issue 16 (bench/verdict.py), with growth against the last run of the other size. A part of
# `run.sh speed` leaves it out: the speed report judges its own two runs.
VERDICT_MD=$WORK/verdict-${SCALE}x.md
: >"$VERDICT_MD"
if [ -z "${BENCH_SPEED_PART:-}" ]; then
  other_run=$(cat "$WORK/last-run-${OTHER}x.txt" 2>/dev/null || true)
  vargs=("$RUNDIR" --scale "$SCALE")
  if [ -n "$other_run" ] && [ -f "$REPO/$other_run/results.jsonl" ]; then vargs+=(--other "$REPO/$other_run" --other-scale "$OTHER"); fi
  "$PY" "$HERE/verdict.py" "${vargs[@]}" --markdown >"$VERDICT_MD" || { echo "verdict.py failed" >&2; : >"$VERDICT_MD"; }
fi
RESULT=${BENCH_RESULT_FILE:-$HERE/results-$NAME.md}

"$PY" - "$DATA/export.json" "$IMPORT_LOG" "$PREP_LOG" "$CMDLINE" "$SYSTEMS" "$GIS_URL" "$COPY/$OUTMD" "$SCALE" \
  "$VERDICT_MD" "${IMPORT_LOG#$REPO/}" "${PREP_LOG#$REPO/}" "$COPY_DX" "$COPY_DY" >"$RESULT.tmp" <<'EOF'
import json, sys
import psycopg

exp_path, imp_log, prep_log, cmdline, systems, gis_url, report, scale, verdict, imp_name, prep_name, dx, dy = sys.argv[1:]
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
L = ["# Benchmark: our service next to tipg, pygeoapi and raw SQL" + (" — 10x data" if scale == "10" else ""), ""]
L += ["Produced by `bench/run.sh` (our part) around the shared harness `run_peers.sh` (a copy of the read-only",
      "shared bench in `bench/.work/shared-bench`); the harness report follows after this header.", ""]
v = open(verdict, encoding="utf-8").read().strip()
if v:
    L += [v, ""]
L += ["## Command", "", "```sh", cmdline, "```", "",
      f"Systems: `{systems}`; our systems file: `bench/systems.sh`.", ""]
L += ["## Data in our service", ""]
if scale == "10":
    L += [f"10x data (`BENCH_SCALE=10`, a cluster of its own on port {gis_url.split(':')[-1].split('/')[0]}): database bench holds the",
          "1x tables of `make_data.py` plus nine copies of each, moved with `ST_Translate` over a 5 x 2 grid of the bench",
          f"box (copy k = 1..9 moved by {dx} deg x (k % 5) east and {dy.lstrip('-')} deg x (k / 5) south; ids + k x the 1x",
          "rows), so the density per km2 and per tile is that of 1x over ten times the area. The request targets are the",
          "1x ones (inside the bench box, where the data is exactly the 1x data; see bench/README.md).", ""]
L += [
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
L += ["", f"Last import (`{imp_name}`):", "", "```"]
try:
    L += [line.rstrip("\n") for line in open(imp_log, encoding="utf-8")]
except OSError:
    L.append("(no import log)")
L += ["```", "", f"Preparation steps of this run (`{prep_name}`):", "", "```"]
L += [line.rstrip("\n") for line in open(prep_log, encoding="utf-8")]
L += ["```", "", "---", ""]
body = open(report, encoding="utf-8").read()
sys.stdout.write("\n".join(L) + "\n" + body)
EOF
mv "$RESULT.tmp" "$RESULT"
if [ -s "$VERDICT_MD" ]; then sed -n '/^```$/,/^```$/p' "$VERDICT_MD" | grep -v '^```$' >&2; fi
echo "== done: ${RESULT#$REPO/} (raw data in ${RUNDIR#$REPO/})" >&2
