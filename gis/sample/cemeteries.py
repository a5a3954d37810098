"""Sample cemeteries (墓地台帳): points near town points with the ledger items, and a ledger CSV for staff uploads.

The positions and the first attributes are drawn exactly as before the ledger items existed (the farmland sample
keeps clear of these points, so moving them would move every parcel); the ledger items are drawn afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry import Point

from gis.garbage.kana import readings
from gis.sample.common import (
    CITY_NAMES,
    IMARI,
    PREFIX,
    TAKEO,
    Inputs,
    Town,
    fake_name,
    feature,
    iso_date,
    lonlat_of,
    point_near,
)
from layers.cemeteries import CITY_COUNTER

# Draw kinds (the generator's own, fixed: they decide the draws) → the ledger's 経営主体区分.
_MIX: dict[str, dict[str, int]] = {
    IMARI: {"市": 3, "宗教法人": 7, "公益法人": 1, "地元": 6},
    TAKEO: {"市": 2, "宗教法人": 5, "公益法人": 1, "地元": 5},
}
_KIND = {"市": "公営墓地", "宗教法人": "寺院墓地", "公益法人": "共同墓地", "地元": "共同墓地"}
# (min m², max m², m² per plot)
_SIZE = {
    "市": (4000, 20000, 9.0),
    "宗教法人": (300, 3000, 6.0),
    "公益法人": (2000, 8000, 8.0),
    "地元": (150, 1500, 7.0),
}
LEDGER_DATE = "2026-03-31"  # the date the (sample) ledger was last brought up to date
SURVEY_DATE = "2026-11-20"  # the date of the (sample) survey of 宗教法人 and 区長
UPLOAD_DATE = "2026-12-01"  # the ledger CSV staff upload: the survey's findings written into the ledger
LEDGER_COLUMNS = (
    "ID",
    "全国地方公共団体コード",
    "名称",
    "名称_カナ",
    "所在地",
    "緯度",
    "経度",
    "種別",
    "経営主体区分",
    "経営者名称",
    "経営許可年月日",
    "区画数",
    "面積",
    "台帳記載の有無",
    "確認状況",
    "連絡窓口",
    "管理者氏名",
    "管理者住所",
    "データ時点",
    "備考",
    "sample",
)
_LG_CODE = {IMARI: "412058", TAKEO: "412066"}


@dataclass
class _Drawn:
    """One cemetery as the first pass drew it."""

    city: str
    town: Town
    draw: str
    lonlat: tuple[float, float]
    area: float
    plots: int
    permit: str | None
    person: tuple[str, str] | None


def _fake_person(rng: np.random.Generator) -> tuple[str, str]:
    """An obviously fake 管理者 name and address, both marked 見本."""
    name = fake_name(rng)
    address = f"佐賀県見本市見本町{int(rng.integers(1, 30))}-{int(rng.integers(1, 20))}"
    return name, address


def kana(name: str) -> str:
    """The katakana reading of a name (without the sample prefix), by pykakasi."""
    hira = readings(name.removeprefix(PREFIX))[0] or ""
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in hira)


def _draw(inputs: Inputs, rng: np.random.Generator) -> list[_Drawn]:
    """Positions, sizes, permits and 管理者 in the original order of draws."""
    out = []
    for city in (IMARI, TAKEO):
        land = inputs.land_m[city].buffer(-5)
        towns = [t for t in inputs.city_towns(city) if not t.koaza]
        kinds = [k for k, n in _MIX[city].items() for _ in range(n)]
        picks = rng.choice(len(towns), size=len(kinds), replace=False)
        for draw, ti in zip(kinds, picks, strict=True):
            town = towns[int(ti)]
            p: Point = point_near(rng, town.x, town.y, 50, 400, land)
            lo, hi, per_plot = _SIZE[draw]
            area = round(float(rng.uniform(lo, hi)), -1)
            plots = int(area / per_plot * rng.uniform(0.7, 1.0))
            permit, person = None, None
            if draw == "市":
                permit = iso_date(rng, 1965, 1999)
            elif draw == "宗教法人":
                permit = iso_date(rng, 1955, 2015)
                person = _fake_person(rng)
            elif draw == "公益法人":
                permit = iso_date(rng, 1985, 2010)
                person = _fake_person(rng)
            out.append(_Drawn(city, town, draw, lonlat_of(p.x, p.y), area, plots, permit, person))
    return out


def _props(d: _Drawn, local: int, rng: np.random.Generator) -> dict[str, Any]:
    """The ledger items of one cemetery; `local` numbers the 地元 (集落) cemeteries of its city."""
    city_name, town = CITY_NAMES[d.city], d.town
    listed, status, data_date = True, "台帳記載", LEDGER_DATE
    operator_name: str | None
    manager_name = manager_address = None
    if d.person:
        manager_name, manager_address = d.person
    if d.draw == "市":
        name = f"{PREFIX}{city_name}営{town.short}墓地"
        operator_type, operator_name, contact = "地方公共団体", city_name, CITY_COUNTER[d.city]
        note = "市営墓地。使用許可の申込みは市の担当課へ"
    elif d.draw == "宗教法人":
        temple = f"{town.short}寺"
        name = f"{PREFIX}{temple}墓地"
        operator_type, operator_name = "宗教法人", f"{PREFIX}宗教法人{temple}"
        contact = f"{operator_name} 寺務所"
        note = "寺院境内墓地。区画の問合せは寺務所へ"
    elif d.draw == "公益法人":
        name = f"{PREFIX}{town.short}霊園"
        operator_type, operator_name = "公益法人", f"{PREFIX}公益財団法人{city_name}墓地公園協会"
        contact = f"{operator_name} 事務局"
        note = "公益法人が経営する墓地"
    elif local < 2:
        # An individual's cemetery: the person is private; the public contact is the city's counter.
        name = f"{PREFIX}{town.short}個人墓地"
        operator_type, operator_name, contact = "個人", None, CITY_COUNTER[d.city]
        manager_name, manager_address = _fake_person(rng)
        note = "個人が経営する墓地。経営者の情報は公開していません。問合せは市の担当課へ"
    else:
        name = f"{PREFIX}{town.short}共同墓地"
        operator_type, operator_name, contact = "共同墓地（集落）", f"{PREFIX}{town.short}区", CITY_COUNTER[d.city]
        note = "集落の共同墓地（墓地埋葬法施行前からのみなし墓地）。地元の区が管理。問合せは市の担当課へ"
    if d.draw == "地元":
        # The survey of 宗教法人 and 区長 finds cemeteries the ledger misses; one report is not confirmed yet.
        if local in (1, 2):
            listed, status, data_date = False, "調査で確認", SURVEY_DATE
        elif local == 3:
            listed, status, data_date = False, "未確認", SURVEY_DATE
    return {
        "ID": "",  # numbered once sorted
        "name": name,
        "name_kana": kana(name),
        "kind": _KIND[d.draw] if operator_type != "個人" else "個人墓地",
        "operator_type": operator_type,
        "operator_name": operator_name,
        "contact": contact,
        "address": town.address,
        "area_m2": d.area,
        "plots": d.plots,
        "permit_date": d.permit,
        "ledger_listed": listed,
        "status": status,
        "data_date": data_date,
        "note": "サンプルデータ（実在しない）。" + note,
        "manager_name": manager_name,
        "manager_address": manager_address,
        "sample": True,
        "city_code": d.city,
    }


def cemeteries(inputs: Inputs, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Sample cemetery features for both cities, sorted by city and name, numbered C41205-001 … per city."""
    drawn = _draw(inputs, rng)
    local = {IMARI: 0, TAKEO: 0}
    out = []
    for d in drawn:
        props = _props(d, local[d.city], rng)
        if d.draw == "地元":
            local[d.city] += 1
        out.append(feature(props, Point(*d.lonlat)))
    out.sort(key=lambda f: (f["properties"]["city_code"], f["properties"]["name"]))
    for city in (IMARI, TAKEO):
        rows = [f for f in out if f["properties"]["city_code"] == city]
        for i, f in enumerate(rows, 1):
            f["properties"]["ID"] = f"C{city}-{i:03d}"
    return out


def _ledger_row(props: dict[str, Any], lon: float, lat: float) -> list[Any]:
    p = props
    return [
        p["ID"],
        _LG_CODE[p["city_code"]],
        p["name"],
        p["name_kana"],
        p["address"],
        f"{lat:.7f}",
        f"{lon:.7f}",
        p["kind"],
        p["operator_type"],
        # The paper ledger names an individual operator; the import moves that name to the private table.
        p["operator_name"] if p["operator_type"] != "個人" else p["manager_name"],
        p["permit_date"] or "",
        p["plots"],
        f"{p['area_m2']:.0f}",
        "有" if p["ledger_listed"] else "無",
        p["status"],
        p["contact"],
        p["manager_name"] or "",
        p["manager_address"] or "",
        p["data_date"],
        p["note"],
        "true",
    ]


def ledger_rows(features: list[dict[str, Any]], inputs: Inputs) -> list[list[Any]]:
    """武雄市's ledger as staff would upload it after the survey (LEDGER_COLUMNS): the loaded rows, the survey's
    finding written in, one plot count corrected (those two dated UPLOAD_DATE) and one cemetery newly found."""
    rows = []
    takeo = [f for f in features if f["properties"]["city_code"] == TAKEO]
    corrected = next(f["properties"]["ID"] for f in takeo if f["properties"]["operator_type"] == "宗教法人")
    for f in takeo:
        p = dict(f["properties"])
        lon, lat = f["geometry"]["coordinates"]
        if p["status"] == "未確認":
            p["status"], p["note"] = "調査で確認", p["note"] + "（2026年11月の調査で確認）"
            p["data_date"] = UPLOAD_DATE
        if p["ID"] == corrected:
            p["plots"], p["data_date"] = int(p["plots"]) + 12, UPLOAD_DATE
        rows.append(_ledger_row(p, lon, lat))
    used = {f["properties"]["address"] for f in takeo}
    town = next(t for t in inputs.city_towns(TAKEO) if not t.koaza and t.address not in used)
    at = point_near(np.random.default_rng(len(takeo)), town.x, town.y, 50, 300, inputs.land_m[TAKEO].buffer(-5))
    lon, lat = lonlat_of(at.x, at.y)
    name = f"{PREFIX}{town.short}共同墓地"
    found = {
        "ID": f"C{TAKEO}-{len(takeo) + 1:03d}",
        "name": name,
        "name_kana": kana(name),
        "kind": "共同墓地",
        "operator_type": "共同墓地（集落）",
        "operator_name": f"{PREFIX}{town.short}区",
        "contact": CITY_COUNTER[TAKEO],
        "address": town.address,
        "area_m2": 420.0,
        "plots": 48,
        "permit_date": None,
        "ledger_listed": False,
        "status": "調査で確認",
        "data_date": UPLOAD_DATE,
        "note": "サンプルデータ（実在しない）。2026年11月の区長への調査で見つかった集落の共同墓地",
        "manager_name": None,
        "manager_address": None,
        "city_code": TAKEO,
    }
    rows.append(_ledger_row(found, lon, lat))
    return rows
