"""Sample cemeteries (墓地): points near town points, with 経営主体 and fake private 管理者 columns."""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely.geometry import Point

from gis.sample.common import (
    CITY_NAMES,
    IMARI,
    PREFIX,
    TAKEO,
    Inputs,
    fake_name,
    feature,
    iso_date,
    lonlat_of,
    point_near,
)

# City office section used as 連絡窓口 for city and みなし cemeteries (sample wording, not verified).
_OFFICE = {IMARI: "伊万里市 市民部 環境課", TAKEO: "武雄市 くらし部 環境課"}
# operator_type → count per city
_MIX: dict[str, dict[str, int]] = {
    IMARI: {"市": 3, "宗教法人": 7, "公益法人": 1, "みなし墓地・地元管理": 6},
    TAKEO: {"市": 2, "宗教法人": 5, "公益法人": 1, "みなし墓地・地元管理": 5},
}
_KIND = {"市": "公営墓地", "宗教法人": "寺院墓地", "公益法人": "共同墓地", "みなし墓地・地元管理": "共同墓地"}
# (min m², max m², m² per plot)
_SIZE = {
    "市": (4000, 20000, 9.0),
    "宗教法人": (300, 3000, 6.0),
    "公益法人": (2000, 8000, 8.0),
    "みなし墓地・地元管理": (150, 1500, 7.0),
}


def _fake_person(rng: np.random.Generator) -> tuple[str, str]:
    """An obviously fake 管理者 name and address, both marked 見本."""
    name = fake_name(rng)
    address = f"佐賀県見本市見本町{int(rng.integers(1, 30))}-{int(rng.integers(1, 20))}"
    return name, address


def cemeteries(inputs: Inputs, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Sample cemetery features for both cities, sorted by city and name."""
    out = []
    for city in (IMARI, TAKEO):
        land = inputs.land_m[city].buffer(-5)
        towns = [t for t in inputs.city_towns(city) if not t.koaza]
        kinds = [k for k, n in _MIX[city].items() for _ in range(n)]
        picks = rng.choice(len(towns), size=len(kinds), replace=False)
        for operator_type, ti in zip(kinds, picks, strict=True):
            town = towns[int(ti)]
            p: Point = point_near(rng, town.x, town.y, 50, 400, land)
            lo, hi, per_plot = _SIZE[operator_type]
            area = round(float(rng.uniform(lo, hi)), -1)
            plots = int(area / per_plot * rng.uniform(0.7, 1.0))
            city_name = CITY_NAMES[city]
            manager_name = manager_address = None
            if operator_type == "市":
                name = f"{PREFIX}{city_name}営{town.short}墓地"
                operator, contact = city_name, _OFFICE[city]
                permit: str | None = iso_date(rng, 1965, 1999)
                note = "市営墓地。使用許可の申込みは市の担当課へ"
            elif operator_type == "宗教法人":
                temple = f"{town.short}寺"
                name = f"{PREFIX}{temple}墓地"
                operator, contact = f"{PREFIX}宗教法人{temple}", f"{PREFIX}宗教法人{temple} 寺務所"
                permit = iso_date(rng, 1955, 2015)
                note = "寺院境内墓地。区画の問合せは寺務所へ"
                manager_name, manager_address = _fake_person(rng)
            elif operator_type == "公益法人":
                foundation = f"{PREFIX}公益財団法人{city_name}墓地公園協会"
                name = f"{PREFIX}{town.short}霊園"
                operator, contact = foundation, f"{foundation} 事務局"
                permit = iso_date(rng, 1985, 2010)
                note = "公益法人が経営する墓地"
                manager_name, manager_address = _fake_person(rng)
            else:
                name = f"{PREFIX}{town.short}共同墓地"
                operator, contact, permit = "不明（地元管理）", _OFFICE[city], None
                note = "みなし墓地（墓地埋葬法施行前からの集落墓地）。管理者不明・地元管理。問合せは市の担当課へ"
            props = {
                "name": name,
                "kind": _KIND[operator_type],
                "operator_type": operator_type,
                "operator_name": operator,
                "contact": contact,
                "address": town.address,
                "area_m2": area,
                "plots": plots,
                "permit_date": permit,
                "note": "サンプルデータ（実在しない）。" + note,
                "manager_name": manager_name,
                "manager_address": manager_address,
                "sample": True,
                "city_code": city,
            }
            out.append(feature(props, Point(*lonlat_of(p.x, p.y))))
    return sorted(out, key=lambda f: (f["properties"]["city_code"], f["properties"]["name"]))
