"""防火地域 / 準防火地域."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="fire_districts",
    title="防火地域・準防火地域",
    description="防火地域・準防火地域。敷地がまたがる場合は厳しい方の規定が適用される（建築基準法）。",
    geom_type="MULTIPOLYGON",
    label="fire_type",
    columns=(
        Col("fire_type", title="種別", required=True, aliases=("function_name", "AreaType")),
        Col("decision_date", "date", title="決定日", aliases=("validFrom", "INDate"), null_values=("0001-01-01", "")),
        Col("custodian", title="決定者", aliases=("Custodian",)),
    ),
    style={"color": "#e31a1c", "weight": 2, "fillOpacity": 0.15},
    cache_seconds=3600,
    # Only Takeo's PLATEAU file has 防火 data: an Imari point says so instead of 「指定なし」 (DOMAIN.md §13).
    lookup=Lookup(
        "zones",
        "fire_district",
        role="fire",
        no_data="防火地域・準防火地域の指定は市の都市計画担当課で確認してください。",
    ),
)
define_table(LAYER)
