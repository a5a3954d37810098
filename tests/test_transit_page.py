"""The 交通マップ (/map/transit) in headless Chromium at phone size: routes, stops, a stop's next departures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gis.transit import service
from tests.conftest_browser import ARTIFACTS, PHONE

JST = ZoneInfo("Asia/Tokyo")


def test_page_is_japanese_html_without_cdn(client: TestClient) -> None:
    r = client.get("/map/transit")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and "交通マップ" in html and "西肥バス" in html and "2026-04-04" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    assert client.get("/map/transit", headers={"if-none-match": r.headers["etag"]}).status_code == 304
    assert 'href="/map/transit"' in client.get("/", headers={"accept": "text/html"}).text


def test_stop_popup_shows_next_departures(browser_factory, live_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """Tuesday 2026-11-24 08:00 at 武雄温泉駅（北口）: the first departure is 08:04 武雄・三間坂線 (stop_times.txt)."""
    monkeypatch.setattr(service, "now", lambda: datetime(2026, 11, 24, 8, 0, tzinfo=JST))
    browser = browser_factory(PHONE)
    d = browser.driver
    d.get(f"{live_url}/map/transit?basemap=none")
    browser.wait("return window.GisTransit && GisTransit.idle() && document.querySelectorAll('#tr-routes li').length")
    assert d.execute_script("return document.querySelectorAll('#tr-routes li').length") == 10
    assert d.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") > 100
    assert d.execute_script("return GisTransit.choose('3116700')")
    browser.wait("return document.querySelector('#tr-stop .tr-dep') && GisTransit.idle()", what="the departures")
    first = d.execute_script(
        "var li = document.querySelector('#tr-stop .tr-dep');"
        "return [li.querySelector('.tr-time').textContent, li.querySelector('.tr-route').textContent]"
    )
    assert first == ["08:04", "武雄・三間坂線"]
    assert d.find_element("css selector", "#tr-stop h2").text == "武雄温泉駅（北口）"
    assert d.execute_script("return document.querySelectorAll('.leaflet-popup .tr-dep').length") == 5
    assert "西肥バス" in d.find_element("id", "tr-caveat").text
    assert "佐賀県" in d.find_element("id", "tr-sources").get_attribute("textContent")
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / "transit-phone.png"))
    assert browser.errors() == [] and browser.foreign_requests() == []
