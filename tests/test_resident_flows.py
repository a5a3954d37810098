"""A resident's first minute (issue 15), tried in headless Chromium at phone size: from `/` a search lands on the
place and asks for a tap, a tap gives a summary that fits one screen, the print view prints, a permalink reopens
the report, 現在地 works, a failed search clears the map, every control is a 44 px target."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest_browser import ARTIFACTS, DESKTOP, PHONE, Browser

SHOGYO = (130.0195, 33.1955)  # 武雄 商業地域 (PLATEAU): 80 % / 400 %
ARITA = (129.885, 33.19)  # 有田町: outside both cities
# The sandbox has no internet: base map tiles fail to load, and that is the only error allowed.
OFFLINE_TILES = lambda m: "cyberjapandata.gsi.go.jp" in m  # noqa: E731
READY = "return window.GisMap && GisMap.ready && GisMap.idle()"
REPORT = (
    "var el = document.querySelector('#gis-sheet:not([hidden]) .gis-report, .leaflet-popup-content .gis-report');"
    " return el && !el.querySelector('.gis-loading') ? el.innerText : '';"
)


def _report(browser: Browser, *needles: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = browser.driver.execute_script(REPORT)
        if text and all(n in text for n in needles):
            return text
        time.sleep(0.2)
    raise AssertionError(f"report lacks {[n for n in needles if n not in text]}: {text[:400]!r}")


def _search_from_landing(browser: Browser, live_url: str, text: str) -> str:
    driver = browser.driver
    driver.get(f"{live_url}/")
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "resident-landing-phone.png"))
    box = driver.find_element("id", "q")
    box.send_keys(text)
    driver.find_element("css selector", ".ask button[type=submit]").click()
    browser.wait(READY, what="map ready")
    msg = browser.wait(
        "var m = document.getElementById('gis-search-msg').textContent; return m.indexOf('検索中') < 0 && m;",
        what="search message",
    )
    return msg


@pytest.mark.parametrize(
    ("typed", "expect"),
    [
        ("たけおし あさひちょう あまく", ("武雄市", "朝日町", "甘久")),
        ("杵島郡北方町大字大渡", ("武雄市", "北方町", "大渡")),
        ("武雄温泉駅", ("武雄市", "武雄温泉駅", "バス停")),  # the GTFS stations of its two exits, one place
        ("白岩運動公園", ("武雄市", "白岩運動公園")),
    ],
)
def test_a_search_from_the_landing_page_lands_and_asks_for_a_tap(
    browser_factory, client: TestClient, live_url: str, typed: str, expect: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    msg = _search_from_landing(browser, live_url, typed)
    assert all(e in msg for e in expect), msg
    assert "タップ" in msg
    driver = browser.driver
    # No many-zone report as if it were the answer: the area is shown and a tap is asked for.
    assert driver.execute_script("var s = document.getElementById('gis-sheet'); return !s || s.hidden")
    assert driver.find_element("id", "gis-tap-hint").is_displayed()
    g = client.get("/geocode", params={"q": typed}).json()
    in_view = "return map_main.getBounds().contains([arguments[0], arguments[1]]);"
    assert driver.execute_script(in_view, g["lat"], g["lon"])
    assert "q=" in driver.current_url  # the search is in the address bar: reload or share it
    browser.screenshot(f"resident-search-{quote(typed)[:24]}.png")
    assert browser.foreign_requests() == [] and browser.errors(OFFLINE_TILES) == []


def test_a_tap_gives_a_summary_that_fits_one_phone_screen(browser_factory, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    driver = browser.driver
    driver.get(f"{live_url}/map?basemap=none&lat={SHOGYO[1]}&lon={SHOGYO[0]}")
    browser.wait(READY)
    text = _report(browser, "商業地域", "80% / 400%", "準防火地域", "騒音")
    assert "建てるとき" in text and "工事をするとき" in text and "ごみの日" in text
    # One notice at most, no red warning repeated section after section, no jargon.
    assert driver.execute_script("return document.querySelectorAll('#gis-sheet .gis-warn').length") == 0
    for jargon in ("代表点", "導出", "メッシュ境界"):
        assert jargon not in text
    bottom = driver.execute_script(
        "return document.querySelector('#gis-sheet .gis-sum').getBoundingClientRect().bottom"
    )
    assert bottom <= PHONE[1], f"the summary ends at {bottom} px, below the phone screen"
    browser.screenshot("resident-summary-phone.png")
    # The sections open with a tap and hold their source and data date.
    driver.find_element("css selector", '#gis-sheet details[data-sec="build"] summary').click()
    opened = _report(browser, "出典", "時点")
    assert "用途地域" in opened
    # The place is in the address bar: reopening that URL opens the same report.
    assert "lat=" in driver.current_url and "lon=" in driver.current_url
    driver.get(driver.current_url)
    browser.wait(READY)
    _report(browser, "商業地域")
    # Closing the sheet never opens another report.
    driver.find_element("css selector", ".gis-sheet-close").click()
    time.sleep(0.8)
    assert driver.execute_script("return document.getElementById('gis-sheet').hidden")
    assert driver.execute_script("return !document.querySelector('.leaflet-popup')")
    assert browser.foreign_requests() == [] and browser.errors(OFFLINE_TILES) == []


def test_touch_targets_are_44_px_on_a_phone(browser_factory, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    driver = browser.driver
    measure = (
        "return arguments[0].map(function (s) { var el = document.querySelector(s);"
        " if (!el) return [s, 0, 0]; var r = el.getBoundingClientRect(); return [s, r.width, r.height]; });"
    )
    driver.get(f"{live_url}/map?basemap=none")
    browser.wait(READY)
    controls = [
        "#gis-q",
        "#gis-search button",
        ".leaflet-control-zoom-in",
        ".leaflet-control-zoom-out",
        ".gis-locate",
        "#gis-legend summary",
        "#gis-sources summary",
    ]
    sizes = driver.execute_script(measure, controls)
    driver.get(f"{live_url}/map?basemap=none&lat={SHOGYO[1]}&lon={SHOGYO[0]}")
    browser.wait(READY)
    _report(browser, "商業地域")
    sheet = [".gis-sheet-close", "#gis-sheet details.gis-sec > summary", "#gis-sheet .gis-link"]
    sizes += driver.execute_script(measure, sheet)
    small = [(s, w, h) for s, w, h in sizes if h < 44 or w < 44]
    assert small == [], small
    # With the sheet open the map's own controls do not overlap one another.
    boxes = driver.execute_script(
        "return ['.leaflet-control-zoom', '.gis-locate', '.leaflet-control-layers'].map(function (s) {"
        " var r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });"
    )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_a_failed_search_clears_the_previous_marker(browser_factory, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    driver = browser.driver
    driver.get(f"{live_url}/map?basemap=none&lat={SHOGYO[1]}&lon={SHOGYO[0]}")
    browser.wait(READY)
    _report(browser, "商業地域")
    box = driver.find_element("id", "gis-q")
    box.send_keys("存在しない地名ですよ")
    driver.find_element("css selector", "#gis-search button").click()
    browser.wait("return document.getElementById('gis-search-msg').textContent.indexOf('見つかりません') >= 0")
    marks = "return document.querySelectorAll('path[stroke=\"#d7301f\"]').length"
    assert driver.execute_script(marks) == 0
    assert driver.execute_script("return document.getElementById('gis-sheet').hidden")


def test_current_location_opens_the_report_there(browser_factory, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    driver = browser.driver
    driver.get(f"{live_url}/map?basemap=none")
    browser.wait(READY)
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": live_url})
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": SHOGYO[1], "longitude": SHOGYO[0], "accuracy": 8}
    )
    driver.find_element("css selector", ".gis-locate").click()
    text = _report(browser, "現在地", "商業地域")
    assert "80% / 400%" in text


def test_print_view_prints(browser_factory, client: TestClient, live_url: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/report", params={"lat": SHOGYO[1], "lon": SHOGYO[0]})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for needle in ("まとめ", "商業地域", "確認先", "武雄市役所", "0954-23-9111", "建築確認", "データ時点"):
        assert needle in html, needle
    browser = browser_factory(DESKTOP)
    driver = browser.driver
    driver.get(f"{live_url}/report?lat={SHOGYO[1]}&lon={SHOGYO[0]}")
    browser.wait("return document.body.getAttribute('data-ready')", what="print view rendered")
    browser.wait("return document.body.getAttribute('data-map')", what="zones drawn on the print map")
    drawn = "return document.querySelectorAll('#print-map path').length"
    assert driver.execute_script(drawn) >= 2  # the zones around the place, from our own items
    text = driver.find_element("id", "report-body").text
    assert "出典" in text and "騒音規制地域" in text and "特定建設作業" in text
    pdf = base64.b64decode(
        driver.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})["data"]
    )
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "resident-print.pdf").write_bytes(pdf)
    driver.save_screenshot(str(ARTIFACTS / "resident-print.png"))
    assert browser.foreign_requests() == []
    # Bad input: the page answers 400 as a Japanese page, never a 500.
    bad = client.get("/report", params={"lat": 91, "lon": 130}, headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "入力内容に誤りがあります" in bad.text


# ------------------------------------------------------------- honest coverage (the API behind every page)


def test_an_imari_point_says_there_is_no_fire_data(client: TestClient, conn: psycopg.Connection) -> None:
    lon, lat = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM zoning WHERE city_code = '41205' "
        "AND youto_name = '商業地域' ORDER BY id LIMIT 1) s"
    ).fetchone()
    body = client.get("/lookup", params={"lat": lat, "lon": lon}).json()
    fire = body["fire_district"]
    assert fire["status"] == "no_data" and fire.get("answer") is None and "指定なし" not in fire["message"]
    row = next(r for r in body["summary"]["rows"] if r["item"] == "防火・準防火地域")
    assert row["status"] == "no_data" and "データなし" in row["value"]
    assert body["contact"]["name"] == "伊万里市役所"


def test_a_takeo_point_outside_every_fire_zone_says_shitei_nashi(client: TestClient, conn: psycopg.Connection) -> None:
    lon, lat = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(z.geom) p FROM zoning z "
        "WHERE z.city_code = '41206' AND NOT EXISTS (SELECT 1 FROM fire_districts f "
        "WHERE ST_DWithin(f.geom, z.geom, 0.002)) ORDER BY z.id LIMIT 1) s"
    ).fetchone()
    body = client.get("/lookup", params={"lat": lat, "lon": lon}).json()
    row = next(r for r in body["summary"]["rows"] if r["item"] == "防火・準防火地域")
    assert (row["status"], row["value"]) == ("none", "指定なし")


def test_outside_both_cities_answers_no_zone(client: TestClient) -> None:
    body = client.get("/lookup", params={"lat": ARITA[1], "lon": ARITA[0]}).json()
    assert body["precision"]["outside_service_area"] and body["summary"]["status"] == "outside"
    assert body["summary"]["rows"] == [] and "区域外" in body["summary"]["notice"]
    assert body["zoning"].get("answer") is None


def test_shiroji_cites_the_law_never_another_city(client: TestClient, conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Difference(pa.geom, "
        "(SELECT ST_Union(ST_Buffer(z.geom, 0.003)) FROM zoning z WHERE z.city_code = pa.city_code))) p "
        "FROM planning_areas pa ORDER BY pa.id LIMIT 1) s WHERE p IS NOT NULL"
    ).fetchone()
    if row is None:
        pytest.skip("no planning area outside the zoning in the bundled data")
    body = client.get("/lookup", params={"lat": row[1], "lon": row[0]}).json()
    d = body["zoning"]["designation"]
    if d["status"] != "shiroji":
        pytest.skip(f"the point is not 白地 ({d['status']})")
    text = str(d)
    assert "多久" not in text and "建築基準法" in text and d["defaults"]["kenpei"] is None
    row = next(r for r in body["summary"]["rows"] if r["item"] == "建ぺい率 / 容積率")
    assert row["status"] == "no_data"
