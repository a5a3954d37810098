"""Garbage collection points (ごみ集積所) with their group and accepted categories."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="garbage_points",
    title="ごみ集積所",
    description="ごみ集積所（行政区・収集グループ・出せる品目）。収集日は収集グループの暦による。",
    geom_type="POINT",
    label="name",
    columns=(
        Col("point_code", title="集積所ID", aliases=("ID",)),
        Col("name", title="名称", required=True, aliases=("名称",), standard_name="名称"),
        Col("district", title="行政区・班", aliases=("行政区",)),
        Col("group_id", title="収集グループ", required=True, aliases=("グループ",)),
        Col("categories", title="出せる品目（区分）", aliases=("品目",)),
        Col("contact_org", title="連絡先（団体）", aliases=("連絡先",)),
        Col("accessibility", title="アクセス", aliases=("バリアフリー情報",), standard_name="バリアフリー情報"),
    ),
    style={"color": "#ff7f00", "radius": 4},
    min_zoom=12,
    cache_seconds=3600,
    lookup=Lookup("nearest", "garbage_points", key="nearest", count=3),
)
define_table(LAYER)
