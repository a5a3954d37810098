"""The print view of a report (/report): A4, a small map, every section with its source, who to ask, a disclaimer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gis.lookup.contacts import city_contacts
from gis.maps.assets import GSI_ATTRIBUTION, GSI_TILES, LEAFLET_CSS, LEAFLET_JS, MAP_CSS, REPORT_JS, static_url
from gis.maps.styles import layer_style
from layers import LAYERS

JST = ZoneInfo("Asia/Tokyo")
PRINT_LAYERS = ("zoning", "fire_districts")
DISCLAIMER = (
    "この資料は公開データから自動で作成した目安です。区域の境界は概ねの位置を示すもので、建築確認・開発許可・工事の届出・"
    "不動産取引などの判断には使えません。必ず市の担当課で確認してください。"
)


def _place(report: dict[str, Any]) -> str:
    cities = (report.get("municipality") or {}).get("municipalities") or []
    towns = (report.get("town") or {}).get("nearest") or []
    text = cities[0]["name"] if cities else "伊万里市・武雄市の区域外"
    if towns:
        text += " " + towns[0]["name"] + (" 付近" if (towns[0].get("distance_m") or 0) >= 1 else "")
    return text


def _point(report: dict[str, Any]) -> tuple[float, float] | None:
    q = report.get("query") or {}
    g = q.get("geocode") or {}
    lat, lon = q.get("lat", g.get("lat")), q.get("lon", g.get("lon"))
    return (lat, lon) if lat is not None and lon is not None else None


def print_view(report: dict[str, Any], data_dir: Path, root: str = "") -> dict[str, Any]:
    """What the print template needs besides the report itself."""
    contacts = city_contacts(data_dir)
    cities = (report.get("municipality") or {}).get("municipalities") or []
    city = contacts["cities"].get(cities[0]["city_code"]) if cities else None
    point = _point(report)
    uncertainty = ((report.get("query") or {}).get("geocode") or {}).get("uncertainty_m") or (
        report.get("query") or {}
    ).get("uncertainty_m")
    config = {
        "urls": {"lookup": f"{root}/lookup"},
        "point": point,
        "uncertainty_m": uncertainty,
        "tiles": GSI_TILES["pale"][1],
        # The zones around the place, drawn from our own items (so the map says something with no base map).
        "overlays": [
            {"items": f"{root}/collections/{layer_id}/items", **layer_style(LAYERS[layer_id])}
            for layer_id in PRINT_LAYERS
            if layer_id in LAYERS
        ],
        "attribution": GSI_ATTRIBUTION + "（国土地理院）",
    }
    return {
        "place": _place(report),
        "generated_jst": datetime.now(UTC).astimezone(JST).strftime("%Y年%m月%d日 %H:%M"),
        "city": city,
        "contacts": contacts,
        "disclaimer": DISCLAIMER,
        "assets": {
            "leaflet_js": static_url(LEAFLET_JS, root),
            "leaflet_css": static_url(LEAFLET_CSS, root),
            "report_js": static_url(REPORT_JS, root),
            "map_css": static_url(MAP_CSS, root),
        },
        # Inert JSON in the page: `</` escaped so a value cannot end the script element.
        "config_json": json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
        "report_json": json.dumps(report, ensure_ascii=False, default=str).replace("</", "<\\/"),
    }
