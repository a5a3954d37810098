"""The shared shape of the 騒音/振動 規制地域 layers, derived from 用途地域 through zone_rules."""

from layers.base import Col, Layer, Lookup, define_table


def regulation_layer(layer_id: str, title: str, classes: str, role: str) -> Layer:
    """Declare (and register the table of) one derived regulation layer."""
    layer = Layer(
        id=layer_id,
        title=title,
        description=f"{title.removesuffix('地域')}法の地域区分（{classes}）。用途地域から市の告示の対応表で導出"
        "（導出データ、要確認）。",
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
        lookup=Lookup("zones", role, role=role),
    )
    define_table(layer)
    return layer
