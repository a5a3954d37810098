"""特別用途地区."""

from layers.base import Alias, Col, Layer, Lookup, define_table

LAYER = Layer(
    id="special_use_districts",
    title="特別用途地区",
    description="特別用途地区（名称・用途）。",
    geom_type="MULTIPOLYGON",
    label="name",
    columns=(
        Col("name", title="名称", aliases=("DistName", "YoutoName")),
        Col("usage", title="用途", aliases=("usage_name",)),
        Col("area_ha", "float", title="面積（ha）", aliases=(Alias("nominalArea"),)),
        Col("decision_date", "date", title="決定日", aliases=("validFrom", "INDate"), null_values=("0001-01-01", "")),
        Col("custodian", title="決定者", aliases=("Custodian",)),
    ),
    style={"color": "#b15928", "weight": 2, "fillOpacity": 0.1, "dashArray": "2 4"},
    cache_seconds=3600,
    lookup=Lookup("zones", "special_use_district"),
)
define_table(LAYER)
