"""Farmland parcels in the MAFF 筆ポリゴン schema plus a public summary of the linked 農地台帳 items (農地法 §52の3).

The MAFF columns come from the polygon file; every other column is written by the farmland refresh
(gis/farmland/refresh.py) from the linked ledger records and the latest crop, never imported. Names of owners,
cultivators and lessees are not here: they stay with the ledger in the private schema.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from layers.base import Col, Layer, Lookup, define_table

LAND_TYPE_NAMES = {100: "田", 200: "畑"}

# Written by the refresh from the ledger and crops (a polygon file's values for these are ignored).
SUMMARY_COLUMNS = (
    "oaza", "chiban", "area_m2", "noushin_kubun", "toshi_kubun", "lend_intention", "intention", "cultivator_no",
    "lease_type", "lease_end", "chukan_kanri", "idle_measure", "data_date", "crop", "crop_year", "crop_date",
    "ledger_count", "link_confidence", "available_from", "urbanised",
)  # fmt: skip


def _clean(frame: Any, report: list[str]) -> Any:
    """MAFF 筆ポリゴン rows: the land type's name derived from land_type (100 田, 200 畑); summary columns cleared."""
    frame = frame.copy()
    bad = frame["land_type"].notna() & ~frame["land_type"].isin(list(LAND_TYPE_NAMES))
    if bad.any():
        report.append(f"耕地種類が 100・200 以外の {int(bad.sum())} 件（地目名は空欄）")
    frame["land_type_name"] = frame["land_type"].map(LAND_TYPE_NAMES)
    for name in SUMMARY_COLUMNS:
        frame[name] = None
    return frame


LAYER = Layer(
    id="farmland",
    title="農地（筆ポリゴン）",
    description=(
        "農地の区画（農林水産省 筆ポリゴン形式）と、対応づけた農地台帳の公開項目の要約（項目ごとの時点つき）。"
        "所有者・耕作者・借受者の氏名は公開しない。市街化区域の農地は台帳項目を公開しない。"
    ),
    geom_type="MULTIPOLYGON",
    label="chiban",
    columns=(
        Col("polygon_uuid", title="ポリゴンUUID", required=True),
        Col("land_type", "int", title="耕地種類（100 田, 200 畑）", required=True),
        Col("land_type_name", title="地目（田・畑）"),
        Col("issue_year", "int", title="公開年度"),
        Col("edit_year", "int", title="作成・更新年度"),
        Col("history", title="履歴（JSON）"),
        Col("last_polygon_uuid", title="前年のポリゴンUUID"),
        Col("prev_last_polygon_uuid", title="前々年のポリゴンUUID"),
        Col("local_government_cd", title="地方公共団体コード（重心）"),
        Col("point_lng", "float", title="重心経度"),
        Col("point_lat", "float", title="重心緯度"),
        Col("oaza", title="所在（大字）"),
        Col("chiban", title="地番（対応する台帳筆、読点区切り）"),
        Col("area_m2", "float", title="面積（対応する台帳筆の登記面積の合計, m²）"),
        Col("noushin_kubun", title="農振法の区分"),
        Col("toshi_kubun", title="都市計画法の区分"),
        Col("lend_intention", title="貸付・売渡の意向（貸付希望・売渡希望, 同意があるもののみ）"),
        Col("intention", title="意向（lend 貸したい, sell 売りたい）"),
        Col("cultivator_no", title="耕作者整理番号"),
        Col("lease_type", title="権利の種類"),
        Col("lease_end", "date", title="存続期間の満了日"),
        Col("chukan_kanri", "bool", title="中間管理権の有無"),
        Col("idle_measure", title="遊休農地の措置"),
        Col("data_date", "date", title="台帳の時点（所在・地目・面積）"),
        Col("crop", title="作物（直近の作期）"),
        Col("crop_year", "int", title="作付の年"),
        Col("crop_date", "date", title="作付の時点"),
        Col("ledger_count", "int", title="対応する台帳筆の数", default=0),
        Col("link_confidence", "float", title="対応の確からしさ（0〜1, 最小値）"),
        Col("available_from", "date", title="利用可能日（空欄は現在）"),
        Col("urbanised", "bool", title="市街化区域内", default=False),
    ),
    clean=_clean,
    style={"by": "land_type_name", "fillOpacity": 0.5, "weight": 0.5},
    # Below z14 a tile would hold thousands of parcels of a few pixels each (1.7 MB at z12 on 200k parcels).
    min_zoom=14,
    big=True,
    cache_seconds=3600,
    # Polygons changed: relink the ledger records and rewrite the public summary columns.
    after_write="gis.farmland.polygons:after_write",
    lookup=Lookup("parcels", "farmland", key="parcels", radius_m=50, limit=20),
    # MAFF draws the 筆ポリゴン on aerial and satellite imagery (metre-level): 6 decimals (about 10 cm) keep all of
    # it, and a page of 1,000 parcels is 4 % smaller than with 7 (README "What a feature leaves out").
    degree_decimals=6,
    # What the map draws and its popup shows; the MAFF bookkeeping (uuids, years, history) and the ledger details
    # come with the parcel sheet (/farmland/parcels/{id}). A z15 tile is 40 % smaller without them.
    tile_columns=(
        "land_type",
        "land_type_name",
        "oaza",
        "chiban",
        "area_m2",
        "intention",
        "lend_intention",
        "available_from",
        "data_date",
        "crop",
        "crop_year",
        "crop_date",
        "ledger_count",
        "urbanised",
    ),  # fmt: skip
)
TABLE = define_table(LAYER)
if "ix_farmland_land_type" not in {i.name for i in TABLE.indexes}:
    # The browse filters (gis/farmland/browse.py): city and 大字, land type, intention, area.
    sa.Index("ix_farmland_oaza", TABLE.c.city_code, TABLE.c.oaza)
    sa.Index("ix_farmland_land_type", TABLE.c.land_type)
    sa.Index("ix_farmland_intention", TABLE.c.intention)
    sa.Index("ix_farmland_area_m2", TABLE.c.area_m2)
