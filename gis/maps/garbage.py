"""The garbage page (/map/garbage): my collection point, its next days, the month calendar, reminders, notices
and item search, phone first. Built with folium like the layer pages; garbage.js talks to the /garbage API."""

from __future__ import annotations

import json
from typing import Any

import jinja2

from gis.cities import CITIES
from gis.maps.assets import (
    GARBAGE_CSS,
    GARBAGE_JS,
    check_local_assets,
)
from gis.maps.page import DomainPage, domain_map

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

PANEL = _env.from_string(
    """
<header id="gis-top">
  <div class="gis-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="gis-page-title">ごみ出しナビ</span><a class="gis-all" href="{{ root }}/map">地図</a></div>
  <form id="gb-search" role="search" autocomplete="off">
    <input id="gb-q" name="q" type="search" enterkeyhint="search" aria-label="住所"
      placeholder="住所（例: 伊万里市立花町1355）">
    <button type="submit">探す</button>
    <button type="button" id="gb-here" title="現在地の近くの集積所">現在地</button>
  </form>
  <div id="gb-msg" role="status" aria-live="polite"></div>
</header>
<div id="gis-banner" class="gis-banner" role="note"{% if not sample %} hidden{% endif %}>
  <strong>サンプルデータです。</strong>集積所・収集日・品目は実データ未入手のため生成した架空のもので、実際の収集日ではありません。
</div>
<section id="gb-sheet" aria-label="集積所と収集日">
  <div id="gb-notices" aria-live="polite"></div>
  <div id="gb-point"><p class="gb-hint">
    住所を入れるか「現在地」を押すと、近くのごみ集積所と次の収集日が出ます。地図の点を押しても選べます。
  </p></div>
  <div id="gb-near"></div>
  <details id="gb-cal-box"><summary>月のカレンダー</summary><div id="gb-cal"></div></details>
  <details id="gb-sub-box"><summary>カレンダー登録・通知</summary>
    <div id="gb-sub"><p class="gb-hint">集積所を選ぶと登録できます。</p></div>
  </details>
  <details id="gb-items-box" open><summary>分別を調べる</summary>
    <form id="gb-items-form" autocomplete="off">
      <input id="gb-item-q" type="search" enterkeyhint="search" aria-label="品目"
        placeholder="品目（例: ペットボトル、でんち、kasa）">
      <button type="submit">調べる</button>
    </form>
    <ul id="gb-items"></ul>
  </details>
  <p class="gb-sources" id="gb-sources"></p>
</section>
"""
)


def build_garbage_html(
    *,
    sample: bool,
    sources: list[dict[str, Any]],
    root: str = "",
    basemap: str = "pale",
    bounds: list[float] | None = None,
) -> str:
    """The whole garbage page as HTML; every script and style it loads is served by this service."""
    m = domain_map(bounds, root, basemap)
    config = {
        "root": root,
        "urls": {
            "points": f"{root}/garbage/points",
            "allPoints": f"{root}/collections/garbage_points/items?limit=2000",
            "groups": f"{root}/garbage/groups",
            "items": f"{root}/garbage/items",
            "notices": f"{root}/garbage/notices",
            "pushKey": f"{root}/garbage/push/key",
            "subscriptions": f"{root}/garbage/subscriptions",
            "serviceWorker": f"{root}/garbage/sw.js",
        },
        "cities": {code: c.name for code, c in CITIES.items()},
        "sample": sample,
    }
    panel = PANEL.render(root=root, sample=sample) + _config_script(config, sources)
    DomainPage("garbage", "GisGarbage", panel, GARBAGE_JS, GARBAGE_CSS, root).add_to(m)
    root_el = m.get_root()
    root_el.title = "ごみ出しナビ | 伊万里市・武雄市 地図データサービス"
    page = root_el.render().replace("<html>", '<html lang="ja">', 1)
    return check_local_assets(page)


def _config_script(config: dict[str, Any], sources: list[dict[str, Any]]) -> str:
    """The page config and the sources behind the page, as JSON the scripts read (never executed)."""
    data = {**config, "sources": [_source(s) for s in sources]}
    text = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="gb-config">{text}</script>'


def _source(s: dict[str, Any]) -> dict[str, Any]:
    # Plain values: garbage.js puts them into the page with textContent, never as markup.
    return {k: s.get(k) for k in ("title", "publisher", "licence", "attribution", "data_date", "sample")}
