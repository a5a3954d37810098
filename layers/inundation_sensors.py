"""Inundation sensors (ワンコイン浸水センサ): the installations (Things) with their current state, read live.

The rows hold what is installed where; the state lives in `sensor_state` (gis/sensors/), updated by ingest without
touching this layer's version. The state columns are computed at read time through `sensor_state_now`, so a sensor
silent for longer than its heartbeat × the silence factor is `unknown` in every output, never `dry`.
"""

from layers.base import Col, Layer, Lookup, define_table

JOIN = "LEFT JOIN sensor_state s ON s.thing_id = t.id"
STATE_SQL = "sensor_state_now(s.state, s.last_seen, t.heartbeat_minutes)"
# A silent sensor's state began when its silence did: the last message plus the allowed gap.
SINCE_SQL = (
    f"CASE WHEN {STATE_SQL} = 'unknown' THEN s.last_seen + sensor_silence_after(t.heartbeat_minutes) ELSE s.since END"
)
LEVEL_SQL = f"CASE WHEN {STATE_SQL} = 'unknown' THEN NULL ELSE s.level_cm END"  # an old level is no level
JST_FORMAT = "'YYYY-MM-DD HH24:MI'"


def _jst(expr: str) -> str:
    return f"to_char(({expr}) AT TIME ZONE 'Asia/Tokyo', {JST_FORMAT})"


COMPUTED = (
    Col("state", title="状態（dry/wet/flooded/unknown）", sql=STATE_SQL),
    Col("since", "timestamptz", title="状態の開始（UTC）", sql=SINCE_SQL),
    Col("since_jst", title="状態の開始（日本時間）", sql=_jst(SINCE_SQL)),
    Col("last_seen", "timestamptz", title="最終受信（UTC）", sql="s.last_seen"),
    Col("last_seen_jst", title="最終受信（日本時間）", sql=_jst("s.last_seen")),
    Col("level_cm", "int", title="浸水深（cm）", sql=LEVEL_SQL),
    Col("battery_v", "float", title="電池電圧（V）", sql="s.battery_v"),
)


def _lookup_sql(c: Col) -> str:
    assert c.sql is not None
    if c.type == "timestamptz":
        return f"""to_char(({c.sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""
    return c.sql


LAYER = Layer(
    id="inundation_sensors",
    title="浸水センサ",
    description=(
        "浸水センサの設置点と現在の状態（浸水／浸水検知／乾燥／不明）。10分以上の連続検知で浸水と判定し、"
        "定時通報が途絶えたセンサは「不明」と表示する。"
    ),
    geom_type="POINT",
    label="name",
    time_column="last_seen",
    columns=(
        Col("sensor_id", title="センサID", required=True),
        Col("name", title="設置場所", required=True),
        Col("vendor", title="提供元"),
        Col("sensor_type", title="方式（フロート10cm/40cm・段階）"),
        Col("heartbeat_minutes", "int", title="定時通報の間隔（分）"),
    ),
    computed=COMPUTED,
    join=JOIN,
    live=True,
    style={"color": "#1f78b4", "radius": 6},
    cache_seconds=30,
    # The report reads the state in its one statement, for the kept rows only (the same expressions as items).
    lookup=Lookup(
        "nearest",
        "inundation_sensors",
        role="sensors",
        key="nearest",
        count=3,
        computed=tuple((c.name, _lookup_sql(c)) for c in COMPUTED),
    ),
)
define_table(LAYER)
