"""Turning the one-query result into the "what applies here" report: sections, precision and boundary warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.lookup.hazards import apply_hazards
from gis.lookup.rules import (
    AREA_CLASSIFICATION,
    CLASS_1_ZONES,
    CONSTRUCTION,
    CONSTRUCTION_FORM,
    CONSTRUCTION_NOTES,
    CONSTRUCTION_OFFICE,
    CONSTRUCTION_REF,
    CONSTRUCTION_WORKS,
    FIRE_STRICTNESS,
    SHIROJI,
    regulation_limits,
)
from gis.lookup.sql import lookup_layers
from layers import LAYERS
from layers.base import Layer

CONFIRM = "境界付近または位置の精度が不十分です。範囲内の区域をすべて表示しています。必ず市の担当課に確認してください。"
INTERNAL = ("source_id", "contains", "_n")


@dataclass
class Context:
    """How precise the question is: a clicked point, a geocoded point with uncertainty, or a lot polygon."""

    mode: str  # point | lot
    reach_m: float  # zones within this distance are listed; under it a boundary is "near"
    precise: bool  # a point good enough for a single-zone answer (a click or a parcel-level match)
    sources: dict[int, dict[str, Any]]
    layer_sources: dict[str, list[dict[str, Any]]]
    data_dir: Path
    # The cities each layer holds rows for now (layer id → city codes): where a layer declaring Lookup.no_data has
    # none, its section says データ未整備.
    coverage: dict[str, set[str]] = field(default_factory=dict)


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


def construction_section(
    noise: dict[str, Any], facilities: list[dict], facilities_layer: str, ctx: Context
) -> dict[str, Any]:
    """特定建設作業 1号/2号 from the noise class and the 80 m facility buffers."""
    classes = sorted({z["zone_class"] for z in noise["zones"]})
    possible = set()
    for c in classes:
        if c in CLASS_1_ZONES or (c == "第4種" and facilities):
            possible.add("1号")
        else:
            possible.add("2号")
    section = _provenance(facilities_layer, facilities, ctx)
    section.update(
        {
            "classes_in_reach": sorted(possible),
            "answer": (sorted(possible)[0] if len(possible) == 1 and noise.get("status") == "inside" else None),
            # The 80 m rule needs a position good to a few metres: an address-level point says so instead.
            "precise_enough": ctx.precise,
            "facilities_within_80m": [_clean(f) for f in facilities] if ctx.precise else [],
            "facilities_message": None
            if ctx.precise
            else "位置の精度が足りないため、80 m 以内の学校・病院などによる1号区域の判定はしていません。敷地を地図で選んでください。",
            "works": CONSTRUCTION_WORKS,
            "form": CONSTRUCTION_FORM,
            "office": CONSTRUCTION_OFFICE,
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


def _list_section(layer: Layer, rows: list[dict], ctx: Context) -> dict[str, Any]:
    lk = layer.lookup
    assert lk is not None
    section = _provenance(layer.id, rows, ctx)
    section[lk.key] = [_clean(r) for r in rows]
    if lk.kind == "parcels":
        section["at_point"] = [p for p in section[lk.key] if p["distance_m"] == 0]
    section.update(lk.extra)
    return section


def build_report(raw: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Assemble every declared section, then the rules that read sections by role (never by layer id)."""
    report: dict[str, Any] = {}
    roles: dict[str, Layer] = {}
    for layer in lookup_layers():
        lk = layer.lookup
        assert lk is not None
        if lk.role:
            roles[lk.role] = layer
        if lk.section is not None:
            rows = raw[layer.id]
            report[lk.section] = (
                zone_section(layer.id, rows, ctx) if lk.kind == "zones" else _list_section(layer, rows, ctx)
            )
    _apply_rules(report, raw, roles, ctx)
    return report


def _apply_rules(report: dict[str, Any], raw: dict[str, Any], roles: dict[str, Layer], ctx: Context) -> None:
    """The rules of DOMAIN.md §3-§8 over the sections, found by their roles."""

    def section(role: str) -> dict[str, Any] | None:
        layer = roles.get(role)
        return report.get(layer.lookup.section) if layer and layer.lookup and layer.lookup.section else None

    cities = raw[roles["municipality"].id] if "municipality" in roles else []
    city_code = cities[0]["city_code"] if cities else None
    planning, zoning, fire, noise = section("planning_area"), section("zoning"), section("fire"), section("noise")
    if planning is not None:
        for z in planning["zones"]:
            z["area_classification_text"] = AREA_CLASSIFICATION.get(
                z.get("area_classification"), z.get("area_classification")
            )
    if zoning is not None and planning is not None:
        zoning["designation"] = zoning_summary(zoning, planning, city_code)
    for kind in ("noise", "vibration"):
        regulation = section(kind)
        if regulation is not None:
            regulation_section(kind, regulation, ctx)
    widening = roles.get("widening_facilities")
    if noise is not None and widening is not None:
        report["construction"] = construction_section(noise, raw[widening.id], widening.id, ctx)
    if ctx.mode == "lot" and zoning is not None and fire is not None:
        report["lot"] = lot_summary(zoning, fire)
    apply_hazards(report, roles, city_code, ctx.coverage)
