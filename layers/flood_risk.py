"""洪水浸水想定区域 (国土数値情報 A31): the statutory flood areas with their depth rank, per river and scenario.

No data is bundled (none was found for the two cities); `gis import A31-….geojson` loads a file through the A31
connector (gis/ingest/connectors_ksj.py), which turns the official depth rank codes into the classes below.
"""

from layers.base import Col, Layer, Lookup, define_table

# Depth classes as the 洪水浸水想定区域図 draws them since 2016 (想定最大規模), shallowest first; the A31 connector
# also maps the older 5- and 7-step ranks of the 2012 edition onto their own labels.
DEPTH_CLASSES = ("0.5m未満", "0.5〜3.0m", "3.0〜5.0m", "5.0〜10.0m", "10.0〜20.0m", "20.0m以上")

LAYER = Layer(
    id="flood_risk",
    title="洪水浸水想定区域（浸水深）",
    description=(
        "水防法に基づく洪水浸水想定区域（国土数値情報 A31）。河川ごと・降雨の規模（計画規模／想定最大規模）ごとの"
        "想定浸水深の区分。区域外でも浸水しないとは限らない（対象河川以外の氾濫・内水は含まない）。"
    ),
    geom_type="MULTIPOLYGON",
    label="depth_class",
    columns=(
        Col("depth_class", title="想定浸水深", required=True),
        Col("depth_rank", "int", title="浸水深ランク（原典のコード）"),
        Col("depth_min_m", "float", title="浸水深の下限（m）"),
        Col("depth_max_m", "float", title="浸水深の上限（m、上限なしは空欄）"),
        Col("scenario", title="降雨の規模（計画規模／想定最大規模）"),
        Col("river_name", title="河川名"),
        Col("river_code", title="河川コード"),
        Col("edition", title="原典の版（A31 第1.1版／河川単位）"),
    ),
    style={"color": "#6a1b9a", "weight": 0.5, "fillOpacity": 0.35},
    big=True,
    cache_seconds=3600,
    lookup=Lookup(
        "zones",
        "flood_risk",
        role="flood_risk",
        no_data="洪水浸水想定区域図（ハザードマップ）は市の防災担当課・県の河川課で確認してください。",
    ),
)
define_table(LAYER)
