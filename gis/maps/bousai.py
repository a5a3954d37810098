"""The 防災マップ (/map/bousai): shelters filtered by hazard, the 2021 flood extent, the statutory flood and 土砂 zones
when loaded (データ未整備 when not), and the inundation sensors when GET /sensors answers. Phone first; built with
folium like the garbage page; bousai.js reads the layers through the features API."""

from __future__ import annotations

import json
from typing import Any

import jinja2

from gis.maps.assets import (
    check_local_assets,
)
from gis.maps.page import DomainPage, domain_map

BOUSAI_JS = "map/bousai.js"
BOUSAI_CSS = "map/bousai.css"
# The page's layers: (layer id, what the page calls it). Zones with no rows are listed as データ未整備.
LAYERS = (
    ("shelters", "避難場所・避難所"),
    ("flood_history", "過去の浸水範囲（令和3年8月）"),
    ("flood_risk", "洪水浸水想定区域"),
    ("landslide_zones", "土砂災害警戒区域"),
    ("inundation_sensors", "浸水センサ"),
)
# The hazard filter: (shelters column, label on the chip).
HAZARD_FILTERS = (
    ("flood", "洪水"),
    ("landslide", "土砂"),
    ("earthquake", "地震"),
    ("tsunami", "津波"),
    ("storm_surge", "高潮"),
    ("large_fire", "大火事"),
    ("inland_flood", "内水"),
    ("volcano", "火山"),
)

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
PANEL = _env.from_string(
    """
<header id="gis-top">
  <div class="gis-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="gis-page-title">防災マップ</span><a class="gis-all" href="{{ root }}/map">地図</a></div>
  <div id="bs-filter" role="group" aria-label="災害の種類で避難場所を絞り込む">
    <button type="button" class="bs-chip" data-hazard="" aria-pressed="true">すべて</button>
    {% for col, label in hazards %}
    <button type="button" class="bs-chip" data-hazard="{{ col }}" aria-pressed="false">{{ label }}</button>
    {% endfor %}
  </div>
  <div id="bs-msg" role="status" aria-live="polite"></div>
</header>
<div id="gis-banner" class="gis-banner" role="note"{% if not sample_layers %} hidden{% endif %}>
  <strong>サンプルデータを含みます:</strong> {{ sample_layers | join("、") }}
  は実データ未入手のため生成した架空のものです。
</div>
<section id="bs-sheet" aria-label="避難場所と防災情報">
  <p class="bs-hint">災害の種類を押すと、その災害に指定された<strong>指定緊急避難場所</strong>だけを表示します。
    指定避難所（避難生活の場）は災害種別の指定がないため、同じ住所の指定緊急避難場所の指定を写したものだけ絞り込まれます。</p>
  <ul id="bs-layers">
    {% for l in layers %}
    <li data-layer="{{ l.id }}"><label><input type="checkbox" class="bs-toggle" value="{{ l.id }}"
      {% if l.count and l.id != "inundation_sensors" %}checked{% endif %}{% if not l.count %} disabled{% endif %}>
      {{ l.label }}</label>
      {% if not l.count %}<span class="bs-nodata">データ未整備</span>{% endif %}
      {% if l.sample %}<span class="gis-tag gis-sample">サンプル</span>{% endif %}</li>
    {% endfor %}
  </ul>
  <p class="bs-note">過去の浸水範囲は令和3年8月の大雨（六角川）の推定範囲で、武雄市の一部だけです。
    洪水浸水想定区域ではなく、浸水の深さもありません。範囲の外でも浸水しなかったとは限りません。</p>
  <h3>近くの避難場所</h3>
  <ol id="bs-list"><li class="bs-hint">地図を動かすと、画面の中心に近い順に表示します。</li></ol>
  <h3>出典・データ時点</h3>
  <ul id="bs-sources">
    {% for s in sources %}
    <li>{{ s.title }}（{{ s.publisher }}、{{ s.licence }}{% if s.data_date %}、{{ s.data_date }} 時点{% endif %}）
      {% if s.sample %}<span class="gis-tag gis-sample">サンプル</span>{% endif %}</li>
    {% endfor %}
  </ul>
</section>
"""
)


def build_bousai_html(
    *,
    counts: dict[str, int],
    samples: dict[str, bool],
    sources: list[dict[str, Any]],
    root: str = "",
    basemap: str = "pale",
    bounds: list[float] | None = None,
) -> str:
    """The whole 防災 page as HTML; every script and style it loads is served by this service."""
    m = domain_map(bounds, root, basemap)
    layers = [
        {"id": lid, "label": label, "count": counts.get(lid, 0), "sample": samples.get(lid, False)}
        for lid, label in LAYERS
    ]
    sample_layers = [x["label"] for x in layers if x["sample"] and x["count"]]
    config = {
        "root": root,
        "urls": {lid: f"{root}/collections/{lid}/items?limit=2000" for lid, _ in LAYERS},
        "sensors": f"{root}/sensors",
        "layers": layers,
        "hazards": dict(HAZARD_FILTERS),
    }
    config["urls"]["inundation_sensors"] = f"{root}/sensors"
    panel = PANEL.render(
        root=root, hazards=HAZARD_FILTERS, layers=layers, sample_layers=sample_layers, sources=sources
    ) + _config_script(config)
    DomainPage("bousai", "GisBousai", panel, BOUSAI_JS, BOUSAI_CSS, root).add_to(m)
    root_el = m.get_root()
    root_el.title = "防災マップ | 伊万里市・武雄市 地図データサービス"
    page = root_el.render().replace("<html>", '<html lang="ja">', 1)
    return check_local_assets(page)


def _config_script(config: dict[str, Any]) -> str:
    """The page config as JSON the script reads (never executed)."""
    text = json.dumps(config, ensure_ascii=False, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="bs-config">{text}</script>'
