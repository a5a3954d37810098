"""The element a domain page adds to its folium map: its panel HTML, its script and style, and the init hook."""

from __future__ import annotations

from collections.abc import Sequence

import folium
from folium.elements import JSCSSMixin
from folium.template import Template

from gis.maps.assets import FAVICON, GSI_ATTRIBUTION, GSI_TILES, LEAFLET_CSS, LEAFLET_JS, MAP_CSS, static_url
from gis.maps.builder import DEFAULT_BOUNDS, MAX_ZOOM, EmptyBase


class DomainPage(JSCSSMixin):
    """A page's panel, `<domain>.js`/`.css` (after map.css) and `Gis<Domain>.init(map)` once the map exists."""

    _template = Template(
        """
{% macro header(this, kwargs) %}<link rel="icon" type="image/svg+xml" href="{{ this.favicon }}">{% endmacro %}
{% macro html(this, kwargs) %}{{ this.panel }}{% endmacro %}
{% macro script(this, kwargs) %}{{ this.module }}.init({{ this._parent.get_name() }});{% endmacro %}
"""
    )

    def __init__(self, domain: str, module: str, panel: str, js: str, css: str, root: str) -> None:
        super().__init__()
        self._name = f"{module}Page"
        self.module = module
        self.panel = panel
        self.favicon = static_url(FAVICON, root)
        self.default_js = [(f"gis_{domain}", static_url(js, root))]
        self.default_css = [("gis_map_css", static_url(MAP_CSS, root)), (f"gis_{domain}_css", static_url(css, root))]


def domain_map(
    bounds: Sequence[float] | None, root: str, basemap: str, extra_js: Sequence[tuple[str, str]] = ()
) -> folium.Map:
    """The base map of a domain page: vendored Leaflet (+ `extra_js` asset paths), the chosen GSI base, fitted."""
    w, s, e, n = bounds or DEFAULT_BOUNDS
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=11, tiles=None, min_zoom=7, max_zoom=MAX_ZOOM)
    m._id = "main"
    m.default_js = [("leaflet", static_url(LEAFLET_JS, root)), *((k, static_url(p, root)) for k, p in extra_js)]
    m.default_css = [("leaflet_css", static_url(LEAFLET_CSS, root))]
    if basemap in GSI_TILES:
        name, url = GSI_TILES[basemap]
        folium.TileLayer(url, attr=GSI_ATTRIBUTION, name=name, max_zoom=MAX_ZOOM, max_native_zoom=18).add_to(m)
    else:
        EmptyBase("背景地図なし", show=True).add_to(m)
    m.fit_bounds([[s, w], [n, e]])
    return m
