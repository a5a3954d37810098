"""Build a map page with folium: 地理院タイル base maps, one overlay per layer, legend, sources, search, report."""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass, field
from typing import Any

import folium
from folium.elements import JSCSSMixin
from folium.map import Layer as FoliumLayer
from folium.plugins import VectorGridProtobuf
from folium.template import Template

from gis.cities import CITIES
from gis.maps.assets import (
    BASEMAPS,
    FAVICON,
    GSI_ATTRIBUTION,
    GSI_TILES,
    LEAFLET_CSS,
    LEAFLET_JS,
    MAP_CSS,
    MAP_JS,
    NO_BASEMAP,
    REPORT_JS,
    SEARCH_JS,
    VECTORGRID_JS,
    check_local_assets,
    static_url,
)
from gis.maps.panels import render_panels
from gis.maps.styles import DETAIL_ZOOM, layer_style, legend_items, legend_swatch
from layers.base import Layer

# Both cities (N03 extent, rounded out); used when the database has no extent yet.
DEFAULT_BOUNDS = [129.70, 33.08, 130.13, 33.42]
MAX_ZOOM = 18


@dataclass
class PageLayer:
    """One layer on a page with what the database says about it now (counts, sample rows, sources)."""

    layer: Layer
    count: int = 0
    sample_rows: int = 0
    sources: list[dict[str, Any]] = field(default_factory=list)
    visible: bool = True
    # The zooms the tile server has tiles for (big layers); None: the layer's own zoom range.
    tile_zooms: tuple[int, int] | None = None

    @property
    def sample(self) -> bool:
        """True when any row of the layer is sample data."""
        return self.sample_rows > 0

    @property
    def tile_range(self) -> tuple[int, int]:
        """Zooms with vector tiles of this layer."""
        return self.tile_zooms or (self.layer.min_zoom, self.layer.max_zoom)

    @property
    def shown_from(self) -> int:
        """The zoom from which the page draws the layer (vector tiles start there for big layers)."""
        return self.tile_range[0] if self.layer.big else self.layer.min_zoom


class EmptyBase(FoliumLayer):
    """A base layer with nothing in it: 「背景地図なし」 (and no tile requests)."""

    _template = Template(
        """{% macro script(this, kwargs) %}var {{ this.get_name() }} = L.layerGroup();{% endmacro %}"""
    )

    def __init__(self, name: str, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "EmptyBase"


class MapPage(JSCSSMixin):
    """Our panels (HTML), page code (map.js, report.js, map.css) and the hook that hands the layers to map.js."""

    _template = Template(
        """
{% macro header(this, kwargs) %}<link rel="icon" type="image/svg+xml" href="{{ this.favicon }}">{% endmacro %}
{% macro html(this, kwargs) %}{{ this.panels }}{% endmacro %}
{% macro script(this, kwargs) %}
GisMap.init({{ this._parent.get_name() }}, {
{%- for id, group in this.groups.items() %}{{ id|tojson }}: {{ group.get_name() }},{% endfor -%}
});
{% endmacro %}
"""
    )

    def __init__(self, panels: str, groups: dict[str, folium.FeatureGroup], root: str) -> None:
        super().__init__()
        self._name = "MapPage"
        self.panels = panels
        self.groups = groups
        self.favicon = static_url(FAVICON, root)
        self.default_js = [
            ("gis_report", static_url(REPORT_JS, root)),
            ("gis_search", static_url(SEARCH_JS, root)),
            ("gis_map", static_url(MAP_JS, root)),
        ]
        self.default_css = [("gis_map_css", static_url(MAP_CSS, root))]


def _layer_config(p: PageLayer, root: str) -> dict[str, Any]:
    """What map.js needs to draw one layer: URLs, zooms, style and palette."""
    layer = p.layer
    return {
        "id": layer.id,
        "title": layer.title,
        "geom": layer.geom_type,
        "label": layer.label,
        "count": p.count,
        "sample": p.sample,
        "sampleRows": p.sample_rows,
        "visible": p.visible,
        "tiles": layer.big,
        "detailZoom": DETAIL_ZOOM.get(layer.id) if layer.big else None,
        "minZoom": p.shown_from,
        "tileZooms": list(p.tile_range),
        "items": f"{root}/collections/{layer.id}/items",
        "tileUrl": f"{root}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt",
        **layer_style(layer),
    }


def _panel_layer(p: PageLayer) -> dict[str, Any]:
    """What the legend and the sources panel show for one layer."""
    return {
        "id": p.layer.id,
        "title": p.layer.title,
        "geom": p.layer.geom_type,
        "sample": p.sample,
        "visible": p.visible,
        "legend": legend_items(p.layer),
        "palette": bool(legend_items(p.layer)),
        "swatch": legend_swatch(p.layer),
        "min_zoom": p.shown_from,
        "sources": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in s.items()} for s in p.sources],
    }


def _control_label(p: PageLayer) -> str:
    """The layer control's label (HTML: Leaflet inserts it as markup)."""
    label = html_lib.escape(p.layer.title)
    return label + (' <span class="gis-tag">サンプル</span>' if p.sample else "")


def _add_base_maps(m: folium.Map, basemap: str) -> None:
    """地理院タイル 淡色/標準 and 「背景地図なし」; only the selected one is added at load."""
    for key in ("pale", "std"):
        name, url = GSI_TILES[key]
        folium.TileLayer(
            url, attr=GSI_ATTRIBUTION, name=name, max_zoom=MAX_ZOOM, max_native_zoom=18, show=basemap == key
        ).add_to(m)
    EmptyBase(NO_BASEMAP, show=basemap == "none").add_to(m)


def _add_overlay(m: folium.Map, p: PageLayer, root: str) -> folium.FeatureGroup:
    """One overlay: an empty group that map.js fills from the items endpoint, plus vector tiles for big layers."""
    group = folium.FeatureGroup(name=_control_label(p), overlay=True, control=True, show=p.visible)
    if p.layer.big:
        tiles = VectorGridProtobuf(
            f"{root}/tiles/{p.layer.id}/{{z}}/{{x}}/{{y}}.mvt",
            name=None,
            # Plain JS: map.js supplies the style function, zoom range and pane.
            options=f"GisMap.tileOptions({p.layer.id!r}, {m.get_name()})",
            overlay=True,
            control=False,
        )
        tiles.default_js = [("vectorGrid", static_url(VECTORGRID_JS, root))]
        group.add_child(tiles)
    group.add_to(m)
    return group


def build_map_html(
    layers: list[PageLayer],
    *,
    title: str,
    basemap: str = "pale",
    bounds: list[float] | None = None,
    single: bool = False,
    root: str = "",
) -> str:
    """The whole page as HTML; every script and style it loads is served by this service."""
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {', '.join(BASEMAPS)}")
    w, s, e, n = bounds or DEFAULT_BOUNDS
    m = folium.Map(
        location=[(s + n) / 2, (w + e) / 2],
        zoom_start=10,
        tiles=None,
        min_zoom=7,
        max_zoom=MAX_ZOOM,
        # map.js adds a metric-only scale.
        control_scale=False,
    )
    # A stable name: map.js and the browser tests find the map as window.map_main.
    m._id = "main"
    # Instance attributes, so folium's class-level CDN lists are never used (nor modified).
    m.default_js = [("leaflet", static_url(LEAFLET_JS, root))]
    m.default_css = [("leaflet_css", static_url(LEAFLET_CSS, root))]
    _add_base_maps(m, basemap)
    groups = {p.layer.id: _add_overlay(m, p, root) for p in layers}
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    m.fit_bounds([[s, w], [n, e]])
    config = {
        "title": title,
        "single": single,
        "basemap": basemap,
        "maxZoom": MAX_ZOOM,
        "urls": {"lookup": f"{root}/lookup", "geocode": f"{root}/geocode"},
        "cities": {code: c.name for code, c in CITIES.items()},
        "layers": [_layer_config(p, root) for p in layers],
    }
    panels = render_panels(
        layers=[_panel_layer(p) for p in layers], title=title, single=single, root=root, config=config
    )
    MapPage(panels, groups, root).add_to(m)
    root_el = m.get_root()
    root_el.title = html_lib.escape(f"{title} | 伊万里市・武雄市 地図データサービス")
    page = root_el.render()
    page = page.replace("<html>", '<html lang="ja">', 1)
    return check_local_assets(page)
