"""Schools, 保育所, hospitals with beds, libraries, 特養, 認定こども園: sites that widen the 1号区域."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="facilities",
    title="学校・保育所・病院等",
    description="特定建設作業の第1号区域を広げる施設（学校・保育所・病床のある病院・図書館・特養・幼保連携型認定こども園）。",
    geom_type="POINT",
    label="name",
    columns=(
        Col("name", title="名称", required=True, aliases=("名称",), standard_name="名称"),
        Col("facility_type", title="種別", required=True, aliases=("種別",)),
        Col("beds", "int", title="病床数", aliases=("病床数",)),
        Col("address", title="所在地", aliases=("所在地", "住所"), standard_name="住所"),
        Col("widens_1go", "bool", title="1号区域の80m範囲の対象"),
    ),
    style={"color": "#e7298a", "radius": 5},
    cache_seconds=3600,
    # The sites that widen the 特定建設作業 1号区域: within 80 m of the site (plus the answer's own uncertainty).
    lookup=Lookup("within", None, role="widening_facilities", radius_m=80, add_reach=True, where="t.widens_1go"),
)
define_table(LAYER)
