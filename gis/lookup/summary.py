"""The report's summary: the few answers a resident or builder asks first, in plain Japanese, and one notice.

Every row says what kind of answer it is (`status`): an answer from the data, `none` (the data covers the place and
has nothing there: 指定なし), `uncertain` (near a boundary or an imprecise position: the candidates), `no_data` (this
service has no data for the place: never 指定なし) or `outside` (outside the service area). The popup, the print view
and API clients read the same rows.
"""

from __future__ import annotations

from typing import Any

UNCERTAIN = ("near_boundary", "area")


def _row(item: str, value: str, status: str, section: dict[str, Any] | None = None, note: str | None = None) -> dict:
    row: dict[str, Any] = {"item": item, "value": value, "status": status}
    if section is not None:
        row["data_date"] = section.get("data_date")
        row["sample"] = bool(section.get("sample"))
    if note:
        row["note"] = note
    return row


def _candidates(section: dict[str, Any], name: str) -> str:
    names = list(dict.fromkeys(str(z.get(name)) for z in section.get("zones", []) if z.get(name)))
    return "・".join(names[:4]) + ("ほか" if len(names) > 4 else "")


def _zone_row(item: str, section: dict[str, Any] | None, name: str, fmt=None) -> dict | None:
    """A zone section as one row: the zone, 指定なし where the data says so, or the candidates."""
    if section is None:
        return None
    fmt = fmt or (lambda z: str(z.get(name)))
    status = section.get("status")
    if status == "no_data":
        return _row(item, "データなし（市に確認）", "no_data", section, section.get("message"))
    if section.get("answer"):
        return _row(item, fmt(section["answer"]), "answer", section)
    if status in UNCERTAIN and section.get("zones"):
        return _row(item, "要確認（候補: " + _candidates(section, name) + "）", "uncertain", section)
    if status == "lot" and section.get("zones"):
        return _row(item, _candidates(section, name), "answer", section)
    return _row(item, "指定なし", "none", section)


def _pct(v: Any) -> str:
    return "—" if v is None else f"{float(v):g}%"


def _zoning_rows(zoning: dict[str, Any] | None, lot: dict[str, Any] | None) -> list[dict]:
    if zoning is None:
        return []
    d = zoning.get("designation") or {}
    status = zoning.get("status")
    a = zoning.get("answer")
    if lot and lot.get("majority_youto"):
        kenpei, yoseki = lot.get("weighted_kenpei"), lot.get("weighted_yoseki")
        return [
            _row("用途地域", str(lot["majority_youto"]) + "（敷地の過半）", "answer", zoning),
            _row("建ぺい率 / 容積率", f"{_pct(kenpei)} / {_pct(yoseki)}（面積加重）", "answer", zoning),
        ]
    if a:
        height = f"{float(a['height_limit_m']):g} m" if a.get("height_limit_m") is not None else "指定なし"
        return [
            _row("用途地域", str(a.get("youto_name")), "answer", zoning),
            _row("建ぺい率 / 容積率", f"{_pct(a.get('kenpei'))} / {_pct(a.get('yoseki'))}", "answer", zoning),
            _row("高さの限度", height, "answer", zoning),
        ]
    if status in UNCERTAIN and zoning.get("zones"):
        return [
            _row("用途地域", "要確認（候補: " + _candidates(zoning, "youto_name") + "）", "uncertain", zoning),
            _row("建ぺい率 / 容積率", "用途地域が決まると決まります", "uncertain", zoning),
        ]
    if d.get("status") == "shiroji":
        return [
            _row("用途地域", "指定なし（白地・都市計画区域内）", "none", zoning),
            _row(
                "建ぺい率 / 容積率",
                "特定行政庁が定める値（データなし・市に確認）",
                "no_data",
                zoning,
                d.get("defaults", {}).get("note"),
            ),
        ]
    if d.get("status") == "outside_planning_area":
        return [_row("用途地域", "指定なし（都市計画区域外）", "none", zoning)]
    return [_row("用途地域", "データなし（市に確認）", "no_data", zoning, d.get("message"))]


def _regulation_value(noise: dict[str, Any] | None, vibration: dict[str, Any] | None) -> dict | None:
    if noise is None and vibration is None:
        return None
    parts, statuses = [], []
    for label, sec in (("騒音", noise), ("振動", vibration)):
        if sec is None:
            continue
        row = _zone_row(label, sec, "zone_class", lambda z: f"{z['zone_class']}区域")
        assert row is not None
        value = row["value"] if row["status"] != "none" else "規制地域外"
        parts.append(f"{label} {value}")
        statuses.append(row["status"])
    status = next((s for s in ("no_data", "uncertain") if s in statuses), "answer")
    return _row("騒音・振動の規制", "、".join(parts), status, noise or vibration)


def _planning_row(planning: dict[str, Any] | None) -> dict | None:
    if planning is None:
        return None

    def fmt(z: dict[str, Any]) -> str:
        kind = z.get("area_classification_text")
        return str(z.get("name")) + (f"（{kind}）" if kind else "")

    return _zone_row("都市計画区域", planning, "name", fmt)


def build_summary(report: dict[str, Any], precision: dict[str, Any]) -> dict[str, Any]:
    """The summary rows and the one notice at the top (precision, boundary), from the assembled report."""
    if precision.get("outside_service_area"):
        return {
            "rows": [],
            "notice": "伊万里市・武雄市の区域外です。このサービスではこの場所の区域を判定できません。",
            "status": "outside",
        }
    rows = _zoning_rows(report.get("zoning"), report.get("lot"))
    fire = _zone_row("防火・準防火地域", report.get("fire_district"), "fire_type")
    lot = report.get("lot") or {}
    if fire is not None and lot.get("fire_rule") and fire["status"] != "no_data":
        fire.update(value=str(lot["fire_rule"]) + "（敷地にかかる厳しい方）", status="answer")
    for row in (
        fire,
        _regulation_value(report.get("noise"), report.get("vibration")),
        _planning_row(report.get("planning_area")),
    ):
        if row is not None:
            rows.append(row)
    construction = report.get("construction") or {}
    if construction.get("answer"):
        rows.append(_row("特定建設作業", f"{construction['answer']}区域", "answer", construction))
    notice = [str(precision["message"])] if precision.get("message") else []
    uncertain = [r["item"] for r in rows if r["status"] == "uncertain"]
    if uncertain and precision.get("single_answer_possible"):
        notice.append("境界の近くです（" + "・".join(uncertain) + "）。敷地の位置で市の担当課に確認してください。")
    return {"rows": rows, "notice": " ".join(notice), "sample": any(r.get("sample") for r in rows)}
