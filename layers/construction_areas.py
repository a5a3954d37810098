"""特定建設作業 第1号区域 around schools, hospitals with beds and the like: about 80 m, derived from `facilities`."""

from layers.base import Col, Layer, define_table

RADIUS_M = 80

LAYER = Layer(
    id="construction_1go_areas",
    title="特定建設作業の1号区域（学校・病院等の周囲 約80 m）",
    description=(
        "学校・保育所・病床のある病院と診療所・図書館・特別養護老人ホーム・幼保連携型認定こども園の周囲 約80 m。"
        "第4種区域でもこの範囲は1号区域（作業は19時〜翌7時禁止、1日10時間まで）。施設の点から導出した目安で、"
        "正確な範囲は施設の敷地境界から測るため市に確認すること。"
    ),
    geom_type="MULTIPOLYGON",
    label="facility_name",
    derived_from="facilities",
    columns=(
        Col("facility_name", title="施設名", required=True),
        Col("facility_type", title="施設の種別"),
        Col("facility_id", "int", title="施設のID（facilities）"),
        Col("radius_m", "int", title="半径（m）"),
    ),
    style={"color": "#b10026", "weight": 1.5, "fillOpacity": 0.12, "dashArray": "4 3"},
    cache_seconds=3600,
)
define_table(LAYER)
