"""騒音規制地域, derived from 用途地域 by the rules in zone_rules."""

from layers.base import Col, Layer, define_table

LAYER = Layer(
    id="noise_zones",
    title="騒音規制地域",
    description="騒音規制法の地域区分（第1種〜第4種）。用途地域から市の告示の対応表で導出（導出データ、要確認）。",
    geom_type="MULTIPOLYGON",
    label="zone_class",
    derived_from="zoning",
    columns=(
        Col("zone_class", title="区域の区分", required=True),
        Col("youto_name", title="元の用途地域"),
        Col("legal_ref", title="根拠（告示）"),
        Col("rule_id", "int", title="対応規則ID"),
        Col("verified", "bool", title="告示で確認済み"),
    ),
    style={"by": "zone_class", "fillOpacity": 0.35, "weight": 1},
    cache_seconds=3600,
)
define_table(LAYER)
