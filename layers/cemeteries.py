"""Cemeteries: 経営主体 and the contact route; individual managers live in the private schema."""

from layers.base import Col, Layer, Lookup, define_table

LAYER = Layer(
    id="cemeteries",
    title="墓地",
    description="墓地（経営主体区分・経営者名称・連絡窓口）。個人の管理者情報は公開しない。",
    geom_type="POINT",
    label="name",
    place_names=True,
    columns=(
        Col("name", title="名称", required=True, aliases=("名称",), standard_name="名称"),
        Col("kind", title="種別", aliases=("種別",)),
        Col("operator_type", title="経営主体区分", aliases=("経営主体区分",)),
        Col("operator_name", title="経営者名称（団体）", aliases=("経営者名称",)),
        Col("contact", title="連絡窓口", aliases=("連絡窓口",)),
        Col("address", title="所在地", aliases=("所在地",), standard_name="住所"),
        Col("area_m2", "float", title="面積（m²）", aliases=("面積",)),
        Col("plots", "int", title="区画数", aliases=("区画数",)),
        Col("permit_date", "date", title="許可年月日", aliases=("許可年月日",)),
        Col("note", title="備考", aliases=("備考",), standard_name="備考"),
        # 管理者 (a natural person, 墓埋法 §12): import accepts it, storage moves it to private.
        Col("manager_name", title="管理者氏名（非公開）", public=False, aliases=("管理者", "管理者氏名")),
        Col("manager_address", title="管理者住所（非公開）", public=False, aliases=("管理者住所",)),
    ),
    private_table="cemetery_managers",
    private_key="cemetery_id",
    style={"color": "#636363", "radius": 5},
    cache_seconds=3600,
    lookup=Lookup("within", "cemeteries", key="within_500m", radius_m=500),
)
define_table(LAYER)
