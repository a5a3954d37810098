"""土砂災害警戒区域・特別警戒区域 (国土数値情報 A33): the zones the prefecture designates, by phenomenon.

No data is bundled (none was found for the two cities); `gis import A33-….geojson` loads a file through the A33
connector (gis/ingest/connectors_ksj.py), which turns the official codes into the names below.
"""

from layers.base import Col, Layer, Lookup, define_table

ZONE_TYPES = ("土砂災害警戒区域", "土砂災害特別警戒区域")
PHENOMENA = ("急傾斜地の崩壊", "土石流", "地すべり")

LAYER = Layer(
    id="landslide_zones",
    title="土砂災害警戒区域・特別警戒区域",
    description=(
        "土砂災害防止法に基づき県が指定する土砂災害警戒区域（イエローゾーン）・特別警戒区域（レッドゾーン）"
        "（国土数値情報 A33）。現象の種類は急傾斜地の崩壊・土石流・地すべり。"
    ),
    geom_type="MULTIPOLYGON",
    label="zone_name",
    columns=(
        Col("zone_type", title="区域区分（警戒区域／特別警戒区域）", required=True),
        Col("phenomenon", title="現象の種類（急傾斜地の崩壊／土石流／地すべり）", required=True),
        Col("designated", "bool", title="指定済み（偽: 基礎調査結果の公表のみで指定前）"),
        Col("zone_no", title="区域番号"),
        Col("zone_name", title="区域名"),
        Col("location", title="所在地"),
        Col("notice_date", "date", title="公示日"),
        Col("red_zone_pending", "bool", title="特別警戒区域の調査・公示が未了（警戒区域のみ公示）"),
    ),
    style={"color": "#c62828", "weight": 0.7, "fillOpacity": 0.3},
    big=True,
    cache_seconds=3600,
    lookup=Lookup(
        "zones",
        "landslide",
        role="landslide",
        no_data="土砂災害警戒区域は県の土木事務所・市の防災担当課（佐賀県 土砂災害危険箇所マップ）で確認してください。",
    ),
)
define_table(LAYER)
