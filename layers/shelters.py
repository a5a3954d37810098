"""Shelters (国土地理院 指定緊急避難場所・指定避難所): both kinds, with the per-hazard designation of sites."""

from layers.base import Col, Layer, Lookup, define_table

EMERGENCY = "指定緊急避難場所"
SHELTER = "指定避難所"
# (column, the GSI column name = the hazard as people read it). "1" in the source = designated for that hazard.
HAZARDS = (
    ("flood", "洪水"),
    ("landslide", "崖崩れ、土石流及び地滑り"),
    ("storm_surge", "高潮"),
    ("earthquake", "地震"),
    ("tsunami", "津波"),
    ("large_fire", "大規模な火事"),
    ("inland_flood", "内水氾濫"),
    ("volcano", "火山現象"),
)
FLAG_NOTE = "（指定緊急避難場所は原典の指定。指定避難所は同一住所の指定緊急避難場所の指定を写したもの、空欄は不明）"

LAYER = Layer(
    id="shelters",
    title="指定緊急避難場所・指定避難所",
    description=(
        "国土地理院「指定緊急避難場所・指定避難所データ」（市町村の届出をまとめたもの）。指定緊急避難場所は災害の種類"
        "ごとに指定され（洪水・土砂・地震・津波など）、その災害に指定された場所だけが避難先になる。指定避難所は"
        "避難生活を送る施設。"
    ),
    geom_type="POINT",
    label="name",
    place_names=True,
    columns=(
        Col("kind", title="種別（指定緊急避難場所／指定避難所）", required=True),
        Col("gsi_id", title="共通ID（国土地理院）", aliases=("共通ID",)),
        Col("name", title="施設・場所名", required=True, aliases=("施設・場所名", "名称"), standard_name="名称"),
        Col("address", title="住所", aliases=("住所",), standard_name="住所"),
        *(Col(c, "bool", title=f"{label}{FLAG_NOTE}", aliases=(label,)) for c, label in HAZARDS),
        Col("hazard_flags_from", title="災害種別の指定の出典"),
        Col(
            "same_address",
            "bool",
            title="他方の指定と住所同一（原典の値）",
            aliases=("指定緊急避難場所との住所同一", "指定避難所との住所同一"),
        ),
        Col("linked_id", title="災害種別を写した同一住所の指定緊急避難場所（共通ID）"),
        Col("accepts", title="受入対象者", aliases=("受入対象者",)),
        Col("other_info", title="その他市町村長が必要と認める事項", aliases=("その他市町村長が必要と認める事項",)),
        Col("note", title="備考", aliases=("備考",), standard_name="備考"),
    ),
    style={"color": "#2e7d32", "radius": 6},
    min_zoom=9,
    cache_seconds=3600,
    # The nearest sites per need, each row tagged with its group: emergency sites designated for floods and for
    # landslides (the report shows the latter only inside a 土砂 zone), and 指定避難所 not known to be unfit for floods.
    lookup=Lookup(
        "nearest",
        "shelters",
        role="shelters",
        key="nearest",
        count=3,
        per=(
            ("flood", f"t.kind = '{EMERGENCY}' AND t.flood"),
            ("landslide", f"t.kind = '{EMERGENCY}' AND t.landslide"),
            ("shelter", f"t.kind = '{SHELTER}' AND t.flood IS NOT FALSE"),
        ),
    ),
)
define_table(LAYER)
