"""The inundation-sensor domain's tables (on the shared metadata, so migrations see them).

Things and Locations are the rows of the `inundation_sensors` layer; everything live sits here, outside the
versioned layer, so readings never bust the layer's ETags and tiles. `sensor_state` holds one row per Thing, updated
in the ingest's transaction: "the latest state of every sensor" is one small table, never a scan of observations.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gis.db.tables import metadata

KINDS = ("wet", "depth", "battery", "rssi")
STATES = ("dry", "wet", "flooded")
EVENT_KINDS = ("flooded", "receded", "silent", "back")
DELIVERY = ("pending", "delivered", "failed", "none")
THINGS = "inundation_sensors"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


sensor_rules = sa.Table(
    "sensor_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
    sa.Column("wet_minutes", sa.Integer, nullable=False, server_default="10"),
    sa.Column("silence_factor", sa.Numeric, nullable=False, server_default="2"),
    sa.Column("max_future_minutes", sa.Integer, nullable=False, server_default="10"),
    sa.Column("max_past_days", sa.Integer, nullable=False, server_default="30"),
    sa.Column("webhook_url", sa.Text),  # not readable by the public role (column-level grants)
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("id = 1", name="ck_sensor_rules_one_row"),
    sa.CheckConstraint("wet_minutes BETWEEN 1 AND 1440", name="ck_sensor_rules_wet_minutes"),
    sa.CheckConstraint("silence_factor >= 1 AND silence_factor <= 100", name="ck_sensor_rules_silence_factor"),
    sa.CheckConstraint("max_future_minutes BETWEEN 0 AND 1440", name="ck_sensor_rules_future"),
    sa.CheckConstraint("max_past_days BETWEEN 1 AND 3660", name="ck_sensor_rules_past"),
)

sensor_datastreams = sa.Table(
    "sensor_datastreams",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("thing_id", sa.BigInteger, sa.ForeignKey(f"{THINGS}.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sensor_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("observation_type", sa.Text),
    sa.Column("observed_property", sa.Text),
    sa.Column("unit_name", sa.Text),
    sa.Column("unit_symbol", sa.Text),
    sa.Column("unit_definition", sa.Text),
    sa.CheckConstraint(_in("kind", KINDS), name="ck_sensor_datastreams_kind"),
    sa.UniqueConstraint("thing_id", "kind", name="uq_sensor_datastreams_thing_kind"),
    sa.Index("ix_sensor_datastreams_sensor_id", "sensor_id"),
)

# The idempotency key is the primary key: (datastream, phenomenon time). Monthly range partitions on phenomenon_time
# (UTC months, made ahead by sensor_observations_partition(); a DEFAULT partition takes anything else) plus a BRIN
# index on phenomenon_time: measured against one BRIN-indexed table in bench/results-sensors.md (the same speed for
# ingest and histories, 10x faster "every sensor in one hour", a month dropped in 0.04 s instead of deleted).
sensor_observations = sa.Table(
    "sensor_observations",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), nullable=False),
    sa.Column("datastream_id", sa.Integer, nullable=False),
    sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("result_time", sa.DateTime(timezone=True)),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("result", sa.Float, nullable=False),
    sa.Column("quality", sa.Text),
    sa.Column("provenance", sa.Text),
    sa.PrimaryKeyConstraint("datastream_id", "phenomenon_time", name="pk_sensor_observations"),
    sa.Index("ix_sensor_observations_id", "id"),
    # A time filter without a datastream (every sensor in one hour) reads a few block ranges, not a month.
    sa.Index("ix_sensor_observations_time_brin", "phenomenon_time", postgresql_using="brin"),
    postgresql_partition_by="RANGE (phenomenon_time)",
)
PARTITION_PREFIX = "sensor_observations_"

sensor_state = sa.Table(
    "sensor_state",
    metadata,
    sa.Column("thing_id", sa.BigInteger, sa.ForeignKey(f"{THINGS}.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("sensor_id", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default="dry"),
    sa.Column("since", sa.DateTime(timezone=True)),
    sa.Column("wet_since", sa.DateTime(timezone=True)),
    sa.Column("last_seen", sa.DateTime(timezone=True)),
    sa.Column("level_cm", sa.Integer),
    sa.Column("battery_v", sa.Float),
    sa.Column("rssi", sa.Integer),
    sa.Column("silent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(_in("state", STATES), name="ck_sensor_state_state"),
    sa.Index("ix_sensor_state_sensor_id", "sensor_id"),
)

sensor_events = sa.Table(
    "sensor_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("thing_id", sa.BigInteger),
    sa.Column("sensor_id", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("detail", JSONB),
    # The webhook outbox (not readable by the public role).
    sa.Column("delivery", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(_in("kind", EVENT_KINDS), name="ck_sensor_events_kind"),
    sa.CheckConstraint(_in("delivery", DELIVERY), name="ck_sensor_events_delivery"),
    sa.Index("ix_sensor_events_at", "at"),
    sa.Index("ix_sensor_events_thing_at", "thing_id", "at"),
    sa.Index("ix_sensor_events_due", "next_attempt_at", postgresql_where=sa.text("delivery = 'pending'")),
)

__all__ = [
    "DELIVERY",
    "EVENT_KINDS",
    "KINDS",
    "STATES",
    "sensor_datastreams",
    "sensor_events",
    "sensor_observations",
    "sensor_rules",
    "sensor_state",
]
