"""Connectors for the national files staff receive, each mapped onto a layer through the one importer.

`CONNECTORS` lists them; `gis import FILE` picks the first whose `detect` accepts the file, `gis load` names one in a
manifest entry (`connector = "..."`). The GSI shelter and MHLW facility connectors live here, the 国土数値情報 ones
(A31, A33, P29, P04) in `connectors_ksj.py`.
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
from psycopg import sql

from gis.errors import ImportFailed
from gis.ingest.checks import Scope
from gis.ingest.connector_base import Connector, FileConnector, norm, text
from gis.ingest.connectors_ksj import KSJ_CONNECTORS
from layers.shelters import EMERGENCY, HAZARDS, SHELTER

# -- GSI 指定緊急避難場所・指定避難所 ------------------------------------------------------------------------------
# Columns of 国土地理院「指定緊急避難場所・指定避難所データ」: the national CSV download and the GeoJSON
# (mergeFromCity_1 / _2) share them; the CSV adds 緯度/経度, read by the reader as the point.
GSI_COMMON = frozenset({"共通ID", "施設・場所名", "住所"})
HAZARD_COLUMNS = [norm(label) for _, label in HAZARDS]
FROM_SOURCE = "原典（指定緊急避難場所の災害種別ごとの指定）"


def _gsi_base(frame: gpd.GeoDataFrame, kind: str, report: list[str]) -> gpd.GeoDataFrame:
    """Kind, 共通ID (whose digits 2–6 are the city code), name, address as compared (NFKC, no spaces)."""
    gsi_id = text(frame["共通ID"])
    if gsi_id.isna().any():
        raise ImportFailed(f"共通ID is empty in {int(gsi_id.isna().sum())} features")
    address = text(frame["住所"]).map(lambda v: None if v is None else re.sub(r"\s+", "", norm(v)))
    out = gpd.GeoDataFrame(
        {
            "kind": kind,
            "gsi_id": gsi_id,
            "name": text(frame["施設・場所名"]),
            "address": address,
            "city_code": gsi_id.str[1:6],
            "feature_key": gsi_id,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
        index=frame.index,
    )
    for col in ("受入対象者", "その他市町村長が必要と認める事項", "備考"):
        out[col] = text(frame[col]) if col in frame.columns else None
    report.append(f"{kind} {len(out):,} 件（共通IDの2〜6桁目で市を判定）")
    return out


def _emergency(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    out = _gsi_base(frame, EMERGENCY, report)
    for (col, _), source in zip(HAZARDS, HAZARD_COLUMNS, strict=True):
        out[col] = text(frame[source]).map(lambda v: v == "1")  # blank = not designated for that hazard
    out["same_address"] = text(frame["指定避難所との住所同一"]).map(lambda v: v == "1")
    out["hazard_flags_from"] = FROM_SOURCE
    return out, Scope("kind", (EMERGENCY,))


def _shelter(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    out = _gsi_base(frame, SHELTER, report)
    out["same_address"] = text(frame["指定緊急避難場所との住所同一"]).map(lambda v: v == "1")
    return out, Scope("kind", (SHELTER,))


def link_shelters(cur: psycopg.Cursor, cities: list[str], report: list[str]) -> None:
    """A 指定避難所 the source marks "same address as an emergency site" takes that site's hazard flags only when
    exactly one emergency site of its city has exactly the same (normalised) address; otherwise its flags stay
    unknown (NULL). Runs after either file is loaded, so the order of the two imports does not matter."""
    flags = [c for c, _ in HAZARDS]
    reset = sql.SQL(", ").join(sql.SQL("{} = NULL").format(sql.Identifier(c)) for c in flags)
    cur.execute(
        sql.SQL(
            "UPDATE shelters SET {reset}, linked_id = NULL, hazard_flags_from = CASE WHEN same_address "
            "THEN '不明（住所同一とされるが、住所が完全に一致する指定緊急避難場所が1件に定まらない）' "
            "ELSE '不明（指定緊急避難場所と住所同一でない）' END WHERE kind = %s AND city_code = ANY(%s)"
        ).format(reset=reset),
        (SHELTER, cities),
    )
    copy = sql.SQL(", ").join(sql.SQL("{c} = e.{c}").format(c=sql.Identifier(c)) for c in flags)
    pick = sql.SQL(", ").join(sql.SQL("bool_and({c}) AS {c}").format(c=sql.Identifier(c)) for c in flags)
    cur.execute(
        sql.SQL(
            "WITH e AS (SELECT city_code, address, min(gsi_id) AS gsi_id, {pick} FROM shelters "
            "WHERE kind = %s AND address IS NOT NULL AND city_code = ANY(%s) GROUP BY city_code, address "
            "HAVING count(*) = 1) "
            "UPDATE shelters s SET {copy}, linked_id = e.gsi_id, "
            "hazard_flags_from = '同一住所の指定緊急避難場所（住所の完全一致が1件）の指定を写した' "
            "FROM e WHERE s.kind = %s AND s.same_address AND s.city_code = e.city_code AND s.address = e.address"
        ).format(pick=pick, copy=copy),
        (EMERGENCY, cities, SHELTER),
    )
    report.append(f"指定避難所 {cur.rowcount:,} 件に、住所が完全に一致する指定緊急避難場所の災害種別を写した")


GSI_EMERGENCY = FileConnector(
    name="gsi_emergency_sites",
    title="国土地理院 指定緊急避難場所データ（CSV・GeoJSON）",
    layer="shelters",
    required=GSI_COMMON | {norm(c) for c in HAZARD_COLUMNS} | {"指定避難所との住所同一"},
    convert=_emergency,
    after=link_shelters,
)
GSI_SHELTERS = FileConnector(
    name="gsi_designated_shelters",
    title="国土地理院 指定避難所データ（CSV・GeoJSON）",
    layer="shelters",
    required=GSI_COMMON | {"指定緊急避難場所との住所同一"},
    convert=_shelter,
    after=link_shelters,
)

# -- Schools on the GSI 指定避難所 list (the only real school points for the two cities) ---------------------------
SCHOOL_NAME = re.compile(r"(小学校|中学校|義務教育学校|高等学校|中等教育学校|特別支援学校|幼稚園)")
PARTIAL_SCHOOLS = "一部（指定避難所に指定された学校のみ。国土数値情報 P29 の取込で全件に置き換わる）"


def _shelter_schools(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    names = text(frame["施設・場所名"])
    kind = names.map(lambda v: None if v is None or v.startswith("旧") else (SCHOOL_NAME.search(v) or [None])[0])
    rows = frame[kind.notna()]
    gsi_id = text(rows["共通ID"])
    out = gpd.GeoDataFrame(
        {
            # The school's name without the building part the list names (体育館, 校舎).
            "name": names[kind.notna()].str.replace(r"(体育館|校舎)$", "", regex=True),
            "facility_type": kind[kind.notna()],
            "address": text(rows["住所"]),
            "widens_1go": True,
            "facility_code": gsi_id,
            "completeness": PARTIAL_SCHOOLS,
            "city_code": gsi_id.str[1:6],
            "feature_key": "gsi:" + gsi_id,
        },
        geometry=rows.geometry.values,
        crs=frame.crs,
    )
    report.append(f"指定避難所の一覧から学校 {len(out):,} 件（名称で判定、旧校は除外）: 学校の一部のみ")
    # Only the kinds found (the sample 高等学校 stay): a partial list replaces no kind it does not hold.
    return out, Scope("facility_type", tuple(sorted(set(out["facility_type"]))))


GSI_SCHOOLS = FileConnector(
    name="gsi_shelter_schools",
    title="国土地理院 指定避難所データのうち学校（施設 facilities へ）",
    layer="facilities",
    required=GSI_COMMON | {"指定緊急避難場所との住所同一"},
    convert=_shelter_schools,
    detectable=False,  # the same file is detected as shelters; this one is named in the manifest
)

# -- MHLW 医療情報ネット 病院・診療所 施設票 ------------------------------------------------------------------------
MHLW_KIND = {1: "病院", 2: "診療所", 3: "歯科診療所"}  # 機関区分
BED_COLUMNS = ("一般病床", "療養病床", "精神病床", "結核病床", "感染症病床")


def _mhlw_medical(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    kinds = pd.to_numeric(frame["機関区分"], errors="coerce").map(MHLW_KIND)
    if kinds.isna().any():
        bad = frame["機関区分"][kinds.isna()].iloc[0]
        raise ImportFailed(f"機関区分: unknown code {bad} (1 病院, 2 診療所, 3 歯科診療所)")
    beds = pd.to_numeric(frame["合計病床数"], errors="coerce")
    parts = [pd.to_numeric(frame[c], errors="coerce") for c in BED_COLUMNS if c in frame.columns]
    if parts:
        summed = sum(p.fillna(0) for p in parts)
        beds = beds.fillna(summed.where(summed > 0))
    pref = text(frame["都道府県コード"]).str.zfill(2)
    city = pref + text(frame["市区町村コード"]).str.zfill(3)
    name = text(frame["略称"]) if "略称" in frame.columns else None
    name = name.fillna(text(frame["正式名称"])) if name is not None else text(frame["正式名称"])
    complete = "病院は全件（医療情報ネット）。診療所は未収録"
    out = gpd.GeoDataFrame(
        {
            "name": name,
            "facility_type": kinds,
            "beds": beds.astype("Int64"),
            "address": text(frame["所在地"]),
            # 騒音規制法: hospitals and clinics with beds (患者を入院させるための施設) widen the 1号区域.
            "widens_1go": beds.fillna(0) > 0,
            "facility_code": text(frame["ID"]),
            "completeness": complete,
            "city_code": city,
            "feature_key": "mhlw:" + text(frame["ID"]),
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
        index=frame.index,
    )
    report.append(f"医療機関 {len(out):,} 件（病床あり {int((out['widens_1go']).sum()):,} 件が1号区域を広げる）")
    # A 病院 file replaces the hospitals only (the sample clinics stay until a 診療所 file comes).
    return out, Scope("facility_type", tuple(sorted(set(kinds))))


MHLW_MEDICAL = FileConnector(
    name="mhlw_medical",
    title="厚生労働省 医療情報ネット 施設票（病院・診療所）",
    layer="facilities",
    required=frozenset({"ID", "正式名称", "機関区分", "市区町村コード", "都道府県コード", "所在地", "合計病床数"}),
    convert=_mhlw_medical,
)

# -- MHLW 介護サービス情報公表システム 事業所（特養・老健） -----------------------------------------------------------
CARE_KIND = {
    "介護老人福祉施設": ("特別養護老人ホーム", True),
    "地域密着型介護老人福祉施設入所者生活介護": ("特別養護老人ホーム", True),
    # 介護老人保健施設 is not on the 1号区域 list (騒音規制法施行規則 別表): it does not widen it.
    "介護老人保健施設": ("介護老人保健施設", False),
}


def _mhlw_care(conn: psycopg.Connection, frame: gpd.GeoDataFrame, options: dict[str, Any], report: list[str]):  # noqa: ANN202
    service = text(frame["サービスの種類"])
    unknown = sorted(set(service.dropna()) - set(CARE_KIND))
    if unknown:
        raise ImportFailed(f"サービスの種類: '{unknown[0]}' is not one this connector takes ({', '.join(CARE_KIND)})")
    code = text(frame["都道府県コード又は市町村コード"]).str[:5]
    out = gpd.GeoDataFrame(
        {
            "name": text(frame["事業所名"]).str.replace("\u3000", " "),
            "facility_type": service.map(lambda s: CARE_KIND[s][0]),
            "address": text(frame["住所"]),
            "widens_1go": service.map(lambda s: CARE_KIND[s][1]),
            "facility_code": text(frame["事業所番号"]),
            "completeness": "特養・老健は全件（介護サービス情報公表システム）",
            "city_code": code,
            "feature_key": "kaigo:" + text(frame["事業所番号"]),
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
        index=frame.index,
    )
    report.append(f"介護施設 {len(out):,} 件（特別養護老人ホームは1号区域を広げ、介護老人保健施設は広げない）")
    return out, Scope("facility_type", ("特別養護老人ホーム", "介護老人保健施設"))


MHLW_CARE = FileConnector(
    name="mhlw_care",
    title="厚生労働省 介護サービス情報公表システム 事業所（特養・老健）",
    layer="facilities",
    required=frozenset({"事業所番号", "事業所名", "サービスの種類", "都道府県コード又は市町村コード", "住所"}),
    convert=_mhlw_care,
)

CONNECTORS: list[Connector] = [GSI_EMERGENCY, GSI_SHELTERS, MHLW_MEDICAL, MHLW_CARE, *KSJ_CONNECTORS, GSI_SCHOOLS]


def by_name(name: str, extra: list[Connector] | None = None) -> Connector:
    """The connector of that name; ImportFailed listing the names when there is none."""
    for c in [*CONNECTORS, *(extra or [])]:
        if c.name == name:
            return c
    raise ImportFailed(f"unknown connector '{name}' (known: {', '.join(c.name for c in CONNECTORS)})")
