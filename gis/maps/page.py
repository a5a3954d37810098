"""The element a domain page adds to its folium map: its panel HTML, its script and style, and the init hook."""

from __future__ import annotations

from folium.elements import JSCSSMixin
from folium.template import Template

from gis.maps.assets import FAVICON, MAP_CSS, static_url


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
