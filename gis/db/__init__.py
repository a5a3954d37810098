"""The database: connections, the embedded cluster, running migrations, shared tables, provenance, versions, roles."""
