"""Parks (都市公園・都市計画公園)."""

from layers.base import Alias, Col, Layer, Lookup, define_table

LAYER = Layer(
    id="parks",
    title="公園",
    description="都市公園・都市計画公園（種別・面積・施設）。",
    geom_type="MULTIPOLYGON",
    label="name",
    place_names=True,
    columns=(
        Col("name", title="名称", required=True, aliases=("ParkName", "名称"), standard_name="名称"),
        Col("park_type", title="公園種別", aliases=("note", "種別"), standard_name="種別"),
        Col("function", title="区分（公園／緑地）", aliases=("function_name",)),
        Col("area_ha", "float", title="面積（ha）", aliases=(Alias("nominalArea"),)),
        Col("facilities", title="施設（遊具・トイレ・駐車場・防災 等）", aliases=("設備",)),
        Col("decision_date", "date", title="決定日", aliases=("validFrom",), null_values=("0001-01-01", "")),
    ),
    style={"color": "#33a02c", "weight": 1, "fillOpacity": 0.4},
    cache_seconds=3600,
    lookup=Lookup("nearest", "parks", key="nearest", count=3),
)
define_table(LAYER)
