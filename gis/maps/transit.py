"""The 交通マップ (/map/transit): bus routes in their GTFS colours, the stops, and a stop's next departures in JST,
phone first. Built with folium like the other pages; transit.js reads the OGC items of bus_routes / bus_stops and
GET /transit/stops/{id}/departures. The source, its data date and what the feed leaves out are always on screen.
"""

from __future__ import annotations

import json
from typing import Any

import folium
import jinja2

from gis.maps.assets import (
    GSI_ATTRIBUTION,
    GSI_TILES,
    LEAFLET_CSS,
    LEAFLET_JS,
    check_local_assets,
    static_url,
)
from gis.maps.builder import DEFAULT_BOUNDS, MAX_ZOOM, EmptyBase
from gis.maps.page import DomainPage

TRANSIT_JS = "map/transit.js"
TRANSIT_CSS = "map/transit.css"
NOT_IN_FEED = "西肥バス・JR九州バス・いまりんバス等の市のコミュニティバスはこのデータに含まれていません。"

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

PANEL = _env.from_string(
    """
<header id="gis-top">
  <div class="gis-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="gis-page-title">交通マップ</span><a class="gis-all" href="{{ root }}/map">地図</a></div>
  <div id="tr-msg" role="status" aria-live="polite"></div>
</header>
<div id="tr-caveat" class="tr-caveat" role="note">
  路線バスのみ（佐賀県 GTFS-JP、{{ data_date or "日付不明" }} 時点）。{{ caveat }}
</div>
<section id="tr-sheet" aria-label="停留所と次の発車">
  <div id="tr-stop"><p class="tr-hint">地図の停留所（丸）を押すと、次の発車時刻（日本時間）が出ます。</p></div>
  <details id="tr-routes-box"><summary>路線（色）</summary><ul id="tr-routes"></ul></details>
  <p class="tr-sources" id="tr-sources"></p>
</section>
"""
)


def build_transit_html(
    *,
    sources: list[dict[str, Any]],
    root: str = "",
    basemap: str = "pale",
    bounds: list[float] | None = None,
) -> str:
    """The whole 交通マップ as HTML; every script and style it loads is served by this service."""
    w, s, e, n = bounds or DEFAULT_BOUNDS
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=11, tiles=None, min_zoom=7, max_zoom=MAX_ZOOM)
    m._id = "main"
    m.default_js = [("leaflet", static_url(LEAFLET_JS, root))]
    m.default_css = [("leaflet_css", static_url(LEAFLET_CSS, root))]
    if basemap in GSI_TILES:
        name, url = GSI_TILES[basemap]
        folium.TileLayer(url, attr=GSI_ATTRIBUTION, name=name, max_zoom=MAX_ZOOM, max_native_zoom=18).add_to(m)
    else:
        EmptyBase("背景地図なし", show=True).add_to(m)
    m.fit_bounds([[s, w], [n, e]])
    dates = sorted(str(x["data_date"]) for x in sources if x.get("data_date"))
    config = {
        "root": root,
        "urls": {
            "routes": f"{root}/collections/bus_routes/items?limit=1000",
            "stops": f"{root}/collections/bus_stops/items?limit=5000",
            "departures": f"{root}/transit/stops/",
        },
        "caveat": NOT_IN_FEED,
        "sample": any(x.get("sample") for x in sources),
    }
    panel = PANEL.render(root=root, data_date=dates[-1] if dates else None, caveat=NOT_IN_FEED)
    page = panel + _config_script(config, sources)
    DomainPage("transit", "GisTransit", page, TRANSIT_JS, TRANSIT_CSS, root).add_to(m)
    root_el = m.get_root()
    root_el.title = "交通マップ | 伊万里市・武雄市 地図データサービス"
    page = root_el.render().replace("<html>", '<html lang="ja">', 1)
    return check_local_assets(page)


def _config_script(config: dict[str, Any], sources: list[dict[str, Any]]) -> str:
    """The page config and the sources behind it, as JSON the script reads (never executed)."""
    data = {**config, "sources": [_source(s) for s in sources]}
    text = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="tr-config">{text}</script>'


def _source(s: dict[str, Any]) -> dict[str, Any]:
    # Plain values: transit.js puts them into the page with textContent, never as markup.
    return {k: s.get(k) for k in ("title", "publisher", "licence", "attribution", "data_date", "sample", "note")}
