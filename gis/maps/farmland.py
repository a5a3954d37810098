"""The farmland page (/map/farmland): filter parcels that owners want to lend or sell, see them on the map, open one
with the public ledger items and their data dates, keep favourites in the browser and ask the city's 農業委員会.
Phone first, built with folium like the other domain pages; farmland.js talks only to /farmland/* (the browse API),
/geocode is not needed (the API takes `address`), and the parcels are drawn from the farmland vector tiles."""

from __future__ import annotations

import json
from typing import Any

import jinja2

from gis.cities import CITIES
from gis.maps.assets import (
    VECTORGRID_JS,
    check_local_assets,
)
from gis.maps.builder import MAX_ZOOM
from gis.maps.page import DomainPage, domain_map

FARMLAND_JS = "map/farmland.js"
# Used by farmland.js: one parcel's items and dates (the sheet), and the inquiry form.
FARMLAND_DETAIL_JS = "map/farmland-detail.js"
FARMLAND_INQUIRY_JS = "map/farmland-inquiry.js"
FARMLAND_CSS = "map/farmland.css"
# The choices of the filter panel; the values are the API's query parameters (issue 12), the labels what people read.
LAND_TYPES = (("", "すべて"), ("100", "田"), ("200", "畑"))
INTENTIONS = (("", "指定なし"), ("lend", "貸したい"), ("sell", "売りたい"))
NOSHIN = (
    ("", "指定なし"),
    ("nouyouchi", "農用地区域内"),
    ("noushin", "農振地域内（農用地区域外）"),
    ("outside", "農振地域外"),
)
SORTS = (
    ("", "標準（場所があれば近い順）"),
    ("distance", "近い順"),
    ("-area_m2", "面積の大きい順"),
    ("area_m2", "面積の小さい順"),
    ("available_from", "早く借りられる順"),
    ("oaza", "大字順"),
)
DISTANCES = ((500, "500 m"), (1000, "1 km"), (2000, "2 km"), (5000, "5 km"), (10000, "10 km"), (20000, "20 km"))
DEFAULT_DISTANCE = 2000
# Crops as the 水田台帳 writes them; a hint list only (the field takes any text the API accepts).
CROPS = ("水稲", "大豆", "麦", "野菜", "飼料作物", "そば", "果樹", "茶", "不作付")
# Colours of the map and the legend; farmland.js reads them from the config (one place).
COLORS = {
    "lend": {"fill": "#1a9641", "line": "#0b5d1e", "label": "貸したい"},
    "sell": {"fill": "#e66101", "line": "#8c3a00", "label": "売りたい"},
    "paddy": {"fill": "#b9d7ea", "line": "#6a9fc0", "label": "田（意向なし）"},
    "field": {"fill": "#e8dcb5", "line": "#b09a5a", "label": "畑（意向なし）"},
    "result": {"line": "#2b2d9e", "label": "条件に合う区画"},
    "selected": {"line": "#d7191c", "label": "選択中"},
}

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

PANEL = _env.from_string(
    """
<header id="gis-top">
  <div class="gis-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="gis-page-title">農地をさがす</span><a class="gis-all" href="{{ root }}/map">地図</a></div>
  <div id="fl-msg" role="status" aria-live="polite"></div>
</header>
<div id="gis-banner" class="gis-banner" role="note"{% if not sample %} hidden{% endif %}>
  <strong>サンプルデータです。</strong>農地の区画・台帳の項目・作付・貸したい/売りたいの意向は実データ未入手のため生成した架空のもので、実在の農地ではありません。
</div>
<section id="fl-sheet" aria-label="農地の条件・一覧・問い合わせ">
  <details id="fl-filter-box" open>
    <summary>条件でさがす <span id="fl-filter-sum" class="fl-sum"></span></summary>
    <form id="fl-filters" autocomplete="off">
      <div class="fl-row">
        <label class="fl-field">市<select name="city" id="fl-city">
          <option value="">両市</option>
          {% for code, name in cities.items() %}<option value="{{ code }}">{{ name }}</option>{% endfor %}
        </select></label>
        <label class="fl-field">大字<select name="oaza" id="fl-oaza"><option value="">すべて</option></select></label>
        <label class="fl-field fl-narrow">地番<input name="chiban" id="fl-chiban" inputmode="text"
          placeholder="例: 123" maxlength="40" disabled></label>
      </div>
      <fieldset class="fl-field fl-choice"><legend>地目</legend>
        {% for value, label in land_types %}<label><input type="radio" name="land_type" value="{{ value }}"
          {% if not value %} checked{% endif %}>{{ label }}</label>{% endfor %}
      </fieldset>
      <fieldset class="fl-field fl-choice"><legend>貸したい・売りたい</legend>
        {% for value, label in intentions %}<label><input type="radio" name="intention" value="{{ value }}"
          {% if not value %} checked{% endif %}>{{ label }}</label>{% endfor %}
      </fieldset>
      <div class="fl-row">
        <label class="fl-field">面積（m²）<span class="fl-range">
          <input name="area_min" id="fl-area-min" type="number" inputmode="numeric" min="0" step="1" placeholder="から">
          <span aria-hidden="true">〜</span>
          <input name="area_max" id="fl-area-max" type="number" inputmode="numeric" min="0" step="1" placeholder="まで">
        </span></label>
        <label class="fl-field">いつから借りられる<input name="available_from" id="fl-available" type="date"
          min="2000-01-01" max="9999-12-31"><small>この日までに借りられる農地（今すぐも含む）</small></label>
      </div>
      <div class="fl-row">
        <label class="fl-field">作物<input name="crop" id="fl-crop" list="fl-crops" maxlength="40"
          placeholder="例: 水稲"></label>
        <datalist id="fl-crops">{% for c in crops %}<option value="{{ c }}">{% endfor %}</datalist>
        <label class="fl-field">農振区分<select name="noshin" id="fl-noshin">
          {% for value, label in noshin %}<option value="{{ value }}">{{ label }}</option>{% endfor %}
        </select></label>
      </div>
      <div class="fl-row">
        <label class="fl-field fl-wide">場所から<span class="fl-place">
          <input name="address" id="fl-address" type="search" enterkeyhint="search" maxlength="200"
            placeholder="住所（例: 武雄市朝日町甘久）">
          <button type="button" id="fl-here" title="現在地から探す">現在地</button>
        </span></label>
        <label class="fl-field fl-narrow">距離<select name="within_m" id="fl-within">
          {% for d, label in distances %}<option value="{{ d }}"{% if d == default_distance %} selected{% endif %}>
            {{ label }}以内</option>{% endfor %}
        </select></label>
        <input type="hidden" name="lat" id="fl-lat"><input type="hidden" name="lon" id="fl-lon">
      </div>
      <div id="fl-here-note" class="fl-note" hidden></div>
      <div class="fl-row">
        <label class="fl-field">並び順<select name="sortby" id="fl-sort">
          {% for value, label in sorts %}<option value="{{ value }}">{{ label }}</option>{% endfor %}
        </select></label>
        <label class="fl-check"><input type="checkbox" name="fav" id="fl-fav" value="1">☆ お気に入りだけ</label>
      </div>
      <div class="fl-actions">
        <button type="submit" class="fl-primary">この条件でさがす</button>
        <button type="button" id="fl-reset">条件をクリア</button>
      </div>
    </form>
  </details>
  <div id="fl-results" aria-live="polite">
    <p id="fl-count" class="fl-count"></p>
    <ul id="fl-list" class="fl-list"></ul>
    <button type="button" id="fl-more" class="fl-more" hidden>もっと見る</button>
  </div>
  <article id="fl-detail" class="fl-detail" hidden aria-label="選んだ農地"></article>
  <details id="fl-inquiry-box">
    <summary>農業委員会に問い合わせる</summary>
    <form id="fl-inquiry" autocomplete="on" novalidate>
      <p class="fl-note">問い合わせには、農地のある市の<strong>農業委員会</strong>（{{ committees }}）がお答えします。
        所有者・耕作者の氏名や連絡先は公開していません。貸し借り・売買の相談は農業委員会が仲立ちします。</p>
      <fieldset id="fl-inq-parcels" class="fl-field">
        <legend>問い合わせる農地（選んだ農地・お気に入り、20筆まで）</legend>
        <p class="fl-hint" id="fl-inq-none">地図か一覧で農地を選ぶか、☆でお気に入りにするとここに出ます。</p>
      </fieldset>
      <label class="fl-field">お名前<input name="name" id="fl-inq-name" required maxlength="100"
        autocomplete="name"></label>
      <label class="fl-field">連絡先（電話番号またはメール）<input name="contact" id="fl-inq-contact" required
        maxlength="200" autocomplete="email"></label>
      <label class="fl-field">お問い合わせ内容<textarea name="message" id="fl-inq-message" required rows="4"
        maxlength="2000"
        placeholder="例: 田として借りたいです。水利や引き渡しの時期を知りたいです。"></textarea></label>
      <div class="fl-hp" aria-hidden="true"><label>ウェブサイト<input name="website" id="fl-inq-website"
        tabindex="-1" autocomplete="off"></label></div>
      <p class="fl-hint">入力した内容は農業委員会だけが見ます。公開されることはありません。</p>
      <button type="submit" class="fl-primary" id="fl-inq-send">送信する</button>
      <div id="fl-inq-result" role="status" aria-live="polite"></div>
    </form>
  </details>
  <p class="fl-sources" id="fl-sources"></p>
</section>
"""
)


def build_farmland_html(
    *,
    sample: bool,
    sources: list[dict[str, Any]],
    tile_zooms: tuple[int, int],
    contacts: dict[str, Any] | None = None,
    root: str = "",
    basemap: str = "pale",
    bounds: list[float] | None = None,
) -> str:
    """The whole farmland page as HTML; every script and style it loads is served by this service."""
    m = domain_map(
        bounds,
        root,
        basemap,
        extra_js=[
            ("vectorGrid", VECTORGRID_JS),
            ("gis_farmland_detail", FARMLAND_DETAIL_JS),
            ("gis_farmland_inquiry", FARMLAND_INQUIRY_JS),
        ],
    )
    config = {
        "root": root,
        "urls": {
            "parcels": f"{root}/farmland/parcels",
            "stats": f"{root}/farmland/stats",
            "inquiryForm": f"{root}/farmland/inquiries/form",
            "inquiries": f"{root}/farmland/inquiries",
            "tiles": f"{root}/tiles/farmland/{{z}}/{{x}}/{{y}}.mvt",
        },
        "tileZooms": list(tile_zooms),
        "maxZoom": MAX_ZOOM,
        "cities": {code: c.name for code, c in CITIES.items()},
        "committees": _committees(contacts),
        "labels": {
            "land_type": dict(LAND_TYPES[1:]),
            "intention": dict(INTENTIONS[1:]),
            "noshin": dict(NOSHIN[1:]),
            "sortby": dict(SORTS[1:]),
        },
        "colors": COLORS,
        "defaultDistance": DEFAULT_DISTANCE,
        "sample": sample,
    }
    panel = PANEL.render(
        root=root,
        sample=sample,
        cities=config["cities"],
        land_types=LAND_TYPES,
        intentions=INTENTIONS,
        noshin=NOSHIN,
        sorts=SORTS,
        crops=CROPS,
        distances=DISTANCES,
        default_distance=DEFAULT_DISTANCE,
        committees="・".join(c["name"] for c in config["committees"].values()),
    )
    DomainPage(
        "farmland", "GisFarmland", panel + _config_script(config, sources), FARMLAND_JS, FARMLAND_CSS, root
    ).add_to(m)
    root_el = m.get_root()
    root_el.title = "農地をさがす | 伊万里市・武雄市 地図データサービス"
    page = root_el.render().replace("<html>", '<html lang="ja">', 1)
    return check_local_assets(page)


def _committees(contacts: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Who answers inquiries per city: its 農業委員会, reached through the city hall's main number (no person)."""
    offices = (contacts or {}).get("cities", {})
    out = {}
    for code, city in CITIES.items():
        office = offices.get(code, {})
        out[code] = {
            "name": f"{city.name}農業委員会",
            "office": office.get("name"),
            "phone": office.get("phone"),
            "address": office.get("address"),
        }
    return out


def _config_script(config: dict[str, Any], sources: list[dict[str, Any]]) -> str:
    """The page config and the sources behind the page, as JSON the script reads (never executed)."""
    data = {**config, "sources": [_source(s) for s in sources]}
    text = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="fl-config">{text}</script>'


def _source(s: dict[str, Any]) -> dict[str, Any]:
    # Plain values: farmland.js puts them into the page with textContent, never as markup.
    return {k: s.get(k) for k in ("title", "publisher", "licence", "attribution", "data_date", "sample")}
