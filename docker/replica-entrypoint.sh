#!/bin/bash
# The `replica` service: a streaming hot standby of `db`. An empty data directory is filled by pg_basebackup
# (-R writes standby.signal and primary_conninfo, -S follows the slot made by db's 20-roles.sh); after that the
# image's own entrypoint starts postgres, which finds a data directory and skips initialisation.
# A replica of an older `db` volume cannot follow a new one: remove the replicadata volume after recreating pgdata.
set -Eeo pipefail
: "${GIS_REPLICATION_PASSWORD:?set GIS_REPLICATION_PASSWORD}"
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until PGPASSWORD="$GIS_REPLICATION_PASSWORD" gosu postgres pg_basebackup -h db -p 5432 -U replicator -w \
      -D "$PGDATA" -X stream -c fast -R -S replica; do
    echo "replica: base backup from db failed; retrying" >&2
    find "$PGDATA" -mindepth 1 -delete
    sleep 2
  done
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
