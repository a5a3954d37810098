"""Cemeteries (墓地台帳): 名称 and its reading, 経営主体, the contact route, permit, size, ledger status, data date.

The natural persons behind a cemetery (a 管理者 under 墓埋法 §12, or the operator of a 個人 cemetery) live in the
private schema only: an import moves a 個人 row's 経営者名称 there and gives the row the city's counter as its
contact, and the table refuses a 個人 row that names its operator (migration 0014).
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from layers.base import Col, Layer, Lookup, define_table

# 経営主体区分 as the ledger writes it, and the spellings an import may bring.
OPERATOR_TYPES = ("地方公共団体", "宗教法人", "公益法人", "個人", "共同墓地（集落）")
INDIVIDUAL = "個人"
_OPERATOR_SPELLINGS = {
    "地方公共団体": ("市", "町", "村", "県", "市町村", "市営", "公営", "自治体"),
    "宗教法人": ("寺", "寺院", "神社", "教会", "宗教法人（寺院）"),
    "公益法人": ("公益財団法人", "公益社団法人", "財団法人", "社団法人"),
    "個人": ("個人墓地", "個人経営"),
    "共同墓地（集落）": ("共同墓地", "集落", "集落墓地", "地元", "地元管理", "区", "みなし墓地", "共同墓地(集落)"),
}
# 確認状況: on the ledger, found by the 宗教法人/区長 survey, or not confirmed yet.
STATUSES = ("台帳記載", "調査で確認", "未確認")
# The city's counter for cemeteries (data/rules/city_contacts.toml: the 墓地 topic's department and the main
# number, which routes the call); tests/test_cemeteries.py keeps the two in step.
CITY_COUNTER = {
    "41205": "伊万里市役所 環境担当課（代表 0955-23-2111）",
    "41206": "武雄市役所 環境担当課（代表 0954-23-9111）",
}


def _norm(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def operator_type(value: object) -> str | None:
    """The ledger's 経営主体区分 for a written one (市 → 地方公共団体, 集落 → 共同墓地（集落）); others as given."""
    text = _norm(value)
    if text is None:
        return None
    for canonical, spellings in _OPERATOR_SPELLINGS.items():
        if text == unicodedata.normalize("NFKC", canonical) or text in spellings:
            return canonical
    return text


def clean_ledger(frame: pd.DataFrame, report: list[str]) -> pd.DataFrame:
    """Ledger spellings made one; a 個人 operator's name moved to the private 管理者 and the city as contact."""
    frame = frame.copy()
    for name in ("operator_type", "operator_name", "contact", "status", "ledger_listed", "manager_name"):
        if name not in frame.columns:  # a staff edit may carry only some columns
            frame[name] = None
    frame["operator_type"] = frame["operator_type"].map(operator_type).astype(object)
    unknown = sorted({v for v in frame["operator_type"].dropna() if v not in OPERATOR_TYPES})
    if unknown:
        report.append(f"経営主体区分の想定外の値（そのまま取り込み）: {', '.join(unknown[:5])}")
    status = frame["status"].map(_norm)
    listed = frame["ledger_listed"]
    # 台帳記載の有無 not given: a row whose 確認状況 is 台帳記載 is on the ledger, one found by the survey is not.
    frame["ledger_listed"] = listed.where(listed.notna(), status.map({"台帳記載": True, "調査で確認": False}))
    frame["ledger_listed"] = frame["ledger_listed"].astype(object).where(frame["ledger_listed"].notna(), None)
    individual = frame["operator_type"] == INDIVIDUAL
    named = individual & frame["operator_name"].notna()
    if named.any():
        keep = frame["manager_name"].isna() & named
        frame.loc[keep, "manager_name"] = frame.loc[keep, "operator_name"]
        frame.loc[named, "operator_name"] = None
        report.append(f"個人経営の {int(named.sum())} 件: 経営者名称を非公開の管理者欄へ移した（公開しない）")
    if individual.any():
        frame.loc[individual, "contact"] = frame.loc[individual, "city_code"].map(CITY_COUNTER)
    no_contact = frame["contact"].isna() & frame["city_code"].isin(list(CITY_COUNTER))
    frame.loc[no_contact, "contact"] = frame.loc[no_contact, "city_code"].map(CITY_COUNTER)
    return frame


LAYER = Layer(
    id="cemeteries",
    title="墓地",
    description=(
        "墓地台帳（名称・読み・所在地・経営主体区分・経営者名称（団体のみ）・経営許可年月日・区画数・面積・"
        "台帳記載の有無・確認状況・連絡窓口）。個人の経営者・管理者の情報は公開しない。"
    ),
    geom_type="POINT",
    label="name",
    place_names=True,
    columns=(
        Col("name", title="名称", required=True, aliases=("名称", "墓地名称", "墓地名"), standard_name="名称"),
        Col(
            "name_kana",
            title="名称_カナ",
            aliases=("名称_カナ", "名称カナ", "フリガナ", "読み"),
            standard_name="名称_カナ",
        ),
        Col("kind", title="種別", aliases=("種別",)),
        Col("operator_type", title="経営主体区分", aliases=("経営主体区分", "経営主体")),
        Col("operator_name", title="経営者名称（団体）", aliases=("経営者名称", "経営者")),
        Col("contact", title="連絡窓口", aliases=("連絡窓口", "問合せ先")),
        Col("address", title="所在地", aliases=("所在地",), standard_name="住所"),
        Col("area_m2", "float", title="面積（m²）", aliases=("面積", "面積（m²）", "面積_m2")),
        Col("plots", "int", title="区画数", aliases=("区画数",)),
        Col("permit_date", "date", title="経営許可年月日", aliases=("経営許可年月日", "許可年月日")),
        Col("ledger_listed", "bool", title="台帳記載の有無", aliases=("台帳記載の有無", "台帳記載")),
        Col("status", title="確認状況", aliases=("確認状況",)),
        Col("data_date", "date", title="データ時点", aliases=("データ時点", "時点")),
        Col("note", title="備考", aliases=("備考",), standard_name="備考"),
        # 管理者 (a natural person, 墓埋法 §12): import accepts it, storage moves it to private.
        Col("manager_name", title="管理者氏名（非公開）", public=False, aliases=("管理者", "管理者氏名")),
        Col("manager_address", title="管理者住所（非公開）", public=False, aliases=("管理者住所",)),
    ),
    clean=clean_ledger,
    private_table="cemetery_managers",
    private_key="cemetery_id",
    style={"color": "#636363", "radius": 5},
    cache_seconds=3600,
    lookup=Lookup("within", "cemeteries", key="within_500m", radius_m=500, limit=5),
)
define_table(LAYER)
