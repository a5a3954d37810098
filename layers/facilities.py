"""Schools, 保育所, hospitals with beds, libraries, 特養, こども園 (the sites that widen the 1号区域) and 老健.

Real rows: hospitals (MHLW 医療情報ネット), 特養 and 老健 (MHLW 介護サービス情報公表), schools (only those on the
GSI 指定避難所 list, or a 国土数値情報 P29 import). Kinds with no real row stay as sample rows, flagged `sample`.
"""

from layers.base import Col, Layer, Lookup, define_table

# What widens the 特定建設作業 1号区域 (about 80 m around it): 学校教育法 §1 schools, 保育所, hospitals and clinics with
# beds, libraries, 特別養護老人ホーム and 幼保連携型認定こども園. 介護老人保健施設 is not on that list.
WIDENING_KINDS = (
    "幼稚園",
    "小学校",
    "中学校",
    "義務教育学校",
    "高等学校",
    "中等教育学校",
    "特別支援学校",
    "高等専門学校",
    "短期大学",
    "大学",
    "保育所",
    "図書館",
    "特別養護老人ホーム",
    "幼保連携型認定こども園",
)
BED_KINDS = ("病院", "診療所", "歯科診療所")  # widen only with beds
NOT_WIDENING = ("介護老人保健施設",)  # and 各種学校; hospitals and clinics without beds

LAYER = Layer(
    id="facilities",
    title="学校・保育所・病院・介護施設等",
    description=(
        "特定建設作業の第1号区域を広げる施設（学校・保育所・病床のある病院と診療所・図書館・特別養護老人ホーム・"
        "幼保連携型認定こども園）と、対象外の介護老人保健施設。実データのない種別はサンプル。"
    ),
    geom_type="POINT",
    label="name",
    place_names=True,
    columns=(
        Col("name", title="名称", required=True, aliases=("名称",), standard_name="名称"),
        Col("facility_type", title="種別", required=True, aliases=("種別",)),
        Col("beds", "int", title="病床数（合計）", aliases=("病床数",)),
        Col("address", title="所在地", aliases=("所在地", "住所"), standard_name="住所"),
        Col(
            "widens_1go",
            "bool",
            title="1号区域（80 m）を広げる施設か（病院・診療所は病床ありのとき。介護老人保健施設は対象外）",
        ),
        Col("facility_code", title="出典での番号（医療機関ID・事業所番号・共通ID・学校コード）"),
        Col("completeness", title="収録範囲（この種別が全件か一部か）"),
    ),
    style={"color": "#e7298a", "radius": 5},
    cache_seconds=3600,
    # The sites that widen the 特定建設作業 1号区域: within 80 m of the site (plus the answer's own uncertainty).
    lookup=Lookup("within", None, role="widening_facilities", radius_m=80, add_reach=True, where="t.widens_1go"),
)
define_table(LAYER)
