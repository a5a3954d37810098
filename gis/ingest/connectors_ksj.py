"""国土数値情報 connectors: A31 洪水浸水想定区域, A33 土砂災害警戒区域, P29 学校, P04 医療機関.

Attribute definitions used (国土数値情報 製品仕様書; cross-checked against public code that reads the files, since
nlftp.mlit.go.jp itself is not reachable from here):
- A31 (平成24年度, A31-12): A31_001 浸水深ランク: 11–15 the 5-step ranks (0〜0.5 / 0.5〜1.0 / 1.0〜2.0 / 2.0〜5.0 /
  5.0m以上), 21–27 the 7-step ranks (0〜0.5 / 0.5〜1.0 / 1.0〜2.0 / 2.0〜3.0 / 3.0〜4.0 / 4.0〜5.0 / 5.0m以上), both
  計画規模 (as read by the R package kokudosuuchi `read_landnuminfo_flood`).
- A31a (河川単位, 2023〜): per scenario file, A31a_101/201 河川ID, _102/_202 河川名, _103/_203 都道府県コード,
  _104/_204 都道府県名, _105/_205 浸水深ランク 1 0.5m未満, 2 0.5〜3.0m, 3 3.0〜5.0m, 4 5.0〜10.0m, 5 10.0〜20.0m,
  6 20.0m以上; 1xx 計画規模, 2xx 想定最大規模 (the 浸水深ランクコード table as documented in public A31a readers).
- A33: A33_001 現象の種類 (CodeOfPhenomenon) 1 急傾斜地の崩壊, 2 土石流, 3 地すべり; A33_002 区域区分 (CodeOfZoneH27)
  1 土砂災害警戒区域, 2 土砂災害特別警戒区域, 3 / 4 the same before designation (基礎調査の公表のみ); A33_003 都道府県
  コード, A33_004 区域番号, A33_005 区域名, A33_006 所在地, A33_007 公示日, A33_008 特別警戒未指定フラグ
  (CodeOfUnSpecification: 1 = the red zone is not yet designated).
- P29 (第2.0版, P29-21/23): P29_001 行政区域コード, P29_002 学校コード, P29_003 学校分類コード (SchoolClassCd 16001
  小学校 … 16014 義務教育学校), P29_004 名称, P29_005 所在地, P29_006 管理者コード, P29_007 休校区分.
- P04 (P04-14/20): P04_001 医療機関分類 1 病院, 2 診療所, 3 歯科診療所; P04_002 施設名称; P04_003 所在地;
  P04_008 病床数.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg

from gis.errors import ImportFailed
from gis.ingest.checks import Scope
from gis.ingest.connector_base import FileConnector, codes, points_to_cities, polygons_to_cities, require_codes, text

# -- A31 洪水浸水想定区域 --------------------------------------------------------------------------------------------
# code → (class as people read it, min m, max m); 2012 ranks keep their own classes (they are not the 2016 ones).
A31_2012 = {
    11: ("0.5m未満", 0.0, 0.5),
    12: ("0.5〜1.0m", 0.5, 1.0),
    13: ("1.0〜2.0m", 1.0, 2.0),
    14: ("2.0〜5.0m", 2.0, 5.0),
    15: ("5.0m以上", 5.0, None),
    21: ("0.5m未満", 0.0, 0.5),
    22: ("0.5〜1.0m", 0.5, 1.0),
    23: ("1.0〜2.0m", 1.0, 2.0),
    24: ("2.0〜3.0m", 2.0, 3.0),
    25: ("3.0〜4.0m", 3.0, 4.0),
    26: ("4.0〜5.0m", 4.0, 5.0),
    27: ("5.0m以上", 5.0, None),
}
A31_RANK = {
    1: ("0.5m未満", 0.0, 0.5),
    2: ("0.5〜3.0m", 0.5, 3.0),
    3: ("3.0〜5.0m", 3.0, 5.0),
    4: ("5.0〜10.0m", 5.0, 10.0),
    5: ("10.0〜20.0m", 10.0, 20.0),
    6: ("20.0m以上", 20.0, None),
}
SCENARIOS = {"1": "計画規模", "2": "想定最大規模"}


def _depths(rank: pd.Series, table: dict[int, tuple[str, float, float | None]]) -> dict[str, Any]:
    return {
        "depth_rank": rank,
        "depth_class": rank.map(lambda r: table[r][0]),
        "depth_min_m": rank.map(lambda r: table[r][1]),
        "depth_max_m": rank.map(lambda r: table[r][2]),
    }


def _a31(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    frame = polygons_to_cities(conn, frame, options.get("city"), report)
    if "A31_001" in frame.columns:
        rank = codes(frame["A31_001"])
        require_codes(rank, {k: v[0] for k, v in A31_2012.items()}, "浸水深ランク")
        cols = {**_depths(rank, A31_2012), "scenario": "計画規模", "edition": "A31-12"}
        scope = Scope("edition", ("A31-12",))
    else:
        s = "2" if "A31a_205" in frame.columns else "1"
        rank = codes(frame[f"A31a_{s}05"]).rename(f"A31a_{s}05")
        require_codes(rank, {k: v[0] for k, v in A31_RANK.items()}, "浸水深ランク")
        river_code = text(frame[f"A31a_{s}01"]) if f"A31a_{s}01" in frame.columns else pd.Series(None, frame.index)
        edition = "A31a 河川単位 " + river_code + " " + SCENARIOS[s]
        cols = {
            **_depths(rank, A31_RANK),
            "scenario": SCENARIOS[s],
            "edition": edition,
            "river_code": river_code,
            "river_name": text(frame[f"A31a_{s}02"]) if f"A31a_{s}02" in frame.columns else None,
        }
        if river_code.isna().any():
            raise ImportFailed(f"A31a_{s}01 (河川ID) is empty: a river-unit file names its river")
        # A river's file of one scenario replaces only that river's areas of that scenario.
        scope = Scope("edition", tuple(sorted(set(edition))))
        report.append(f"{SCENARIOS[s]}・河川ID {', '.join(sorted(set(river_code)))}")
    out = gpd.GeoDataFrame(cols, geometry=frame.geometry.values, crs=frame.crs, index=frame.index)
    out["city_code"] = frame["city_code"].values
    return out, scope


A31 = FileConnector(
    name="ksj_a31",
    title="国土数値情報 A31 洪水浸水想定区域",
    layer="flood_risk",
    required=frozenset(),
    accepts=lambda cols: "A31_001" in cols or bool({"A31a_105", "A31a_205"} & cols),
    convert=_a31,
)

# -- A33 土砂災害警戒区域 --------------------------------------------------------------------------------------------
A33_PHENOMENON = {1: "急傾斜地の崩壊", 2: "土石流", 3: "地すべり"}
A33_ZONE = {
    1: ("土砂災害警戒区域", True),
    2: ("土砂災害特別警戒区域", True),
    3: ("土砂災害警戒区域", False),
    4: ("土砂災害特別警戒区域", False),
}


def _a33(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    frame = polygons_to_cities(conn, frame, options.get("city"), report)
    phenomenon, zone = codes(frame["A33_001"]), codes(frame["A33_002"])
    require_codes(phenomenon, A33_PHENOMENON, "現象の種類")
    require_codes(zone, {k: v[0] for k, v in A33_ZONE.items()}, "区域区分")

    def opt(col: str) -> pd.Series | None:
        return text(frame[col]) if col in frame.columns else None

    pending = opt("A33_008")
    out = gpd.GeoDataFrame(
        {
            "phenomenon": phenomenon.map(A33_PHENOMENON),
            "zone_type": zone.map(lambda z: A33_ZONE[z][0]),
            "designated": zone.map(lambda z: A33_ZONE[z][1]),
            "zone_no": opt("A33_004"),
            "zone_name": opt("A33_005"),
            "location": opt("A33_006"),
            "notice_date": opt("A33_007"),
            "red_zone_pending": None if pending is None else pending.map(lambda v: None if v is None else v == "1"),
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
        index=frame.index,
    )
    out["city_code"] = frame["city_code"].values
    return out, None


A33 = FileConnector(
    name="ksj_a33",
    title="国土数値情報 A33 土砂災害警戒区域",
    layer="landslide_zones",
    required=frozenset({"A33_001", "A33_002"}),
    convert=_a33,
)

# -- P29 学校 -------------------------------------------------------------------------------------------------------
P29_CLASS = {
    16001: ("小学校", True),
    16002: ("中学校", True),
    16003: ("中等教育学校", True),
    16004: ("高等学校", True),
    16005: ("高等専門学校", True),
    16006: ("短期大学", True),
    16007: ("大学", True),
    16011: ("幼稚園", True),
    16012: ("特別支援学校", True),
    16013: ("幼保連携型認定こども園", True),
    16014: ("義務教育学校", True),
    16015: ("各種学校", False),  # not a 学校教育法 §1 school: not on the 1号区域 list
}


def _p29(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    cls = codes(frame["P29_003"])
    require_codes(cls, {k: v[0] for k, v in P29_CLASS.items()}, "学校分類")
    school_code = text(frame["P29_002"])
    out = gpd.GeoDataFrame(
        {
            "name": text(frame["P29_004"]),
            "facility_type": cls.map(lambda c: P29_CLASS[c][0]),
            "address": text(frame["P29_005"]) if "P29_005" in frame.columns else None,
            "widens_1go": cls.map(lambda c: P29_CLASS[c][1]),
            "facility_code": school_code,
            "completeness": "全件（国土数値情報 P29 学校）",
            "city_code": text(frame["P29_001"]).str[:5],
            "feature_key": "p29:" + school_code,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
        index=frame.index,
    )
    report.append(f"学校 {len(out):,} 件（P29_007 休校区分は読まない: 休校も1号区域の判定に残す）")
    return out, Scope("facility_type", tuple(dict.fromkeys(v[0] for v in P29_CLASS.values())))


P29 = FileConnector(
    name="ksj_p29",
    title="国土数値情報 P29 学校",
    layer="facilities",
    required=frozenset({"P29_001", "P29_002", "P29_003", "P29_004"}),
    convert=_p29,
)

# -- P04 医療機関 ---------------------------------------------------------------------------------------------------
P04_KIND = {1: "病院", 2: "診療所", 3: "歯科診療所"}


def _p04(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    frame = points_to_cities(conn, frame, options.get("city"), report)
    kind = codes(frame["P04_001"])
    require_codes(kind, P04_KIND, "医療機関分類")
    beds = pd.to_numeric(frame["P04_008"], errors="coerce") if "P04_008" in frame.columns else None
    beds = beds if beds is not None else pd.Series(float("nan"), index=frame.index)
    out = gpd.GeoDataFrame(
        {
            "name": text(frame["P04_002"]),
            "facility_type": kind.map(P04_KIND),
            "beds": beds.astype("Int64"),
            "address": text(frame["P04_003"]),
            "widens_1go": beds.fillna(0) > 0,
            "completeness": "全件（国土数値情報 P04 医療機関）",
            "city_code": frame["city_code"].values,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
        index=frame.index,
    )
    report.append(f"医療機関 {len(out):,} 件（病床あり {int(out['widens_1go'].sum()):,} 件が1号区域を広げる）")
    return out, Scope("facility_type", tuple(P04_KIND.values()))


P04 = FileConnector(
    name="ksj_p04",
    title="国土数値情報 P04 医療機関",
    layer="facilities",
    required=frozenset({"P04_001", "P04_002", "P04_003"}),
    convert=_p04,
)

KSJ_CONNECTORS = [A31, A33, P29, P04]
