"""Past flood extents (浸水実績・浸水推定範囲): what one event flooded, not a statutory 浸水想定区域."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="flood_history",
    title="過去の浸水範囲（浸水実績）",
    description=(
        "過去の大雨で浸水したと推定される範囲（1回の出水の推定範囲）。洪水浸水想定区域（水防法）ではなく、"
        "浸水の深さも含まない。範囲の外でも浸水しなかったとは限らない。"
    ),
    geom_type="MULTIPOLYGON",
    label="event",
    columns=(
        Col("event", title="出水（災害）名", required=True, aliases=("event", "災害名")),
        Col("event_date", "date", title="発生日", aliases=("event_date", "発生日")),
        # Not "area_m2": the report's lot query names its computed overlap area so.
        Col("part_m2", "float", title="面積（m²、分割した部分ごと）", aliases=("area_m2",)),
    ),
    style={"color": "#1565c0", "weight": 0.5, "fillOpacity": 0.35},
    cache_seconds=3600,
    lookup=Lookup(
        "zones",
        "flood_history",
        role="flood_history",
        no_data="浸水の履歴は市の防災担当課・河川事務所に確認してください。",
    ),
)
define_table(LAYER)
