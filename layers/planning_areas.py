"""都市計画区域."""

from layers.base import Alias, Col, Layer, Lookup, define_table

LAYER = Layer(
    id="planning_areas",
    title="都市計画区域",
    description="都市計画区域と区域区分（線引き／非線引き）。武雄の区域はメッシュ境界で切れている（5,443/8,825 ha）。",
    geom_type="MULTIPOLYGON",
    label="name",
    columns=(
        Col("name", title="名称", required=True, aliases=("TokeiName", "name")),
        Col("area_classification", title="区域区分", aliases=("areaClassification_name", "AreaType", "TokeiType")),
        Col("nominal_area_ha", "float", title="告示面積（ha）", aliases=(Alias("nominalArea"),)),
        Col("custodian", title="決定者", aliases=("Custodian",)),
        Col("decision_date", "date", title="決定日", aliases=("validFrom", "INDate"), null_values=("0001-01-01", "")),
        Col("note", title="備考"),
    ),
    style={"color": "#1f78b4", "weight": 2, "fillOpacity": 0.03, "dashArray": "6 4"},
    cache_seconds=3600,
    lookup=Lookup("zones", "planning_area", role="planning_area"),
)
define_table(LAYER)
