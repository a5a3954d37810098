"""The 防災マップ (/map/bousai): Japanese HTML with no CDN, sources and data dates, データ未整備 for unloaded zones;
in headless Chromium at phone size the hazard filter working on the real shelters."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from gis.maps.assets import external_assets
from tests.conftest_browser import ARTIFACTS, PHONE


def _config(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="bs-config">(.*?)</script>', html, re.S)
    assert m, "the page carries its config as JSON"
    return json.loads(m.group(1))


def test_page_is_japanese_html_with_sources_and_no_cdn(client: TestClient) -> None:
    r = client.get("/map/bousai?basemap=none")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and "防災マップ" in html and external_assets(html) == []
    assert "国土地理院 指定緊急避難場所・指定避難所データ" in html and "2025-10-27" in html
    assert "2021-08-15" in html and "洪水浸水想定区域ではなく" in html
    layers = {x["id"]: x for x in _config(html)["layers"]}
    assert layers["shelters"]["count"] == 129 and layers["flood_history"]["count"] > 0
    for zone in ("flood_risk", "landslide_zones"):  # declared, not loaded: said, not drawn as "no zone"
        assert layers[zone]["count"] == 0
        assert re.search(rf'data-layer="{zone}">.*?データ未整備', html, re.S)
    etag = r.headers["etag"]
    assert client.get("/map/bousai?basemap=none", headers={"If-None-Match": etag}).status_code == 304
    assert 'href="/map/bousai"' in client.get("/", headers={"accept": "text/html"}).text


def test_phone_hazard_filter_in_chromium(browser_factory, live_url: str) -> None:  # noqa: ANN001
    browser = browser_factory(PHONE)
    d = browser.driver
    d.get(f"{live_url}/map/bousai?basemap=none")
    browser.wait("return document.body.getAttribute('data-ready') === '1'", what="the layers")
    count = "return document.querySelectorAll('.bs-pin').length"
    every = browser.wait(count, what="shelter markers")
    assert every == 129
    d.find_element("css selector", '.bs-chip[data-hazard="landslide"]').click()
    landslide = d.execute_script(count)
    assert 0 < landslide < every
    first = d.find_element("css selector", "#bs-list li .bs-flags").text
    assert "土砂" in first
    d.find_element("css selector", '.bs-chip[data-hazard="tsunami"]').click()
    assert d.execute_script(count) < landslide
    d.find_element("css selector", '.bs-chip[data-hazard="landslide"]').click()
    assert d.execute_script("return document.querySelectorAll('.leaflet-overlay-pane path').length") > 0
    assert browser.foreign_requests() == []
    assert browser.errors(lambda m: "/sensors" in m) == []
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / "bousai_phone.png"))
