"""Map presentation of the layers: colour palettes for `style.by`, which layers show at load, tile/detail zooms.

用途地域 colours follow the scheme Japanese 都市計画図 conventionally use (MLIT's 都市計画GIS guidance and most city
maps): greens for the low-rise residential zones, yellow → orange for the other residential zones, pink → red for
the commercial zones, purple → blue for the industrial zones. The exact RGB values differ between cities; these are
a readable approximation, not an official standard.
"""

from __future__ import annotations

from typing import Any

from layers.base import Layer

YOUTO_COLORS: dict[str, str] = {
    "第1種低層住居専用地域": "#00BEA0",
    "第2種低層住居専用地域": "#6BD5BE",
    "第1種中高層住居専用地域": "#78DC78",
    "第2種中高層住居専用地域": "#BEE68C",
    "第1種住居地域": "#FFF08C",
    "第2種住居地域": "#FFD78C",
    "準住居地域": "#FFBE8C",
    "田園住居地域": "#A0C878",
    "近隣商業地域": "#FFAABE",
    "商業地域": "#FF6E8C",
    "準工業地域": "#C8A0DC",
    "工業地域": "#D2D2FF",
    "工業専用地域": "#A0D2FF",
}

# 騒音/振動 規制地域: the quieter the class must be, the cooler the colour.
NOISE_COLORS = {"第1種": "#1A9850", "第2種": "#A6D96A", "第3種": "#FDAE61", "第4種": "#D73027"}
VIBRATION_COLORS = {"第1種": "#1A9850", "第2種": "#D73027"}
FARMLAND_COLORS = {"田": "#5AAE61", "畑": "#D8B365"}

PALETTES: dict[str, dict[str, str]] = {
    "zoning": YOUTO_COLORS,
    "noise_zones": NOISE_COLORS,
    "vibration_zones": VIBRATION_COLORS,
    "farmland": FARMLAND_COLORS,
}
OTHER_COLOR = "#999999"

# Shown when /map opens; the rest are one tick away in the layer control (and are fetched only then).
DEFAULT_VISIBLE = (
    "municipalities",
    "planning_areas",
    "zoning",
    "fire_districts",
    "special_use_districts",
    "parks",
    "inundation_sensors",
)

# Big layers travel as vector tiles; from this zoom on, the exact geometry comes from the items endpoint instead
# (a bbox query), so boundaries drawn at parcel scale are the ones /lookup uses. None: tiles at every zoom.
DETAIL_ZOOM: dict[str, int | None] = {"zoning": 15, "farmland": None}

# Drawing order: areas under lines under points.


def layer_style(layer: Layer) -> dict[str, Any]:
    """The layer's Leaflet path style, its palette (when coloured by a property) and the property."""
    style = dict(layer.style)
    by = style.pop("by", None)
    palette = PALETTES.get(layer.id, {}) if by else {}
    base: dict[str, Any] = {
        "color": style.get("color", OTHER_COLOR if by else "#3388ff"),
        "weight": style.get("weight", 1 if layer.geom_type == "MULTIPOLYGON" else 1.5),
        "opacity": 0.9,
        "fillOpacity": style.get("fillOpacity", 0.6 if layer.geom_type == "POINT" else 0.2),
    }
    if "dashArray" in style:
        base["dashArray"] = style["dashArray"]
    if layer.geom_type == "POINT":
        base["radius"] = style.get("radius", 5)
        base["fillColor"] = style.get("color", "#3388ff")
    return {"style": base, "by": by, "palette": palette, "other": OTHER_COLOR}


def legend_items(layer: Layer) -> list[tuple[str, str]]:
    """(label, colour) pairs for a layer coloured by a property; empty for a single-colour layer."""
    spec = layer_style(layer)
    return list(spec["palette"].items()) if spec["by"] else []


def legend_swatch(layer: Layer) -> str:
    """CSS for a single-colour layer's legend swatch: its outline, fill and dashes as drawn on the map."""
    st = layer_style(layer)["style"]
    color = st["color"]
    if layer.geom_type == "POINT":
        return f"background:{st['fillColor']};border-color:{color}"
    if layer.geom_type == "MULTILINESTRING":
        return f"background:transparent;border:0;border-top:3px solid {color};height:0"
    alpha = max(0.0, min(1.0, float(st["fillOpacity"])))
    fill = f"{color}{round(alpha * 255):02x}" if color.startswith("#") and len(color) == 7 else "transparent"
    border = "dashed" if st.get("dashArray") else "solid"
    return f"background:{fill};border:2px {border} {color}"
