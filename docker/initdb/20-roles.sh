#!/bin/bash
# Runs once, when `db` initialises an empty data directory (the image runs or sources every script here).
# gis_public: public requests log in as it; `gis migrate` grants it read access to public tables only.
# replicator: the `replica` service streams WAL as it, through the physical slot `replica`.
set -e
: "${GIS_PUBLIC_PASSWORD:?set GIS_PUBLIC_PASSWORD}" "${GIS_REPLICATION_PASSWORD:?set GIS_REPLICATION_PASSWORD}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v public_pw="$GIS_PUBLIC_PASSWORD" -v repl_pw="$GIS_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE gis_public LOGIN PASSWORD :'public_pw';
CREATE ROLE replicator LOGIN REPLICATION PASSWORD :'repl_pw';
SELECT pg_create_physical_replication_slot('replica');
SQL
# The image's own line ("host all all all") does not cover replication connections.
printf 'host replication replicator all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
