"""The Saga municipalities whose garbage calendars may be imported (codes, names, 6-digit 団体コード)."""

from __future__ import annotations

from gis.cities import CITIES, PREFECTURE
from gis.errors import ImportFailed
from layers.municipalities import lg_code

# Calendar data is not a map layer: any Saga municipality's files may be imported (the 佐賀市 5374 set is the
# fixture). Names of the ones this service does not map, as in N03 (data/boundaries).
OTHER_SAGA = {
    "41201": "佐賀市",
    "41202": "唐津市",
    "41203": "鳥栖市",
    "41204": "多久市",
    "41207": "鹿島市",
    "41208": "小城市",
    "41209": "嬉野市",
    "41210": "神埼市",
    "41327": "吉野ヶ里町",
    "41341": "基山町",
    "41345": "上峰町",
    "41346": "みやき町",
    "41387": "玄海町",
    "41401": "有田町",
    "41423": "大町町",
    "41424": "江北町",
    "41425": "白石町",
    "41441": "太良町",
}


def city_name(code: str) -> str:
    """The municipality's name, e.g. 伊万里市."""
    return CITIES[code].name if code in CITIES else OTHER_SAGA[code]


def check_city(code: str | None) -> str:
    """The 5-digit code of a Saga municipality, or ImportFailed naming what was given."""
    code = (code or "").strip()
    if len(code) == 6 and code.isascii() and code.isdigit() and lg_code(code[:5]) == code:
        code = code[:5]
    if code in CITIES or code in OTHER_SAGA:
        return code
    raise ImportFailed(f"city code '{code}' is not a municipality of {PREFECTURE} (41xxx, e.g. 41205 伊万里市)")


__all__ = ["OTHER_SAGA", "check_city", "city_name", "lg_code"]
