"""Farmland parcels in the MAFF 筆ポリゴン schema plus the public 農地台帳 items (農地法 §52の3)."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="farmland",
    title="農地（筆ポリゴン）",
    description="農地の区画（農林水産省 筆ポリゴン形式）と農地台帳の公開項目。所有者・耕作者の氏名は公開しない。",
    geom_type="MULTIPOLYGON",
    label="chiban",
    columns=(
        Col("polygon_uuid", title="ポリゴンUUID", required=True),
        Col("land_type", "int", title="耕地種類（100 田, 200 畑）", required=True),
        Col("land_type_name", title="地目（田・畑）"),
        Col("issue_year", "int", title="公開年度"),
        Col("edit_year", "int", title="作成・更新年度"),
        Col("history", title="履歴（JSON）"),
        Col("last_polygon_uuid", title="前年のポリゴンUUID"),
        Col("prev_last_polygon_uuid", title="前々年のポリゴンUUID"),
        Col("local_government_cd", title="地方公共団体コード（重心）"),
        Col("point_lng", "float", title="重心経度"),
        Col("point_lat", "float", title="重心緯度"),
        Col("oaza", title="所在（大字）"),
        Col("chiban", title="地番"),
        Col("area_m2", "float", title="面積（登記, m²）"),
        Col("noushin_kubun", title="農振法の区分"),
        Col("toshi_kubun", title="都市計画法の区分"),
        Col("lend_intention", title="貸付・売渡の意向（同意があるもののみ）"),
        Col("cultivator_no", title="耕作者整理番号"),
        Col("lease_type", title="権利の種類"),
        Col("lease_end", "date", title="存続期間の満了日"),
        Col("chukan_kanri", "bool", title="中間管理権の有無"),
        Col("idle_measure", title="遊休農地の措置"),
        Col("data_date", "date", title="台帳の時点"),
        Col("owner_name", title="所有者氏名（非公開）", public=False),
        Col("cultivator_name", title="耕作者氏名（非公開）", public=False),
    ),
    private_table="farmland_owners",
    private_key="farmland_id",
    style={"by": "land_type_name", "fillOpacity": 0.5, "weight": 0.5},
    # Below z14 a tile would hold thousands of parcels of a few pixels each (1.7 MB at z12 on 200k parcels).
    min_zoom=14,
    big=True,
    cache_seconds=3600,
    lookup=Lookup("parcels", "farmland", key="parcels", radius_m=50, limit=20),
)
define_table(LAYER)
