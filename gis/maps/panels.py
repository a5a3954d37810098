"""The page's own HTML around the Leaflet map: search bar, sample banner, legend, sources panel, page config."""

from __future__ import annotations

import json
from typing import Any

import jinja2

from gis.maps.assets import GSI_ATTRIBUTION

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

TOP = _env.from_string(
    """
<header id="gis-top">
  <div class="gis-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="gis-page-title">{{ title }}</span>
    {% if single %}<a class="gis-all" href="{{ root }}/map">すべてのレイヤ</a>{% endif %}</div>
  <form id="gis-search" role="search" autocomplete="off">
    <input id="gis-q" name="q" type="search" enterkeyhint="search" aria-label="住所で検索"
      placeholder="例: 武雄市武雄町武雄5680">
    <button type="submit">検索</button>
  </form>
  <div id="gis-search-msg" role="status" aria-live="polite"></div>
  <ul id="gis-candidates" hidden></ul>
</header>
<div id="gis-banner" class="gis-banner" role="note"{% if not shown_samples %} hidden{% endif %}>
  <strong>サンプルデータを含みます。</strong><span id="gis-banner-layers">{{ shown_samples | join("・") }}</span>
  は実データ未入手のため生成した架空のデータです（実在の区域・施設ではありません）。
</div>
"""
)

LEGEND = _env.from_string(
    """
<div id="gis-legend" class="gis-panel">
  <details{% if open %} open{% endif %}><summary>凡例</summary>
  <ul class="gis-legend-list">
  {% for l in layers %}
    <li class="gis-leg{% if not l.visible %} gis-off{% endif %}" data-layer="{{ l.id }}">
      <div class="gis-leg-title">
        {% if not l.palette %}<i class="gis-sw gis-sw-{{ l.geom | lower }}" style="{{ l.swatch }}"></i>{% endif %}
        {{ l.title }}{% if l.sample %} <span class="gis-tag">サンプル含む</span>{% endif %}</div>
      {% if l.palette %}
      <ul class="gis-swatches">
      {% for label, color in l.legend %}
        <li><i class="gis-sw" style="background:{{ color }}"></i>{{ label }}</li>
      {% endfor %}
      </ul>
      {% endif %}
      {% if l.min_zoom %}<div class="gis-leg-hint">ズーム{{ l.min_zoom }}以上で表示</div>{% endif %}
    </li>
  {% endfor %}
  </ul>
  </details>
</div>
"""
)

SOURCES = _env.from_string(
    """
<div id="gis-sources" class="gis-panel">
  <details><summary>出典・ライセンス</summary>
  <div class="gis-src-list">
  {% for l in layers %}
    <section data-layer="{{ l.id }}">
      <h3>{{ l.title }}{% if l.sample %} <span class="gis-tag">サンプル</span>{% endif %}</h3>
    {% for s in l.sources %}
      <p>{{ s.attribution }}<br><small>{{ s.publisher }}／ライセンス:
        {% if s.licence_url %}<a href="{{ s.licence_url }}" target="_blank" rel="noopener">{{ s.licence }}</a>
        {% else %}{{ s.licence }}{% endif %}
        {% if s.data_date %}／データ時点: {{ s.data_date }}{% endif %}
        {% if s.sample %}<span class="gis-tag">サンプル</span>{% endif %}</small></p>
    {% else %}
      <p><small>（データ未登録）</small></p>
    {% endfor %}
    </section>
  {% endfor %}
    <section><h3>背景地図</h3><p>{{ gsi | safe }}（国土地理院）</p></section>
    <p class="gis-note">境界付近や敷地単位の判断は必ず市の担当課へご確認ください。
      データは概ねの位置を示すもので、建築確認等には使えません。</p>
  </div>
  </details>
</div>
"""
)


def config_script(config: dict[str, Any]) -> str:
    """The page config as inert JSON in the HTML (read by map.js); `</` escaped so it cannot end the script."""
    text = json.dumps(config, ensure_ascii=False, separators=(",", ":"), default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="gis-config">{text}</script>'


def render_panels(*, layers: list[dict[str, Any]], title: str, single: bool, root: str, config: dict[str, Any]) -> str:
    """Top bar, banner, legend and sources panel (legend and sources are moved into Leaflet controls by map.js)."""
    shown_samples = [layer["title"] for layer in layers if layer["sample"] and layer["visible"]]
    return "\n".join(
        (
            TOP.render(title=title, single=single, root=root, shown_samples=shown_samples),
            LEGEND.render(layers=layers, open=True),
            SOURCES.render(layers=layers, gsi=GSI_ATTRIBUTION),
            config_script(config),
        )
    )
