"""Map pages: HTML served without any CDN, and the pages working in a real headless Chromium."""

from __future__ import annotations

import json
import re
import time
from itertools import combinations
from urllib.parse import urljoin

import folium
import httpx
import pytest
from fastapi.testclient import TestClient

from gis.maps.assets import external_assets
from layers import LAYERS
from tests.conftest import make_client
from tests.conftest_browser import DESKTOP, PHONE, Browser

BANNER = "サンプルデータを含みます"
SEARCH = "武雄市武雄町武雄5680"
SHOGYO = (130.0195, 33.1955)  # 武雄 商業地域 (PLATEAU): 80 % / 400 %
GSI_URLS = {
    "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png",
    "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png",
    "https://maps.gsi.go.jp/development/ichiran.html",
}


def _get(client: TestClient, url: str) -> httpx.Response:
    return client.get(url, headers={"Accept": "text/html"})


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) + re.findall(r'<link[^>]*\bhref="([^"]+)"', html)


# ---------------------------------------------------------------- pages over HTTP


def test_map_page_is_japanese_html_with_banner_layers_and_sources(client: TestClient) -> None:
    r = _get(client, "/map?basemap=none")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and 'name="viewport"' in html
    assert BANNER in html and 'id="gis-banner" class="gis-banner" role="note">' in html
    # Layer control names are JSON (ASCII-escaped) in the script.
    for name in ("背景地図なし", "地理院タイル（淡色）", "地理院タイル（標準）"):
        assert json.dumps(name) in html
    # basemap=none: the GSI layers are declared (for the layer control) but none is added at load.
    assert re.search(r"empty_base_\w+\.addTo\(map_main\)", html)
    assert not re.search(r"tile_layer_\w+\.addTo\(map_main\)", html)
    for layer in LAYERS.values():
        assert f'data-layer="{layer.id}"' in html and layer.title in html
    assert "国土数値情報" in html and "PLATEAU" in html and "出典・ライセンス" in html
    # Small layers come from the items endpoint at run time; big ones as vector tiles.
    assert '"items":"/collections/parks/items"' in html
    assert "/tiles/zoning/{z}/{x}/{y}.mvt" in html and "/tiles/farmland/{z}/{x}/{y}.mvt" in html
    assert '"type":"Feature"' not in html, "features must be fetched, not inlined"


def test_basemap_selects_the_base_layer_at_load(client: TestClient) -> None:
    html = _get(client, "/map").text
    added = re.findall(r"(\w+)\.addTo\(map_main\)", html)
    pale = re.search(r'var (tile_layer_\w+) = L\.tileLayer\(\s*"https://cyberjapandata\.gsi\.go\.jp/xyz/pale/', html)
    assert pale and pale.group(1) in added
    assert not any(a.startswith("empty_base_") for a in added)
    assert _get(client, "/map?basemap=std").status_code == 200
    bad = client.get("/map?basemap=osm")
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidParameterValue"
    assert "入力内容に誤りがあります" in _get(client, "/map?basemap=osm").text


# /map/farmland is the farm seekers' page (tests/test_farmland_page.py), not the one-layer map.
@pytest.mark.parametrize("layer_id", [lid for lid in LAYERS if lid != "farmland"])
def test_layer_page(client: TestClient, layer_id: str) -> None:
    r = _get(client, f"/map/{layer_id}?basemap=none")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert LAYERS[layer_id].title in html and "すべてのレイヤ" in html
    assert len(re.findall(r'class="gis-leg( gis-off)?"', html)) == 1
    sample = client.get(f"/collections/{layer_id}").json()["sample"]
    banner = re.search(r'<div id="gis-banner"[^>]*>', html).group(0)
    assert (" hidden" not in banner) == sample, "the banner shows exactly when the layer holds sample rows"
    assert (BANNER in html) and ("サンプル含む" in html) == sample


def test_unknown_layer_is_a_404_page_for_browsers_and_json_for_clients(client: TestClient) -> None:
    r = _get(client, "/map/no_such_layer")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "ページが見つかりません" in r.text and "no_such_layer" in r.text
    r = client.get("/map/no_such_layer")
    assert r.status_code == 404
    assert r.json()["code"] == "NotFound" and "no_such_layer" in r.json()["description"]


def test_page_is_cached_and_revalidated_with_etag(client: TestClient) -> None:
    first = _get(client, "/map/parks?basemap=none")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/map/parks?basemap=none", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag


@pytest.mark.parametrize("path", ["/map", "/map?basemap=none", "/map?basemap=std", "/map/zoning", "/map/farmland"])
def test_no_cdn(client: TestClient, path: str) -> None:
    html = _get(client, path).text
    assert not external_assets(html)
    for url in _asset_urls(html):
        assert url.startswith("/static/"), url
    # Any other absolute URL must be a GSI tile template or attribution, or a link the reader may follow.
    links = set(re.findall(r'<a [^>]*href="(https?://[^"]+)"', html))
    for url in set(re.findall(r"https?://[^\s\"'<>\\)]+", html)) - links:
        assert url in GSI_URLS, f"unexpected external URL in {path}: {url}"
    for host in ("cdn.jsdelivr.net", "unpkg.com", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn"):
        assert host not in html
    # The overrides are per instance: folium's own class-level lists are left as they were.
    assert folium.Map.default_js[0][1].startswith("https://")


def test_assets_are_served_with_their_content_types(client: TestClient) -> None:
    html = _get(client, "/map").text
    urls = _asset_urls(html)
    assert any("vendor/leaflet-1.9.4/leaflet.js" in u for u in urls)
    assert any("vendor/leaflet.vectorgrid-1.3.0/" in u for u in urls)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        kind = r.headers["content-type"]
        if url.split("?")[0].endswith(".js"):
            assert kind.split(";")[0] in ("text/javascript", "application/javascript"), (url, kind)
        elif url.split("?")[0].endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
            # Images the stylesheet asks for resolve here too.
            for ref in re.findall(r"url\(([^)\"']+)\)", r.text):
                if not ref.startswith(("data:", "#")):
                    img = client.get(urljoin(url, ref))
                    assert img.status_code == 200 and img.headers["content-type"] == "image/png", ref
        elif url.split("?")[0].endswith(".svg"):
            assert kind.startswith("image/svg+xml")
        assert "max-age=31536000" in r.headers["cache-control"]
    for licence in ("leaflet-1.9.4/LICENSE", "leaflet.vectorgrid-1.3.0/LICENSE"):
        assert client.get(f"/static/vendor/{licence}").status_code == 200
    assert client.get("/static/../main.py").status_code == 404
    assert client.get("/static/vendor/nothing.js").status_code == 404


def test_landing_page_links_to_the_maps(client: TestClient) -> None:
    html = _get(client, "/").text
    assert 'href="/map"' in html and "この場所のルール" in html and "地図で場所を選ぶ" in html
    for layer_id in LAYERS:
        assert f'href="/map/{layer_id}"' in html


def test_map_on_an_empty_database(empty_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with make_client(empty_url, tmp_path) as c:
        r = _get(c, "/map?basemap=none")
    assert r.status_code == 200 and "すべてのレイヤ" in r.text
    assert re.search(r'<div id="gis-banner"[^>]*hidden', r.text), "no sample rows, no banner"


# ---------------------------------------------------------------- in a real browser

WAIT_LOADED = (
    "return window.GisMap && GisMap.ready && GisMap.idle() && "
    "document.querySelectorAll('path.leaflet-interactive').length"
)


def _tiles_served(client: TestClient) -> bool:
    return any(getattr(r, "path", "").startswith("/tiles/") for r in client.app.routes)


def _ignore(tiles: bool):  # type: ignore[no-untyped-def]
    # Until the vector tile endpoint exists, its 404s are expected (the page must still ask for the tiles).
    return (lambda m: False) if tiles else (lambda m: "/tiles/" in m and "404" in m)


def _open_map(browser: Browser, url: str) -> int:
    browser.driver.get(url)
    return browser.wait(WAIT_LOADED, what="layers drawn")


def _check_clean(browser: Browser, tiles: bool) -> None:
    assert browser.errors(_ignore(tiles)) == []
    assert browser.foreign_requests() == []


def _rects(browser: Browser, selectors: list[str]) -> dict[str, dict]:
    return browser.driver.execute_script(
        "var out = {}; arguments[0].forEach(function (s) { var el = document.querySelector(s);"
        " if (el && el.offsetParent) { var r = el.getBoundingClientRect();"
        " out[s] = {l: r.left, t: r.top, r: r.right, b: r.bottom}; } }); return out;",
        selectors,
    )


def _assert_apart(boxes: dict[str, dict], size: tuple[int, int]) -> None:
    """No two boxes overlap and each is inside the window."""
    for (a, ra), (b, rb) in combinations(boxes.items(), 2):
        apart = ra["r"] <= rb["l"] or rb["r"] <= ra["l"] or ra["b"] <= rb["t"] or rb["b"] <= ra["t"]
        assert apart, f"{a} overlaps {b} at {size}: {ra} {rb}"
    for box in boxes.values():
        assert box["l"] >= 0 and box["t"] >= 0 and box["r"] <= size[0] and box["b"] <= size[1]


def _popup_text(browser: Browser, *needles: str, timeout: float = 20) -> str:
    """The report popup's text once it holds every needle (an older popup may still be open meanwhile)."""
    script = (
        "var el = document.querySelector('.leaflet-popup-content .gis-report');"
        " return el && !el.querySelector('.gis-loading') ? el.innerText : '';"
    )
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = browser.driver.execute_script(script)
        if text and all(n in text for n in needles):
            return text
        time.sleep(0.2)
    missing = [n for n in needles if n not in text]
    raise AssertionError(f"report popup lacks {missing}: {text[:500]!r}")


@pytest.mark.parametrize(("size", "shot"), [(PHONE, "map-phone.png"), (DESKTOP, "map-desktop.png")])
def test_map_in_browser(browser_factory, client: TestClient, live_url: str, size, shot) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(size)
    paths = _open_map(browser, f"{live_url}/map?basemap=none")
    assert paths > 0
    browser.screenshot(shot)
    driver = browser.driver
    banner = driver.find_element("id", "gis-banner")
    assert banner.is_displayed() and BANNER in banner.text and "用途地域" in banner.text
    # Nothing overlaps: the search bar, the map controls, the two panels.
    boxes = _rects(
        browser,
        [
            "#gis-top",
            ".leaflet-control-zoom",
            ".leaflet-control-layers",
            "#gis-legend",
            "#gis-sources",
            ".leaflet-control-scale",
            ".leaflet-control-attribution",
        ],
    )
    assert len(boxes) == 7, boxes
    _assert_apart(boxes, size)
    legend = driver.find_element("css selector", "#gis-legend details")
    if legend.get_attribute("open") is None:
        driver.find_element("css selector", "#gis-legend summary").click()
    _assert_apart(_rects(browser, ["#gis-legend", "#gis-sources", ".leaflet-control-zoom"]), size)
    text = driver.find_element("id", "gis-legend").text
    assert "用途地域" in text and "商業地域" in text and "サンプル含む" in text
    driver.find_element("css selector", "#gis-sources summary").click()
    sources = driver.find_element("id", "gis-sources").text
    assert "国土数値情報" in sources and "PLATEAU" in sources and "地理院タイル" in sources
    # 用途地域 as vector tiles around 武雄 (zoning tiles follow the layer declaration, every zoom).
    driver.execute_script("map_main.setView([33.195, 130.02], 12, {animate: false});")
    tiles = _tiles_served(client)
    if tiles:
        drawn = (
            "return Array.from(document.querySelectorAll('.leaflet-gisTiles-pane canvas')).some(function (c) {"
            " var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " for (var i = 3; i < d.length; i += 4) { if (d[i]) return true; } return false; })"
        )
        browser.wait(drawn, what="vector tiles drawn")
    else:
        browser.wait("return GisMap.idle()")
        browser.collect()
        assert any("/tiles/zoning/12/" in u for u in browser.requests)
    _check_clean(browser, tiles)


def test_address_search_shows_the_area_and_asks_for_the_lot(browser_factory, client: TestClient, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    _open_map(browser, f"{live_url}/map?basemap=none")
    driver = browser.driver
    box = driver.find_element("id", "gis-q")
    # Ambiguous: candidates to choose from; choosing one shows that 大字 and asks for a tap on the lot.
    box.send_keys("伊万里市山代町")
    driver.find_element("css selector", "#gis-search button").click()
    browser.wait("return document.querySelectorAll('#gis-candidates button').length", what="candidates")
    assert driver.find_element("id", "gis-candidates").is_displayed()
    driver.find_element("css selector", "#gis-candidates button").click()
    browser.wait("return document.getElementById('gis-search-msg').textContent.indexOf('タップ') >= 0")
    box.clear()
    box.send_keys(SEARCH)
    driver.find_element("css selector", "#gis-search button").click()
    msg = browser.wait(
        "var m = document.getElementById('gis-search-msg').textContent;"
        " return m.indexOf('武雄町大字武雄') >= 0 && m.indexOf('タップ') >= 0 && m;",
        what="the area and the ask for a tap",
    )
    assert "大字・町の範囲" in msg
    # Never a many-zone report as if it were the answer.
    assert driver.execute_script(
        "return !document.querySelector('.leaflet-popup') && document.getElementById('gis-sheet') === null"
    )
    assert driver.find_element("id", "gis-tap-hint").is_displayed()
    browser.settle()
    g = client.get("/geocode", params={"q": SEARCH}).json()
    in_view = "return map_main.getBounds().contains([arguments[0], arguments[1]]) && map_main.getZoom();"
    assert driver.execute_script(in_view, g["lat"], g["lon"]) >= 11
    browser.screenshot("map-search.png")
    _check_clean(browser, _tiles_served(client))


def _click_at(browser: Browser, lon: float, lat: float, zoom: int) -> None:
    """Centre the map on the point, then click it for real (mouse events through the page, not a JS call)."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver = browser.driver
    driver.execute_script(
        "map_main.closePopup(); map_main.setView([arguments[0], arguments[1]], arguments[2], {animate: false});",
        lat,
        lon,
        zoom,
    )
    browser.settle()
    x, y = driver.execute_script(
        "var p = map_main.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y];", lat, lon
    )
    element = driver.find_element("id", "map_main")
    size = element.size
    # Offsets are from the element's centre.
    ActionChains(driver).move_to_element_with_offset(
        element, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).click().perform()


def test_click_on_the_map_opens_the_report(browser_factory, client: TestClient, conn, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(DESKTOP)
    _open_map(browser, f"{live_url}/map?basemap=none")
    _click_at(browser, *SHOGYO, 16)
    text = _popup_text(browser, "商業地域", "80% / 400%", "地図上の点で判定しています", "武雄市")
    assert "準防火地域" in text and "騒音" in text and "工事をするとき" in text and "サンプル" in text
    assert "境界の近くです" not in text
    browser.screenshot("map-click.png")
    # On a corner of that 商業地域: the summary says 要確認 with the candidates, and the section lists every zone.
    lat, lon = conn.execute(
        "SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointN(ST_ExteriorRing((ST_Dump(geom)).geom), 1) AS p "
        "FROM zoning WHERE youto_name = '商業地域' AND city_code = '41206' ORDER BY id LIMIT 1) s"
    ).fetchone()
    _click_at(browser, lon, lat, 17)
    text = _popup_text(browser, "境界の近くです", "要確認（候補: ", "商業地域")
    row = browser.driver.find_element("css selector", ".gis-report .gis-sum .gis-st-uncertain td")
    assert row.value_of_css_property("color") == "rgba(160, 64, 0, 1)"
    browser.driver.find_element("css selector", '.gis-report details[data-sec="build"] summary').click()
    listed = (
        "return document.querySelector('.gis-report details[data-sec=build]').querySelectorAll('.gis-zones li').length"
    )
    assert browser.driver.execute_script(listed) >= 2, "every 用途地域 in reach is listed"
    browser.screenshot("map-boundary.png")
    _check_clean(browser, _tiles_served(client))


def test_search_a_cemetery_by_name_shows_its_operator_and_contact(
    browser_factory, client: TestClient, conn, live_url: str
) -> None:  # type: ignore[no-untyped-def]
    """A resident types a cemetery's name (with a typo, without the sample label) and gets its ledger items."""
    browser = browser_factory(DESKTOP)
    _open_map(browser, f"{live_url}/map?basemap=none")
    driver = browser.driver
    box = driver.find_element("id", "gis-q")
    name, operator, contact = conn.execute(
        "SELECT name, operator_name, contact FROM cemeteries WHERE operator_type = '宗教法人' ORDER BY id LIMIT 1"
    ).fetchone()
    typed = name.removeprefix("（サンプル）")
    typo = typed[0] + ("時" if typed[1] != "時" else "寺") + typed[2:]
    box.send_keys(typo)
    driver.find_element("css selector", "#gis-search button").click()
    text = _popup_text(browser, "墓地台帳の記載", typed, operator, contact, "経営主体")
    assert "サンプル" in text and "見本" not in text
    browser.screenshot("map-cemetery.png")
    # An individual's cemetery: no person, the city's counter as the contact route.
    name, contact = conn.execute(
        "SELECT name, contact FROM cemeteries WHERE operator_type = '個人' ORDER BY id LIMIT 1"
    ).fetchone()
    box.clear()
    box.send_keys(name.removeprefix("（サンプル）"))
    driver.find_element("css selector", "#gis-search button").click()
    text = _popup_text(browser, "墓地台帳の記載", name, contact, "個人のため非公開")
    persons = [
        r[0] for r in conn.execute("SELECT manager_name FROM private.cemetery_managers WHERE manager_name IS NOT NULL")
    ]
    assert persons and not any(p in text for p in persons) and "見本" not in text
    # A word every cemetery shares: candidates to choose from, and choosing one lands on it.
    box.clear()
    box.send_keys("墓地")
    driver.find_element("css selector", "#gis-search button").click()
    browser.wait("return document.querySelectorAll('#gis-candidates button').length > 1", what="cemetery candidates")
    choice = driver.find_element("css selector", "#gis-candidates button")
    chosen = choice.text.split("（サンプル）")[-1].split("（")[0].strip()
    choice.click()
    _popup_text(browser, "墓地台帳の記載", chosen, "連絡窓口")
    _check_clean(browser, _tiles_served(client))
