"""The 交通マップ (/map/transit): bus routes in their GTFS colours, the stops, and a stop's next departures in JST,
phone first. Built with folium like the other pages; transit.js reads the OGC items of bus_routes / bus_stops and
GET /transit/stops/{id}/departures. The source, its data date and what the feed leaves out are always on screen.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2

from gis.maps.assets import (
    check_local_assets,
)
from gis.maps.page import DomainPage, domain_map

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
    m = domain_map(bounds, root, basemap)
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
