"""The garbage page (/map/garbage) as a resident uses it, in headless Chromium at phone size."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gis.garbage import service
from tests.conftest_browser import DESKTOP, PHONE

JST = ZoneInfo("Asia/Tokyo")
ADDRESS = "伊万里市立花町1355"


def test_page_is_japanese_html_without_cdn(client: TestClient) -> None:
    r = client.get("/map/garbage", headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and "ごみ出しナビ" in html and "サンプルデータです" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    etag = r.headers["etag"]
    assert client.get("/map/garbage", headers={"if-none-match": etag}).status_code == 304


def _open(browser, url: str) -> None:  # noqa: ANN001
    browser.driver.get(url)
    browser.wait("return window.GisGarbage && document.querySelector('#gb-config') && GisGarbage.idle()")


def _search(browser, address: str) -> None:  # noqa: ANN001
    q = browser.driver.find_element("id", "gb-q")
    q.clear()
    q.send_keys(address)
    browser.driver.find_element("css selector", "#gb-search button[type=submit]").click()
    browser.wait("return document.querySelector('#gb-point h2') && GisGarbage.idle()", what="the nearest point")


def _shot(browser, name: str) -> None:  # noqa: ANN001
    from tests.conftest_browser import ARTIFACTS

    browser.wait("return GisGarbage.idle()")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.driver.save_screenshot(str(ARTIFACTS / name))


@pytest.mark.parametrize(("size", "shot"), [(PHONE, "garbage-phone.png"), (DESKTOP, "garbage-desktop.png")])
def test_my_point_next_days_calendar_and_items(browser_factory, live_url: str, size, shot) -> None:  # noqa: ANN001
    browser = browser_factory(size)
    _open(browser, f"{live_url}/map/garbage?basemap=none")
    _search(browser, ADDRESS)
    d = browser.driver
    point = d.find_element("css selector", "#gb-point h2").text
    assert "集積所" in point
    nxt = d.execute_script(
        "return [...document.querySelectorAll('#gb-point .gb-next-item')].map(li => li.dataset.category + '|' + "
        "li.querySelector('.gb-when').textContent)"
    )
    assert any(x.startswith("もえるごみ|") for x in nxt), nxt
    assert "大字・町" in d.find_element("id", "gb-msg").text  # the address only placed the 大字: said so
    d.find_element("css selector", "#gb-cal-box summary").click()
    browser.wait("return document.querySelectorAll('#gb-cal td[data-day]').length >= 28", what="the month calendar")
    assert d.execute_script("return document.querySelectorAll('#gb-cal .gb-chip').length") > 4
    ics = d.execute_script("return document.querySelector('#gb-sub a.gb-button').getAttribute('href')")
    assert ics.endswith("calendar.ics?alarm=19:00") and "/garbage/groups/41205-" in ics
    item = d.find_element("id", "gb-item-q")
    item.send_keys("ぺっとぼとる")
    d.find_element("css selector", "#gb-items-form button").click()
    browser.wait("return document.querySelector('#gb-items .gb-item strong') && GisGarbage.idle()", what="items")
    assert d.find_element("css selector", "#gb-items .gb-item strong").text == "ペットボトル"
    _shot(browser, shot)
    assert browser.errors() == [] and browser.foreign_requests() == []


def test_next_collection_skips_the_year_end_closure(
    browser_factory, live_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    """On 30 December the next もえるごみ of 伊万里市 A地区 (月・木) is not the cancelled 31 December but 4 January."""
    monkeypatch.setattr(service, "now", lambda: datetime(2026, 12, 30, 10, 0, tzinfo=JST))
    browser = browser_factory(PHONE)
    _open(browser, f"{live_url}/map/garbage?basemap=none")
    _search(browser, ADDRESS)
    d = browser.driver
    burnable = d.execute_script(
        "var li = document.querySelector('#gb-point .gb-next-item[data-category=\"もえるごみ\"]');"
        "return li && li.querySelector('.gb-when').textContent"
    )
    assert burnable.startswith("1月4日（月）"), burnable
    notices = d.find_element("id", "gb-notices").text
    assert "年末年始" in notices
    _shot(browser, "garbage-year-end.png")


def test_the_report_popup_has_my_point_and_its_next_days(browser_factory, live_url: str) -> None:  # noqa: ANN001
    browser = browser_factory(PHONE)
    browser.driver.get(f"{live_url}/map?basemap=none")
    browser.wait("return window.GisReport && window.GisMap && GisMap.idle()")
    html = browser.driver.execute_async_script(
        "var done = arguments[0];"
        "fetch('/lookup?lat=33.2593&lon=129.8795').then(r => r.json()).then(r => done(GisReport.render(r)));"
    )
    assert "ごみの日" in html and "最寄りの集積所" in html and "もえるごみ" in html
    assert "/map/garbage?lat=33.2593&amp;lon=129.8795" in html
