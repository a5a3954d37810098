"""The live sensor page (/map/sensors): every inundation sensor coloured by its state, refreshed by a short poll of
GET /sensors (If-None-Match), with the flooded and silent lists and the latest events. Built with folium like the
garbage page; sensors.js talks to the /sensors API and formats every time in JST itself."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jinja2

from gis.cities import CITIES
from gis.maps.assets import (
    SENSORS_CSS,
    SENSORS_JS,
    check_local_assets,
)
from gis.maps.page import DomainPage, domain_map
from gis.maps.styles import layer_style
from layers.base import Layer

# Layers drawn under the sensors when they are declared (another issue adds them); skipped while they are not.
CONTEXT_LAYERS = ("flood_history", "shelters")
# Context points are drawn as a small neutral badge with a glyph (not as coloured dots, which could be read as a
# sensor state); the glyph per layer, else the first character of its title.
CONTEXT_GLYPHS = {"shelters": "避"}
# Seconds between polls of /sensors: the default, and the bounds within which ?poll= is honoured.
POLL_SECONDS = 15
POLL_BOUNDS = (2, 300)
# Failed polls after which the markers are greyed out and the lists marked 「古い情報」.
STALE_AFTER_FAILURES = 2
# The states as sensors.js draws them, on the map and in every list (the legend shows the same): each has its own
# shape AND its own glyph AND its own text, so no state is told by colour alone; a silent sensor is never drawn as
# dry. `note` says what the state means ("10分" follows the rule in force); `size` is the map symbol in px.
STATES = {
    "flooded": {
        "label": "浸水",
        "note": "10分以上続けて冠水",
        "glyph": "浸",
        "shape": "四角",
        "color": "#6d0000",
        "fill": "#d32f2f",
        "text": "#ffffff",
        "size": 28,
    },
    "wet": {
        "label": "冠水中",
        "note": "冠水を検知・10分未満",
        "glyph": "冠",
        "shape": "ひし形",
        "color": "#7a4f00",
        "fill": "#ffb300",
        "text": "#000000",
        "size": 28,
    },
    "dry": {
        "label": "乾",
        "note": "水なし・通報あり",
        "glyph": "乾",
        "shape": "丸",
        "color": "#1b5e20",
        "fill": "#43a047",
        "text": "#ffffff",
        "size": 20,
    },
    "unknown": {
        "label": "不明",
        "note": "通報途絶・乾とは限らない",
        "glyph": "?",
        "shape": "点線の丸",
        "color": "#555555",
        "fill": "#ffffff",
        "text": "#333333",
        "size": 22,
    },
}

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

PANEL = _env.from_string(
    """
{% macro sym(key, s) %}<i class="sn-sym sn-{{ key }}" aria-hidden="true"><b>{{ s.glyph }}</b></i>{% endmacro %}
<style id="sn-state-style">
{% for key, s in states.items() %}
  .sn-{{ key }} { background: {{ s.fill }}; border-color: {{ s.color }}; color: {{ s.text }}; }
{% endfor %}
</style>
<header id="gis-top">
  <div class="gis-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="gis-page-title">浸水センサ（ライブ）</span><a class="gis-all" href="{{ root }}/map">地図</a></div>
  <div id="sn-status" role="status" aria-live="polite">
    <span id="sn-updated">読み込み中…</span><span id="sn-error" hidden></span>
  </div>
</header>
<div id="gis-banner" class="gis-banner" role="note"{% if not sample %} hidden{% endif %}>
  <strong>サンプルデータです。</strong>センサの位置・状態は実データ未入手のため生成した架空のもので、実際の冠水状況ではありません。
</div>
<section id="sn-sheet" aria-label="センサの状態">
  <div id="sn-stale" class="sn-stale-note" role="alert" hidden>
    古い情報です：更新できないため、表示中の状態は最新ではありません。
  </div>
  <ul id="sn-counts" class="sn-counts" aria-label="状態ごとの台数">
  {% for key, s in states.items() %}
    <li data-state="{{ key }}">{{ sym(key, s) }}<span class="sn-count-label"><b class="sn-state-label">
      {{- s.label }}</b><small class="sn-state-note">{{ s.note }}</small></span><strong class="sn-count">–</strong></li>
  {% endfor %}
  </ul>
  <h2>浸水・冠水中 <span class="sn-sub">（長く続いている順）</span></h2>
  <ul id="sn-flooded" class="sn-list"><li class="sn-hint">読み込み中…</li></ul>
  <h2>不明（通報途絶） <span class="sn-sub">（長く途絶えている順）</span></h2>
  <ul id="sn-silent" class="sn-list"><li class="sn-hint">読み込み中…</li></ul>
  <h2>最近の出来事</h2>
  <ul id="sn-events" class="sn-list sn-events"><li class="sn-hint">読み込み中…</li></ul>
  <details id="sn-legend-box"><summary>凡例・判定のしかた</summary>
    <ul class="sn-legend">
    {% for key, s in states.items() %}
      <li data-state="{{ key }}">{{ sym(key, s) }}<span><b class="sn-state-label">{{ s.label }}</b>
        <small class="sn-state-note">{{ s.note }}</small><small>（{{ s.shape }}に「{{ s.glyph }}」）</small></span></li>
    {% endfor %}
    {% for c in context %}
      <li>{% if c.glyph %}<i class="sn-ctx-pt" aria-hidden="true"><b>{{ c.glyph }}</b></i>
        {%- else %}<i class="sn-ctx" style="{{ c.swatch }}" aria-hidden="true"></i>{% endif %}{{ c.title }}</li>
    {% endfor %}
    </ul>
    <p class="sn-hint" id="sn-rules">冠水を検知すると「冠水中」、10分以上続くと「浸水」、
      定時通報が間隔の2倍の時間届かないと「不明」になります（「乾」とは表示しません）。
      時刻はすべて日本時間（JST）です。</p>
  </details>
  <p class="sn-sources" id="sn-sources"></p>
</section>
"""
)


def context_layers(layers: Mapping[str, Layer], root: str = "") -> list[dict[str, Any]]:
    """The context layers (2021 flood extent, shelters) that are declared, with their items URL and style."""
    out = []
    for lid in CONTEXT_LAYERS:
        layer = layers.get(lid)
        if layer is None:
            continue
        style = layer_style(layer)["style"]
        fill = style.get("fillColor", style["color"])
        out.append(
            {
                "id": lid,
                "title": layer.title,
                "geom": layer.geom_type,
                "label": layer.label,
                "items": f"{root}/collections/{lid}/items?limit=5000",
                "style": style,
                "swatch": f"background:{fill};border-color:{style['color']}",
                "glyph": CONTEXT_GLYPHS.get(lid, layer.title[:1]) if layer.geom_type.endswith("POINT") else None,
            }
        )
    return out


def build_sensors_html(
    *,
    sample: bool,
    sources: list[dict[str, Any]],
    context: list[dict[str, Any]] | None = None,
    root: str = "",
    basemap: str = "pale",
    bounds: list[float] | None = None,
) -> str:
    """The whole live sensor page as HTML; every script and style it loads is served by this service."""
    context = context or []
    m = domain_map(bounds, root, basemap)
    config = {
        "root": root,
        "urls": {
            "sensors": f"{root}/sensors",
            "events": f"{root}/sensors/events?limit=20",
            "history": f"{root}/sensors/{{id}}/history",
        },
        "poll": {"seconds": POLL_SECONDS, "min": POLL_BOUNDS[0], "max": POLL_BOUNDS[1]},
        "staleAfter": STALE_AFTER_FAILURES,
        "states": STATES,
        "context": [{k: v for k, v in c.items() if k != "swatch"} for c in context],
        "cities": {code: c.name for code, c in CITIES.items()},
        "sample": sample,
    }
    panel = PANEL.render(root=root, sample=sample, states=STATES, context=context)
    panel += _config_script(config, sources)
    DomainPage("sensors", "GisSensors", panel, SENSORS_JS, SENSORS_CSS, root).add_to(m)
    root_el = m.get_root()
    root_el.title = "浸水センサ（ライブ） | 伊万里市・武雄市 地図データサービス"
    page = root_el.render().replace("<html>", '<html lang="ja">', 1)
    return check_local_assets(page)


def _config_script(config: dict[str, Any], sources: list[dict[str, Any]]) -> str:
    """The page config and the sources behind the page, as JSON the scripts read (never executed)."""
    data = {**config, "sources": [_source(s) for s in sources]}
    text = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="sn-config">{text}</script>'


def _source(s: dict[str, Any]) -> dict[str, Any]:
    # Plain values: sensors.js puts them into the page with textContent, never as markup.
    return {k: s.get(k) for k in ("title", "publisher", "licence", "attribution", "data_date", "sample")}
