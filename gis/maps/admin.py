"""The staff page (/admin): layers, upload with a preview diff, history with rollback, the audit list and a map
editor for point layers. One static HTML shell; admin*.js signs in with a pasted token (kept in sessionStorage,
never in a URL or cookie) and talks to the staff APIs. Every script and style is served by this service."""

from __future__ import annotations

import json
from typing import Any

import jinja2
from markupsafe import Markup

from gis.cities import CITIES
from gis.maps.assets import (
    FAVICON,
    GSI_ATTRIBUTION,
    GSI_TILES,
    LEAFLET_CSS,
    LEAFLET_JS,
    check_local_assets,
    static_url,
)
from gis.maps.builder import DEFAULT_BOUNDS, MAX_ZOOM
from layers import LAYERS

GEOMAN = "vendor/leaflet-geoman-free-2.20.2"  # npm @geoman-io/leaflet-geoman-free, MIT (static/vendor/README.md)
GEOMAN_JS = f"{GEOMAN}/leaflet-geoman.min.js"
GEOMAN_CSS = f"{GEOMAN}/leaflet-geoman.css"
ADMIN_JS = ("admin/admin.js", "admin/admin-import.js", "admin/admin-history.js", "admin/admin-edit.js")
ADMIN_CSS = "admin/admin.css"
# Point layers staff keep current on the map (the paper maps of 事業18); others change through uploads.
MAP_EDIT_LAYERS = ("garbage_points", "cemeteries")
# Who may reach the page's APIs with a token: scripts from here only, base-map tiles from GSI, no frames.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://cyberjapandata.gsi.go.jp; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
PAGE = _env.from_string(
    """<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>職員ページ | 伊万里市・武雄市 地図データサービス</title>
<link rel="icon" type="image/svg+xml" href="{{ favicon }}">
{% for href in css %}<link rel="stylesheet" href="{{ href }}">
{% endfor %}
</head>
<body>
<header id="ad-top">
  <div class="ad-brand"><a href="{{ root }}/">伊万里市・武雄市 地図データ</a>
    <span class="ad-title">職員ページ</span></div>
  <div id="ad-who" hidden><span id="ad-who-name"></span>
    <button type="button" id="ad-signout">サインアウト</button></div>
</header>
<main>
<section id="ad-signin" aria-labelledby="ad-signin-h">
  <h1 id="ad-signin-h">サインイン</h1>
  <p>職員用トークンを貼り付けてください。トークンはこのタブを閉じると消えます（URLやCookieには保存しません）。</p>
  <form id="ad-signin-form" autocomplete="off">
    <label for="ad-token">トークン</label>
    <input id="ad-token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">サインイン</button>
  </form>
  <p id="ad-signin-msg" class="ad-msg" role="alert"></p>
</section>
<div id="ad-app" hidden>
  <nav class="ad-tabs" role="tablist" aria-label="機能">
    {% for id, label in tabs %}
    <button type="button" role="tab" id="ad-tab-{{ id }}" aria-controls="ad-panel-{{ id }}"
      aria-selected="false" data-tab="{{ id }}">{{ label }}</button>
    {% endfor %}
  </nav>
  <p id="ad-msg" class="ad-msg" role="status" aria-live="polite"></p>
  <section id="ad-panel-layers" role="tabpanel" aria-labelledby="ad-tab-layers" hidden>
    <p class="ad-hint">各レイヤーの版・件数・データ時点・サンプルの有無・最後の取込。</p>
    <div class="ad-scroll"><table id="ad-layers" class="ad-table"></table></div>
  </section>
  <section id="ad-panel-import" role="tabpanel" aria-labelledby="ad-tab-import" hidden>
    <form id="ad-import-form" autocomplete="off">
      <label>レイヤー <select id="ad-import-layer" name="layer"></select></label>
      <label>ファイル <input id="ad-import-file" name="file" type="file"
        accept=".geojson,.json,.csv,.gpkg,.fgb,.zip"></label>
      <p class="ad-hint">GeoJSON・CSV（経度/緯度の列）・GeoPackage・FlatGeobuf・Shapefile（zip）。</p>
      <label class="ad-check"><input type="checkbox" name="replace" checked>
        置換（ファイルにある市の行を入れ替える）</label>
      <details><summary>詳しい設定</summary>
        <label class="ad-check"><input type="checkbox" name="force"> 件数の大幅な減少・範囲の移動を許可（force）</label>
        <label class="ad-check"><input type="checkbox" name="allow_outside"> 市の区域外の地物も取り込む</label>
        <label class="ad-check"><input type="checkbox" name="sample"> サンプルデータとして取り込む</label>
        <label>座標系 <input name="crs" placeholder="例: EPSG:6670（ファイルにない時）"></label>
        <label>市 <select name="city"><option value="">ファイルの値</option>
          {% for code, name in cities %}<option value="{{ code }}">{{ name }}（{{ code }}）</option>{% endfor %}
        </select></label>
        <label>GeoPackageのレイヤー名 <input name="layer_name"></label>
        <label>出典の名称 <input name="title" placeholder="既定: ファイル名"></label>
        <label>提供者 <input name="publisher" placeholder="例: 武雄市"></label>
        <label>ライセンス <input name="licence" placeholder="例: CC BY 4.0"></label>
        <label>帰属表示 <input name="attribution"></label>
        <label>データ時点 <input name="data_date" type="date"></label>
      </details>
      <div class="ad-buttons">
        <button type="button" id="ad-preview">プレビュー</button>
        <button type="button" id="ad-apply" class="ad-primary" disabled>適用</button>
      </div>
    </form>
    <div id="ad-import-result" aria-live="polite"></div>
  </section>
  <section id="ad-panel-history" role="tabpanel" aria-labelledby="ad-tab-history" hidden>
    <label>レイヤー <select id="ad-history-layer"></select></label>
    <div class="ad-scroll"><table id="ad-history" class="ad-table"></table></div>
  </section>
  <section id="ad-panel-audit" role="tabpanel" aria-labelledby="ad-tab-audit" hidden>
    <form id="ad-audit-form" class="ad-filters" autocomplete="off">
      <label>レイヤー <select name="layer"><option value="">すべて</option></select></label>
      <label>実行者 <input name="actor"></label>
      <label>操作 <select name="op"><option value="">すべて</option>
        <option value="insert">追加</option><option value="update">変更</option><option value="delete">削除</option>
      </select></label>
      <label>地物ID <input name="feature" inputmode="numeric"></label>
      <label>から <input name="since" type="date"></label>
      <label>まで <input name="until" type="date"></label>
      <button type="submit">表示</button>
    </form>
    <div class="ad-scroll"><table id="ad-audit" class="ad-table"></table></div>
    <div class="ad-buttons"><button type="button" id="ad-audit-prev">前へ</button>
      <button type="button" id="ad-audit-next">次へ</button></div>
  </section>
  <section id="ad-panel-edit" role="tabpanel" aria-labelledby="ad-tab-edit" hidden>
    <div class="ad-edit-bar">
      <label>レイヤー <select id="ad-edit-layer"></select></label>
      <button type="button" id="ad-edit-add">点を追加</button>
      <button type="button" id="ad-edit-move" aria-pressed="false">移動</button>
    </div>
    <p class="ad-hint">点を押すと属性を編集できます。「移動」を押してから点をドラッグすると位置を保存します。</p>
    <div id="ad-map"></div>
    <form id="ad-edit-form" hidden autocomplete="off"></form>
  </section>
</div>
</main>
<dialog id="ad-confirm">
  <form method="dialog">
    <p id="ad-confirm-text"></p>
    <div class="ad-buttons"><button value="cancel">やめる</button>
      <button value="ok" id="ad-confirm-ok" class="ad-danger">実行する</button></div>
  </form>
</dialog>
<script type="application/json" id="ad-config">{{ config_json }}</script>
{% for src in js %}<script src="{{ src }}"></script>
{% endfor %}
</body>
</html>
"""
)
TABS = (("layers", "レイヤー"), ("import", "取込"), ("history", "履歴"), ("audit", "監査ログ"), ("edit", "地図編集"))


def layer_config() -> list[dict[str, Any]]:
    """What the page needs of each declared layer: names, geometry, whether it can be uploaded or edited."""
    out = []
    for layer in LAYERS.values():
        out.append(
            {
                "id": layer.id,
                "title": layer.title,
                "geom": layer.geom_type,
                "label": layer.label,
                "derived_from": layer.derived_from,
                "map_edit": layer.id in MAP_EDIT_LAYERS,
                "required": [c.name for c in layer.public_columns if c.required],
                "style": {k: v for k, v in layer.style.items() if k in ("color", "radius")},
            }
        )
    return out


def build_admin_html(*, root: str = "", basemap: str = "pale") -> str:
    """The whole staff page as HTML (static: it holds no data; the scripts fetch it with the token)."""
    tiles = None
    if basemap in GSI_TILES:
        name, url = GSI_TILES[basemap]
        tiles = {"name": name, "url": url, "attribution": GSI_ATTRIBUTION, "maxZoom": MAX_ZOOM}
    config = {
        "root": root,
        "layers": layer_config(),
        "cities": {code: c.name for code, c in CITIES.items()},
        "bounds": DEFAULT_BOUNDS,
        "tiles": tiles,
        "maxZoom": MAX_ZOOM,
    }
    text = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    html = PAGE.render(
        root=root,
        favicon=static_url(FAVICON, root),
        css=[static_url(p, root) for p in (LEAFLET_CSS, GEOMAN_CSS, ADMIN_CSS)],
        js=[static_url(p, root) for p in (LEAFLET_JS, GEOMAN_JS, *ADMIN_JS)],
        tabs=TABS,
        cities=[(code, c.name) for code, c in CITIES.items()],
        config_json=Markup(text),
    )
    return check_local_assets(html)
