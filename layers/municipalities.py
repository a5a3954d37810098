"""市区町村界 (N03 administrative boundaries)."""

from layers.base import Col, Layer, define_table

LAYER = Layer(
    id="municipalities",
    title="行政区域（市町界）",
    description="伊万里市・武雄市の行政区域（国土数値情報 N03）。島を含むマルチポリゴン。",
    geom_type="MULTIPOLYGON",
    label="name",
    columns=(
        Col("name", title="市区町村名", required=True, aliases=("N03_004",)),
        Col("pref", title="都道府県名", aliases=("N03_001",)),
        Col("lg_code", title="全国地方公共団体コード（6桁）"),
    ),
    style={"color": "#444444", "weight": 2, "fillOpacity": 0.0},
    cache_seconds=86400,
)
define_table(LAYER)
