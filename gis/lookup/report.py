"""Turning the one-query result into the "what applies here" report: sections, precision and boundary warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.lookup.rules import (
    AREA_CLASSIFICATION,
    CLASS_1_ZONES,
    CONSTRUCTION,
    CONSTRUCTION_NOTES,
    CONSTRUCTION_REF,
    FIRE_STRICTNESS,
    SHIROJI,
    regulation_limits,
)
from gis.lookup.sql import ZONE_LAYERS
from layers import LAYERS

CONFIRM = "境界付近または位置の精度が不十分です。範囲内の区域をすべて表示しています。必ず市の担当課に確認してください。"
INTERNAL = ("source_id", "contains")


@dataclass
class Context:
    """How precise the question is: a clicked point, a geocoded point with uncertainty, or a lot polygon."""

    mode: str  # point | lot
    reach_m: float  # zones within this distance are listed; under it a boundary is "near"
    precise: bool  # a point good enough for a single-zone answer (a click or a parcel-level match)
    sources: dict[int, dict[str, Any]]
    layer_sources: dict[str, list[dict[str, Any]]]
    data_dir: Path
    notes: list[str] = field(default_factory=list)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in INTERNAL}


def _provenance(layer_id: str, rows: list[dict], ctx: Context) -> dict[str, Any]:
    ids = sorted({r["source_id"] for r in rows if "source_id" in r})
    sources = [ctx.sources[i] for i in ids if i in ctx.sources] or ctx.layer_sources.get(layer_id, [])
    dates = [s["data_date"] for s in sources if s.get("data_date")]
    return {
        "layer": layer_id,
        "title": LAYERS[layer_id].title if layer_id in LAYERS else layer_id,
        "sources": sources,
        "data_date": max(dates) if dates else None,
        "sample": any(r.get("sample") for r in rows) or any(s.get("sample") for s in sources),
    }


def zone_section(layer_id: str, rows: list[dict], ctx: Context) -> dict[str, Any]:
    """Every zone in reach; a single answer only when the point is precise and clear of every boundary."""
    section = _provenance(layer_id, rows, ctx)
    inside = [r for r in rows if r.get("contains")]
    section["zones"] = [_clean(r) for r in rows]
    if ctx.mode == "lot":
        section["status"] = "lot" if rows else "none"
        return section
    nearest_boundary = min((r["boundary_distance_m"] for r in inside), default=None)
    near = any(not r.get("contains") for r in rows) or (nearest_boundary is not None and nearest_boundary < ctx.reach_m)
    section["boundary_distance_m"] = nearest_boundary
    section["near_boundary"] = bool(near)
    if not ctx.precise:
        section["status"] = "area"
        section["answer"] = None
    elif near:
        section["status"] = "near_boundary"
        section["answer"] = None
    else:
        section["status"] = "inside" if inside else "none"
        section["answer"] = _clean(inside[0]) if inside else None
    if section["status"] in ("area", "near_boundary") and rows:
        section["confirm_with_city"] = True
        section["message"] = CONFIRM
    return section


def zoning_summary(zoning: dict[str, Any], planning: dict[str, Any], city_code: str | None) -> dict[str, Any]:
    """用途地域 status: zoned, 白地 inside a planning area, outside, or unknown where the data is clipped."""
    inside_planning = [z for z in planning["zones"] if z.get("distance_m", 0) == 0]
    if zoning["zones"] and all(z.get("distance_m", 0) == 0 for z in zoning["zones"]):
        return {"status": "zoned"}
    if zoning["zones"]:
        return {"status": "zoned_or_near"}
    if inside_planning:
        return {"status": "shiroji", "defaults": SHIROJI}
    if city_code == "41206":
        return {
            "status": "unknown",
            "message": "武雄の都市計画区域データはメッシュ境界で切れているため、区域外とは断定できません。市に確認してください。",
        }
    return {"status": "outside_planning_area", "message": "都市計画区域外（用途地域の指定なし）。"}


def lot_summary(zoning: dict[str, Any], fire: dict[str, Any]) -> dict[str, Any]:
    """Majority 用途, area-weighted 建ぺい率/容積率 and the stricter fire rule for a lot (建築基準法 §91, §52/53, §65)."""
    zones = zoning["zones"]
    out: dict[str, Any] = {"zones_touched": len(zones)}
    if zones:
        by_name: dict[str, float] = {}
        for z in zones:
            by_name[z["youto_name"]] = by_name.get(z["youto_name"], 0) + float(z["share"])
        out["majority_youto"] = max(by_name, key=by_name.get)
        covered = sum(float(z["share"]) for z in zones)
        for key in ("kenpei", "yoseki"):
            known = [z for z in zones if z.get(key) is not None]
            if known:
                out[f"weighted_{key}"] = round(sum(float(z[key]) * float(z["share"]) for z in known) / covered, 1)
        if covered < 0.999:
            out["unzoned_share"] = round(1 - covered, 4)
    fires = [f["fire_type"] for f in fire["zones"]]
    out["fire_rule"] = max(fires, key=lambda f: FIRE_STRICTNESS.get(f, 0)) if fires else "指定なし"
    out["basis"] = "用途は過半の属する地域（§91）、建ぺい率・容積率は面積加重（§53②・§52⑦）、防火は厳しい方（§65）"
    return out


def regulation_section(kind: str, section: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Noise or vibration zones with the 特定工場等 limit ranges of each class."""
    limits = regulation_limits(ctx.data_dir)
    for z in section["zones"]:
        z["limits"] = limits.get((kind, z["zone_class"]), [])
    if section.get("answer"):
        section["answer"]["limits"] = limits.get((kind, section["answer"]["zone_class"]), [])
    if not section["zones"]:
        section["message"] = "用途地域から導出した規制地域の外（用途無指定地域の指定状況は未確認）。"
    return section


def construction_section(noise: dict[str, Any], facilities: list[dict], ctx: Context) -> dict[str, Any]:
    """特定建設作業 1号/2号 from the noise class and the 80 m facility buffers."""
    classes = sorted({z["zone_class"] for z in noise["zones"]})
    possible = set()
    for c in classes:
        if c in CLASS_1_ZONES or (c == "第4種" and facilities):
            possible.add("1号")
        else:
            possible.add("2号")
    section = _provenance("facilities", facilities, ctx)
    section.update(
        {
            "classes_in_reach": sorted(possible),
            "answer": (sorted(possible)[0] if len(possible) == 1 and noise.get("status") == "inside" else None),
            "facilities_within_80m": [_clean(f) for f in facilities],
            "limits": {k: CONSTRUCTION[k] for k in sorted(possible)},
            "notes": CONSTRUCTION_NOTES,
            "legal_ref": CONSTRUCTION_REF,
        }
    )
    if not classes:
        section["message"] = "騒音規制地域（導出）の外。特定建設作業の指定地域外の可能性があるが、市に確認すること。"
    elif section["answer"] is None:
        section["message"] = CONFIRM
    return section


def _list_section(layer_id: str, rows: list[dict], ctx: Context, key: str) -> dict[str, Any]:
    section = _provenance(layer_id, rows, ctx)
    section[key] = [_clean(r) for r in rows]
    return section


def build_report(raw: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Assemble every section of the report."""
    sections = {lid: zone_section(lid, raw[lid], ctx) for lid in ZONE_LAYERS}
    city = raw["municipality"][0] if raw["municipality"] else None
    city_code = city["city_code"] if city else None
    for z in sections["planning_areas"]["zones"]:
        z["area_classification_text"] = AREA_CLASSIFICATION.get(
            z.get("area_classification"), z.get("area_classification")
        )
    report: dict[str, Any] = {
        "municipality": _list_section("municipalities", raw["municipality"], ctx, "municipalities"),
        "town": {
            **_list_section("towns", raw["towns"], ctx, "nearest"),
            "approximate": True,
            "message": "大字・町の代表点までの距離（おおよその位置）",
        },
        "planning_area": sections["planning_areas"],
        "zoning": {
            **sections["zoning"],
            "designation": zoning_summary(sections["zoning"], sections["planning_areas"], city_code),
        },
        "fire_district": sections["fire_districts"],
        "special_use_district": sections["special_use_districts"],
        "noise": regulation_section("noise", sections["noise_zones"], ctx),
        "vibration": regulation_section("vibration", sections["vibration_zones"], ctx),
    }
    report["construction"] = construction_section(sections["noise_zones"], raw["facilities"], ctx)
    if ctx.mode == "lot":
        report["lot"] = lot_summary(sections["zoning"], sections["fire_districts"])
    report["garbage_points"] = _list_section("garbage_points", raw["garbage_points"], ctx, "nearest")
    report["parks"] = _list_section("parks", raw["parks"], ctx, "nearest")
    report["cemeteries"] = _list_section("cemeteries", raw["cemeteries"], ctx, "within_500m")
    farmland = _list_section("farmland", raw["farmland"], ctx, "parcels")
    farmland["at_point"] = [p for p in farmland["parcels"] if p["distance_m"] == 0]
    report["farmland"] = farmland
    report["inundation_sensors"] = _list_section("inundation_sensors", raw["inundation_sensors"], ctx, "nearest")
    return report
