"""Inundation sensors (ワンコイン浸水センサ) with their current state."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="inundation_sensors",
    title="浸水センサ",
    description="浸水センサの設置点と現在の状態（浸水／乾燥／不明）。10分以上の連続検知で浸水と判定。",
    geom_type="POINT",
    label="name",
    time_column="last_seen",
    columns=(
        Col("sensor_id", title="センサID", required=True),
        Col("name", title="設置場所", required=True),
        Col("vendor", title="提供元"),
        Col("sensor_type", title="方式（フロート10cm/40cm・段階）"),
        Col("heartbeat_minutes", "int", title="定時通報の間隔（分）"),
        Col("state", title="状態（wet/dry/unknown）"),
        Col("state_since", "timestamptz", title="状態の開始"),
        Col("last_seen", "timestamptz", title="最終受信"),
        Col("depth_cm", "int", title="浸水深区分（cm）"),
        Col("battery_v", "float", title="電池電圧（V）"),
    ),
    style={"color": "#1f78b4", "radius": 6},
    cache_seconds=30,
    lookup=Lookup("nearest", "inundation_sensors", role="sensors", key="nearest", count=3),
)
define_table(LAYER)
