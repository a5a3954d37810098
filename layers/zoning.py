"""用途地域 with 建ぺい率, 容積率 and height limit."""

from layers.base import Alias, Col, Layer, Lookup, define_table
from layers.youto import clean_zoning

LAYER = Layer(
    id="zoning",
    title="用途地域",
    description="用途地域と建ぺい率・容積率・高さの限度。境界は概ねの位置であり建築確認には市へ確認のこと。",
    geom_type="MULTIPOLYGON",
    label="youto_name",
    columns=(
        Col(
            "youto_name",
            title="用途地域名",
            required=True,
            aliases=("YoutoName", "A29_005", "function_name", "用途地域名", "用途地域"),
        ),
        Col("youto_code", "int", title="用途地域コード（A29）"),
        Col(
            "kenpei",
            "float",
            title="建ぺい率（%）",
            aliases=("BCR", "A29_006", "kenpei_pct", Alias("buildingCoverageRate", 100), "建ぺい率"),
        ),
        Col(
            "yoseki",
            "float",
            title="容積率（%）",
            aliases=("FAR", "A29_007", "yoseki_pct", Alias("floorAreaRate", 100), "容積率"),
        ),
        Col(
            "height_limit_m", "float", title="高さの限度（m）", aliases=("buildingHeightLimits",), null_values=(0, 0.0)
        ),
        Col(
            "wall_setback_m",
            "float",
            title="外壁の後退距離（m）",
            aliases=("wallSetbackDistance",),
            null_values=(0, 0.0),
        ),
        Col("decision_date", "date", title="決定日", aliases=("INDate", "validFrom"), null_values=("0001-01-01", "")),
        Col("custodian", title="決定者", aliases=("Custodian", "A29_008")),
        Col("notification_number", title="告示番号", aliases=("INNumber", "notificationNumber"), null_values=("-", "")),
    ),
    clean=clean_zoning,
    style={"by": "youto_name", "fillOpacity": 0.45, "weight": 1},
    big=True,
    cache_seconds=3600,
    lookup=Lookup("zones", "zoning", role="zoning"),
)
define_table(LAYER)
