"""Alembic environment: the target metadata is the layer declarations plus the shared tables."""

from __future__ import annotations

from alembic import context

import gis.farmland.inquiry_tables  # noqa: F401  (registers the inquiries table on the metadata)
import gis.farmland.tables  # noqa: F401  (registers the domain's tables on the metadata)
import gis.garbage.tables  # noqa: F401  (registers the domain's tables on the metadata)
import gis.sensors.tables  # noqa: F401  (registers the domain's tables on the metadata)
import gis.stats.tables  # noqa: F401  (registers the domain's tables on the metadata)
import gis.transit.tables  # noqa: F401  (registers the domain's tables on the metadata)
import layers  # noqa: F401  (registers every layer table on the metadata)
from gis.db.connect import engine_for
from gis.db.tables import metadata
from gis.edits.tables import check_history  # also registers the history's tables on the metadata
from gis.sensors.tables import PARTITION_PREFIX

config = context.config


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """Ignore PostGIS's own tables, the index PostGIS adds by itself and the observations' monthly partitions."""
    if type_ == "table" and name in {"spatial_ref_sys"}:
        return False
    if type_ == "table" and reflected and compare_to is None and name.startswith(PARTITION_PREFIX):
        return False
    return not (type_ == "table" and reflected and compare_to is None and name.startswith("topology"))


def run_migrations_online() -> None:
    """Run against the URL handed over in the config attributes."""
    url = config.attributes["url"]
    connectable = config.attributes.get("connection") or engine_for(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            include_schemas=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        try:
            target = context.get_revision_argument()
        except KeyError:  # a command without a destination (autogenerate's compare): nothing was upgraded
            target = None
        target = {target} if isinstance(target, str) else set(target or ())
        if target in ({"heads"}, set(context.script.get_heads())):
            # At the heads, refuse a schema where a layer's changes would go unrecorded.
            check_history(connection.connection.driver_connection)


run_migrations_online()
