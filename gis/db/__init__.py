"""The database: connections, the embedded cluster, migrations, shared tables, provenance and layer versions."""
