"""The report's 防災 rules: honest coverage (データ未整備, never 指定なし from an empty layer), the flood history at the
point, the 浸水想定 depth and 土砂災害 zone, and the nearest shelters suitable for the hazards that apply there.

Sections are found by role (never by layer id): flood_history, flood_risk, landslide, shelters.
"""

from __future__ import annotations

from typing import Any

from gis.cities import CITIES
from gis.lookup.sql import lookup_layers
from layers.base import Layer

NO_DATA = "データ未整備"
# The hazard flag columns of the shelters layer and how people read them.
HAZARD_NAMES = {
    "flood": "洪水",
    "landslide": "崖崩れ・土石流・地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}
UNCERTAIN = ("near_boundary", "area")


def _city_name(city_code: str | None) -> str:
    city = CITIES.get(city_code or "")
    return city.name if city else "この地点"


def apply_coverage(
    report: dict[str, Any], layers: list[Layer], city_code: str | None, coverage: dict[str, set[str]]
) -> None:
    """Sections of layers declaring `no_data` say データ未整備 where the layer has no rows for the point's city."""
    for layer in layers:
        lk = layer.lookup
        if lk is None or lk.no_data is None or lk.section not in report:
            continue
        section = report[lk.section]
        covered = city_code is not None and city_code in coverage.get(layer.id, set())
        section["covered"] = covered
        if covered:
            continue
        section.update(
            {
                "status": "no_data",
                "answer": None,
                "summary": NO_DATA,
                "message": f"{NO_DATA}: このサービスには{_city_name(city_code)}の{layer.title}のデータがありません"
                "（区域の内外は判定できません）。" + lk.no_data,
            }
        )
        section.pop("confirm_with_city", None)


def _inside(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The zones at the point (a lot: every zone it touches)."""
    return [z for z in section.get("zones", []) if z.get("distance_m", 0) == 0]


def _uncertain(section: dict[str, Any]) -> bool:
    """A point too close to an edge, or too imprecise, for an inside/outside answer (zone_section says so)."""
    return section.get("status") in UNCERTAIN and bool(section.get("zones"))


def _titles(section: dict[str, Any]) -> str:
    return "・".join(dict.fromkeys(s.get("title") or "" for s in section.get("sources", []) if s.get("title")))


def flood_history_summary(section: dict[str, Any]) -> None:
    """Inside a recorded past flood extent, near its edge, or outside it (only where the extent's data reaches)."""
    if section.get("status") == "no_data":
        return
    inside = _inside(section)
    events = "・".join(dict.fromkeys(z["event"] for z in inside)) or _titles(section) or "記録された出水"
    if _uncertain(section):
        text = f"{events} の浸水推定範囲の境界付近か位置の精度が足りないため、範囲の内外を判定できません"
    elif inside:
        text = f"{events} で浸水したと推定される範囲の中です"
    elif section.get("zones"):
        text = f"{events} の浸水推定範囲の近く（{min(z['distance_m'] for z in section['zones']):.0f} m）です"
    else:
        text = f"{events} の浸水推定範囲の外です（範囲の外でも浸水しなかったとは限りません）"
    section["in_extent"] = None if _uncertain(section) else bool(inside)
    section["summary"] = text + "。過去の1回の出水の推定範囲で、洪水浸水想定区域ではありません。"


def flood_risk_summary(section: dict[str, Any]) -> None:
    """The deepest 想定浸水深 at the point per scenario (several rivers may overlap)."""
    if section.get("status") == "no_data":
        return
    deepest: dict[str, dict[str, Any]] = {}
    for z in _inside(section):
        scenario = z.get("scenario") or "規模不明"
        if scenario not in deepest or (z.get("depth_min_m") or 0) > (deepest[scenario].get("depth_min_m") or 0):
            deepest[scenario] = z
    section["deepest"] = [
        {"scenario": s, "depth_class": z["depth_class"], "river_name": z.get("river_name")} for s, z in deepest.items()
    ]
    if deepest:
        parts = [f"{s}: {z['depth_class']}（{z.get('river_name') or '河川名なし'}）" for s, z in deepest.items()]
        where = "の境界付近です（位置の確認が必要）" if _uncertain(section) else "の中です"
        section["summary"] = f"洪水浸水想定区域{where}。想定浸水深 " + "、".join(parts) + "。"
    elif _uncertain(section):
        section["summary"] = "洪水浸水想定区域の境界付近です（位置の確認が必要）。"
    else:
        section["summary"] = (
            f"読み込んだ洪水浸水想定区域（{_titles(section) or '出典'}）の範囲外です。"
            "対象河川以外の氾濫や内水による浸水は含みません。"
        )


def landslide_summary(section: dict[str, Any]) -> None:
    """The 土砂災害 zones at the point, the stricter (特別警戒) first."""
    if section.get("status") == "no_data":
        return
    inside = sorted(_inside(section), key=lambda z: z.get("zone_type") != "土砂災害特別警戒区域")
    section["in_zone"] = None if _uncertain(section) else bool(inside)
    near = sorted(section.get("zones", []), key=lambda z: z.get("zone_type") != "土砂災害特別警戒区域")
    if _uncertain(section):
        parts = dict.fromkeys(f"{z['zone_type']}（{z['phenomenon']}）" for z in near)
        section["summary"] = "、".join(parts) + " の境界付近です（位置の確認が必要）。"
    elif inside:
        parts = dict.fromkeys(f"{z['zone_type']}（{z['phenomenon']}）" for z in inside)
        section["summary"] = "、".join(parts) + " の中です。"
    else:
        section["summary"] = "土砂災害警戒区域・特別警戒区域の外です（読み込んだ区域データの範囲で）。"


def _designated(row: dict[str, Any]) -> list[str]:
    return [name for col, name in HAZARD_NAMES.items() if row.get(col)]


def shelters_section(section: dict[str, Any], key: str, landslide: dict[str, Any] | None) -> None:
    """The nearest sites by need: emergency sites for floods (always) and for landslides (in or near a 土砂 zone,
    or where zone data is missing), and 指定避難所 (not known to be unfit for floods), listed apart."""
    groups: dict[str, list[dict[str, Any]]] = {"flood": [], "landslide": [], "shelter": []}
    for row in section.pop(key, []):
        group = row.pop("group", None)
        if group in groups:
            row["designated_for"] = _designated(row)
            groups[group].append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: r["distance_m"])
    emergency: dict[str, Any] = {"flood": groups["flood"]}
    notes = ["指定緊急避難場所は災害の種類ごとに指定されています。その災害に指定された場所へ避難してください。"]
    landslide_status = (landslide or {}).get("status")
    if landslide_status == "no_data":
        emergency["landslide"] = groups["landslide"]
        notes.append("土砂災害警戒区域のデータがないため、土砂災害に指定された避難場所も参考に示します。")
    elif landslide is not None and landslide.get("zones"):
        emergency["landslide"] = groups["landslide"]
    section["emergency_sites"] = emergency
    section["shelters"] = groups["shelter"]
    notes.append(
        "指定避難所（避難生活の場）の災害種別は、同一住所の指定緊急避難場所の指定を写したものです（空欄は不明）。"
    )
    section["notes"] = notes


def apply_hazards(
    report: dict[str, Any],
    roles: dict[str, Layer],
    city_code: str | None,
    coverage: dict[str, set[str]],
) -> None:
    """Coverage first (so an empty layer never reads as 区域外), then each hazard section's summary."""

    def section(role: str) -> dict[str, Any] | None:
        layer = roles.get(role)
        return report.get(layer.lookup.section) if layer and layer.lookup and layer.lookup.section else None

    apply_coverage(report, lookup_layers(), city_code, coverage)
    for role, summarise in (
        ("flood_history", flood_history_summary),
        ("flood_risk", flood_risk_summary),
        ("landslide", landslide_summary),
    ):
        s = section(role)
        if s is not None:
            summarise(s)
    shelters = section("shelters")
    layer = roles.get("shelters")
    if shelters is not None and layer is not None and layer.lookup is not None:
        shelters_section(shelters, layer.lookup.key, section("landslide"))
