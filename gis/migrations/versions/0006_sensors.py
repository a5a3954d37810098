"""inundation sensors: rules, datastreams, observations (monthly partitions), current state, events

- Things are the rows of the inundation_sensors layer; its live columns (state, state_since, last_seen, depth_cm,
  battery_v) go: live state must not sit in a versioned layer. The old sample states are not carried over (they
  were invented): every sensor starts `dry` with no last_seen, i.e. `unknown` until a reading arrives.
- sensor_observations is range-partitioned by month on phenomenon_time (UTC months) with a DEFAULT partition and
  BRIN-indexed on phenomenon_time (bench/results-sensors.md);
  sensor_observations_partition(month) makes a month's partition (moving any rows the DEFAULT partition took).
- sensor_state_now(state, last_seen, heartbeat) is the one silence rule every output reads.
- A statement trigger on inundation_sensors keeps every Thing's datastreams and state row (sensor_things_sync).
- The public role reads everything but sensor_rules.webhook_url and the delivery columns of sensor_events.
- The unused sensor_readings table goes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.db.migrate import public_role

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE_COLUMNS = (
    ("state", sa.Text(), "状態（wet/dry/unknown）"),
    ("state_since", sa.DateTime(timezone=True), "状態の開始"),
    ("last_seen", sa.DateTime(timezone=True), "最終受信"),
    ("depth_cm", sa.Integer(), "浸水深区分（cm）"),
    ("battery_v", sa.Float(), "電池電圧（V）"),
)

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION sensor_silence_after(p_heartbeat_minutes integer) RETURNS interval
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT make_interval(secs => 60.0 * coalesce(p_heartbeat_minutes, 60)
                       * coalesce((SELECT silence_factor FROM sensor_rules WHERE id = 1), 2)::float8)
$$;

-- The one silence rule: no message within heartbeat x silence_factor means 'unknown', never 'dry'.
CREATE OR REPLACE FUNCTION sensor_state_now(p_state text, p_last_seen timestamptz, p_heartbeat_minutes integer)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_last_seen IS NULL OR p_last_seen < now() - sensor_silence_after(p_heartbeat_minutes)
              THEN 'unknown' ELSE p_state END
$$;

CREATE OR REPLACE FUNCTION sensor_observations_partition(p_month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  lo timestamptz := date_trunc('month', p_month)::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (date_trunc('month', p_month) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
  part text := 'sensor_observations_y' || to_char(p_month, 'YYYY') || 'm' || to_char(p_month, 'MM');
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  -- Every API worker's sweeper may get here at once: one makes the partition, the others then find it.
  PERFORM pg_advisory_xact_lock(hashtext('sensor_observations_partition'));
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  -- Rows the DEFAULT partition took for this month move into the new partition (else CREATE would refuse).
  CREATE TEMP TABLE sensor_moving ON COMMIT DROP AS
    WITH gone AS (DELETE FROM sensor_observations_default WHERE phenomenon_time >= lo AND phenomenon_time < hi
                  RETURNING *)
    SELECT * FROM gone;
  EXECUTE format('CREATE TABLE %I PARTITION OF sensor_observations FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  INSERT INTO sensor_observations SELECT * FROM sensor_moving;
  DROP TABLE sensor_moving;
  RETURN true;
END $$;

CREATE OR REPLACE FUNCTION sensor_observations_prepare(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  m date := date_trunc('month', p_from AT TIME ZONE 'UTC')::date;
  made integer := 0;
BEGIN
  WHILE m <= (p_to AT TIME ZONE 'UTC')::date LOOP
    IF sensor_observations_partition(m) THEN
      made := made + 1;
    END IF;
    m := (m + interval '1 month')::date;
  END LOOP;
  RETURN made;
END $$;

-- Every Thing gets its datastreams (wet for float switches, depth for step sensors; battery and rssi for all) and
-- a state row. Called by the triggers below for the rows a statement inserted or updated.
CREATE OR REPLACE FUNCTION sensor_things_sync(p_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO sensor_datastreams (thing_id, sensor_id, kind, name, description, observation_type,
                                  observed_property, unit_name, unit_symbol, unit_definition)
  SELECT t.id, t.sensor_id, k.kind, t.name || ' ' || k.label, k.description,
         'http://www.opengis.net/def/observationType/OGC-OM/2.0/' || k.otype, k.label, k.unit_name, k.unit_symbol,
         k.unit_definition
  FROM inundation_sensors t
  CROSS JOIN (VALUES
    ('wet', '浸水有無', '浸水の有無（1: 浸水を検知, 0: なし）', 'OM_TruthObservation', NULL, NULL, NULL),
    ('depth', '浸水深区分', '浸水深の段階（0/10/20/30/40 cm）', 'OM_CategoryObservation', 'centimetre', 'cm',
     'http://qudt.org/vocab/unit/CentiM'),
    ('battery', '電池電圧', '電池電圧', 'OM_Measurement', 'volt', 'V', 'http://qudt.org/vocab/unit/V'),
    ('rssi', '電波強度', '受信電波強度（RSSI）', 'OM_Measurement', 'decibel-milliwatt', 'dBm',
     'http://qudt.org/vocab/unit/DeciB_M')
  ) AS k(kind, label, description, otype, unit_name, unit_symbol, unit_definition)
  WHERE (p_ids IS NULL OR t.id = ANY(p_ids))
    AND k.kind <> CASE WHEN coalesce(t.sensor_type, '') ~* '(段階|depth|step)' THEN 'wet' ELSE 'depth' END
  ON CONFLICT (thing_id, kind) DO UPDATE SET sensor_id = EXCLUDED.sensor_id, name = EXCLUDED.name
  WHERE (sensor_datastreams.sensor_id, sensor_datastreams.name) IS DISTINCT FROM (EXCLUDED.sensor_id, EXCLUDED.name);

  INSERT INTO sensor_state (thing_id, sensor_id, state)
  SELECT t.id, t.sensor_id, 'dry' FROM inundation_sensors t WHERE p_ids IS NULL OR t.id = ANY(p_ids)
  ON CONFLICT (thing_id) DO UPDATE SET sensor_id = EXCLUDED.sensor_id
  WHERE sensor_state.sensor_id IS DISTINCT FROM EXCLUDED.sensor_id;
$$;

CREATE OR REPLACE FUNCTION sensor_things_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sensor_things_sync(ARRAY(SELECT id FROM changed));
  RETURN NULL;
END $$;

CREATE TRIGGER sensor_things_inserted AFTER INSERT ON inundation_sensors
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sensor_things_changed();
CREATE TRIGGER sensor_things_updated AFTER UPDATE ON inundation_sensors
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sensor_things_changed();
"""
PUBLIC_RULE_COLUMNS = "id, wet_minutes, silence_factor, max_future_minutes, max_past_days, updated_at"
PUBLIC_EVENT_COLUMNS = "id, thing_id, sensor_id, kind, at, detail"


def upgrade() -> None:
    op.create_table(
        "sensor_rules",
        sa.Column("id", sa.Integer(), server_default="1", nullable=False),
        sa.Column("wet_minutes", sa.Integer(), server_default="10", nullable=False),
        sa.Column("silence_factor", sa.Numeric(), server_default="2", nullable=False),
        sa.Column("max_future_minutes", sa.Integer(), server_default="10", nullable=False),
        sa.Column("max_past_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_sensor_rules_one_row"),
        sa.CheckConstraint("wet_minutes BETWEEN 1 AND 1440", name="ck_sensor_rules_wet_minutes"),
        sa.CheckConstraint("silence_factor >= 1 AND silence_factor <= 100", name="ck_sensor_rules_silence_factor"),
        sa.CheckConstraint("max_future_minutes BETWEEN 0 AND 1440", name="ck_sensor_rules_future"),
        sa.CheckConstraint("max_past_days BETWEEN 1 AND 3660", name="ck_sensor_rules_past"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO sensor_rules (id) VALUES (1)")
    op.create_table(
        "sensor_datastreams",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("thing_id", sa.BigInteger(), nullable=False),
        sa.Column("sensor_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("observation_type", sa.Text(), nullable=True),
        sa.Column("observed_property", sa.Text(), nullable=True),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column("unit_symbol", sa.Text(), nullable=True),
        sa.Column("unit_definition", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('wet', 'depth', 'battery', 'rssi')", name="ck_sensor_datastreams_kind"),
        sa.ForeignKeyConstraint(["thing_id"], ["inundation_sensors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("thing_id", "kind", name="uq_sensor_datastreams_thing_kind"),
    )
    op.create_index("ix_sensor_datastreams_sensor_id", "sensor_datastreams", ["sensor_id"], unique=False)
    op.create_table(
        "sensor_observations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("result", sa.Float(), nullable=False),
        sa.Column("quality", sa.Text(), nullable=True),
        sa.Column("provenance", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("datastream_id", "phenomenon_time", name="pk_sensor_observations"),
        postgresql_partition_by="RANGE (phenomenon_time)",
    )
    op.create_index("ix_sensor_observations_id", "sensor_observations", ["id"], unique=False)
    op.create_index(
        "ix_sensor_observations_time_brin",
        "sensor_observations",
        ["phenomenon_time"],
        unique=False,
        postgresql_using="brin",
    )
    op.execute("CREATE TABLE sensor_observations_default PARTITION OF sensor_observations DEFAULT")
    op.create_table(
        "sensor_state",
        sa.Column("thing_id", sa.BigInteger(), nullable=False),
        sa.Column("sensor_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="dry", nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wet_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("level_cm", sa.Integer(), nullable=True),
        sa.Column("battery_v", sa.Float(), nullable=True),
        sa.Column("rssi", sa.Integer(), nullable=True),
        sa.Column("silent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('dry', 'wet', 'flooded')", name="ck_sensor_state_state"),
        sa.ForeignKeyConstraint(["thing_id"], ["inundation_sensors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thing_id"),
    )
    op.create_index("ix_sensor_state_sensor_id", "sensor_state", ["sensor_id"], unique=False)
    op.create_table(
        "sensor_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("thing_id", sa.BigInteger(), nullable=True),
        sa.Column("sensor_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("delivery", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('flooded', 'receded', 'silent', 'back')", name="ck_sensor_events_kind"),
        sa.CheckConstraint("delivery IN ('pending', 'delivered', 'failed', 'none')", name="ck_sensor_events_delivery"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sensor_events_at", "sensor_events", ["at"], unique=False)
    op.create_index("ix_sensor_events_thing_at", "sensor_events", ["thing_id", "at"], unique=False)
    op.create_index(
        "ix_sensor_events_due",
        "sensor_events",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("delivery = 'pending'"),
    )
    op.execute(FUNCTIONS)
    # Partitions for the ingest window (30 days back) and two months ahead; the sweeper keeps making them.
    op.execute("SELECT sensor_observations_prepare(now() - interval '31 days', now() + interval '62 days')")
    op.execute("SELECT sensor_things_sync(NULL)")
    for name, _, _ in LIVE_COLUMNS:
        op.drop_column("inundation_sensors", name)
    op.drop_table("sensor_readings")
    role = public_role()
    op.execute(
        "REVOKE ALL ON FUNCTION sensor_silence_after(integer), sensor_state_now(text, timestamptz, integer), "
        "sensor_observations_partition(date), sensor_observations_prepare(timestamptz, timestamptz), "
        "sensor_things_sync(bigint[]), sensor_things_changed() FROM PUBLIC"
    )
    op.execute(f"""
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        GRANT SELECT ON sensor_datastreams, sensor_observations, sensor_state TO {role};
        GRANT SELECT ({PUBLIC_RULE_COLUMNS}) ON sensor_rules TO {role};
        GRANT SELECT ({PUBLIC_EVENT_COLUMNS}) ON sensor_events TO {role};
        GRANT EXECUTE ON FUNCTION sensor_silence_after(integer), sensor_state_now(text, timestamptz, integer)
          TO {role};
      END IF;
    END $$;
    """)


def downgrade() -> None:
    op.create_table(
        "sensor_readings",
        sa.Column("sensor_id", sa.Text(), nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("wet", sa.Boolean(), nullable=True),
        sa.Column("depth_cm", sa.Integer(), nullable=True),
        sa.Column("battery_v", sa.Float(), nullable=True),
        sa.Column("rssi", sa.Integer(), nullable=True),
        sa.Column("provenance", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("sensor_id", "phenomenon_time"),
    )
    for name, type_, comment in LIVE_COLUMNS:
        op.add_column("inundation_sensors", sa.Column(name, type_, nullable=True, comment=comment))
    op.execute("DROP TRIGGER IF EXISTS sensor_things_inserted ON inundation_sensors")
    op.execute("DROP TRIGGER IF EXISTS sensor_things_updated ON inundation_sensors")
    op.execute("DROP FUNCTION IF EXISTS sensor_things_changed()")
    op.execute("DROP FUNCTION IF EXISTS sensor_things_sync(bigint[])")
    op.execute("DROP FUNCTION IF EXISTS sensor_observations_prepare(timestamptz, timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS sensor_observations_partition(date)")
    op.execute("DROP FUNCTION IF EXISTS sensor_state_now(text, timestamptz, integer)")
    op.drop_table("sensor_events")
    op.drop_table("sensor_state")
    op.drop_table("sensor_observations")  # and its partitions
    op.drop_table("sensor_datastreams")
    op.execute("DROP FUNCTION IF EXISTS sensor_silence_after(integer)")
    op.drop_table("sensor_rules")
