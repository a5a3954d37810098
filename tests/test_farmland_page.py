"""The farmland page (/map/farmland) as a farm seeker uses it, in headless Chromium at phone and desktop size: the
issue's scenario (Takeo, 田, ≥ 2,000 m², 貸したい → highlighted list, one parcel with its dates, an inquiry the staff
can read), the list and the map in step, favourites, the permalink, bad answers shown, and no owner's name anywhere
in the page or in any answer the page received."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.tokens import create_token
from gis.settings import Settings
from tests.conftest import Cluster, _free_port
from tests.conftest_browser import ARTIFACTS, DESKTOP, PHONE, Browser

SCENARIO = {"city": "41206", "land_type": "100", "area_min": "2000", "intention": "lend"}
LEND_FILL = "#1a9641"  # gis.maps.farmland.COLORS["lend"]["fill"]
NAME = "問合 花子"
CONTACT = "hanako-page@example.jp"
# Sample owner, cultivator and lessee names all contain this (issue 12's contract); the page never does.
SAMPLE_NAME_MARK = "見本"


@pytest.fixture(scope="module")
def farm(cluster: Cluster, loaded_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A served app on its own copy of the loaded database (the inquiries write to it) and an editor token."""
    name = "gis_farmland_page"
    url = cluster.create(name, template=loaded_template)
    with psycopg.connect(url) as conn:
        editor = create_token(conn, "農業委員会 担当B", "editor")
        conn.commit()
    import uvicorn

    port = _free_port()
    app = create_app(Settings(database_url=url, var_dir=tmp_path_factory.mktemp("var-farm-page")))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield SimpleNamespace(base=f"http://127.0.0.1:{port}", url=url, editor=editor)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        cluster.drop(name)


@pytest.fixture
def fresh(farm: SimpleNamespace) -> SimpleNamespace:
    """Earlier inquiries moved two hours back: each test's browser has its whole hourly share."""
    with psycopg.connect(farm.url) as conn:
        conn.execute("UPDATE private.farmland_inquiries SET created_at = created_at - interval '2 hours'")
    return farm


def test_page_is_japanese_html_without_cdn(client: TestClient) -> None:
    r = client.get("/map/farmland", headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and "農地をさがす" in html and "サンプルデータです" in html
    assert "農業委員会" in html and "氏名" in html and 'id="fl-inquiry"' in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    assert SAMPLE_NAME_MARK not in html
    config = json.loads(html.split('id="fl-config">', 1)[1].split("</script>", 1)[0])
    assert config["urls"]["tiles"] == "/tiles/farmland/{z}/{x}/{y}.mvt" and config["tileZooms"][0] == 14
    assert config["committees"]["41206"]["name"] == "武雄市農業委員会"
    assert client.get("/map/farmland", headers={"if-none-match": r.headers["etag"]}).status_code == 304
    assert 'href="/map/farmland"' in client.get("/", headers={"accept": "text/html"}).text


# -- helpers ---------------------------------------------------------------------------------------------------------


def _open(browser: Browser, url: str) -> None:
    browser.driver.get(url)
    _idle(browser)


def _idle(browser: Browser, what: str = "the page") -> None:
    browser.wait(
        "return window.GisFarmland && GisFarmland.idle() && document.getElementById('fl-count').textContent",
        timeout=30,
        what=what,
    )


def _rows(browser: Browser) -> list[dict[str, Any]]:
    return browser.driver.execute_script(
        "return [...document.querySelectorAll('#fl-list .fl-item')].map(li => ({id: +li.dataset.id,"
        " text: li.textContent, selected: li.classList.contains('fl-selected'),"
        " lend: li.classList.contains('fl-lend')}))"
    )


def _filter_by_hand(browser: Browser) -> None:
    """Set the scenario's filters the way a person does: choose, tap, type, search."""
    d = browser.driver
    from selenium.webdriver.support.ui import Select

    Select(d.find_element("id", "fl-city")).select_by_value("41206")
    _idle(browser)
    d.find_element("css selector", "input[name=land_type][value='100']").find_element("xpath", "..").click()
    _idle(browser)
    d.find_element("css selector", "input[name=intention][value=lend]").find_element("xpath", "..").click()
    _idle(browser)
    area = d.find_element("id", "fl-area-min")
    area.clear()
    area.send_keys("2000")
    d.find_element("css selector", "#fl-filters button[type=submit]").click()
    _idle(browser, "the filtered list")


def _responses(browser: Browser) -> list[tuple[str, str]]:
    """(request id, url) of every response so far; the URLs also go to browser.requests for foreign_requests()."""
    out = []
    for entry in browser.driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            browser.requests.append(msg["params"]["request"]["url"])
        elif msg.get("method") == "Network.responseReceived":
            out.append((msg["params"]["requestId"], msg["params"]["response"]["url"]))
    return out


def _body(browser: Browser, request_id: str) -> bytes | None:
    try:
        got = browser.driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request_id})
    except Exception:  # noqa: BLE001  (evicted from the browser's buffer, or a response without a body)
        return None
    return base64.b64decode(got["body"]) if got.get("base64Encoded") else got["body"].encode()


def _names(url: str, parcel_id: int) -> list[str]:
    """The private names behind one parcel's ledger records (what must never reach the page)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT owner_name, cultivator_name, lessee_name FROM private.farmland_persons p "
            "JOIN farmland_links l ON l.ledger_id = p.ledger_id WHERE l.polygon_id = %s",
            (parcel_id,),
        ).fetchall()
    return [n for row in rows for n in row if n]


def _lend_tiles_styled(browser: Browser) -> int:
    """How many drawn tile features are 貸したい parcels filled with the 貸したい colour."""
    return browser.driver.execute_script(
        "var vg = Object.values(map_main._layers).find(l => l._vectorTiles); if (!vg) return 0;"
        "var n = 0; Object.values(vg._vectorTiles).forEach(t => Object.values(t._features || {}).forEach(f => {"
        f"  if (f.feature.properties.intention === 'lend' && f.feature.options.fillColor === '{LEND_FILL}') n++; }}));"
        "return n;"
    )


def _shot(browser: Browser, name: str) -> None:
    _idle(browser)
    time.sleep(0.6)  # let the last fly and the tiles draw
    ARTIFACTS.mkdir(exist_ok=True)
    browser.driver.save_screenshot(str(ARTIFACTS / name))


# -- the scenario ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "shot"), [(PHONE, "farmland-phone"), (DESKTOP, "farmland-desktop")])
def test_seeker_filters_opens_a_parcel_and_asks(browser_factory, fresh: SimpleNamespace, size, shot) -> None:  # noqa: ANN001
    browser = browser_factory(size)
    d = browser.driver
    opened = time.monotonic()
    if size == PHONE:
        _open(browser, f"{fresh.base}/map/farmland?basemap=none")
        _filter_by_hand(browser)
    else:  # the permalink: the filters come back from the URL hash into the form
        _open(browser, f"{fresh.base}/map/farmland?basemap=none#" + "&".join(f"{k}={v}" for k, v in SCENARIO.items()))
        assert d.find_element("id", "fl-area-min").get_attribute("value") == "2000"
        assert d.execute_script("return document.querySelector('input[name=intention]:checked').value") == "lend"
    hash_now = d.execute_script("return location.hash")
    assert all(f"{k}={v}" in hash_now for k, v in SCENARIO.items()), hash_now

    # The list is exactly the API's answer for those filters, each row a 貸したい 田 of at least 2,000 m².
    api = httpx.get(f"{fresh.base}/farmland/parcels", params={**SCENARIO, "limit": 50}).json()
    assert api["numberMatched"] > 0
    rows = _rows(browser)
    assert [r["id"] for r in rows] == [f["id"] for f in api["features"]]
    assert all(r["lend"] and "貸したい" in r["text"] and "田" in r["text"] and "サンプル" in r["text"] for r in rows)
    assert all(f["properties"]["area_m2"] >= 2000 for f in api["features"])
    assert f"{api['numberMatched']:,}筆" in d.find_element("id", "fl-count").text
    # Below the tiles' first zoom the results are drawn from the API (a shape and a dot each).
    assert d.execute_script("return map_main.getZoom()") < 14
    assert d.execute_script("return document.querySelectorAll('.leaflet-flResults-pane path').length") >= 2 * len(rows)
    _shot(browser, f"{shot}-list.png")

    # Tap a row: the map flies to the parcel, which is highlighted; its items come with their data dates.
    first = rows[0]["id"]
    d.find_element("css selector", f"#fl-list .fl-item[data-id='{first}'] .fl-rowbtn").click()
    browser.wait(f"return document.getElementById('fl-detail').dataset.id == '{first}' && GisFarmland.idle()")
    assert d.execute_script("return map_main.getZoom()") >= 15
    assert _rows(browser)[0]["selected"]
    detail = d.find_element("id", "fl-detail").text
    assert "貸したい" in detail and "農地台帳の公開項目" in detail and "時点" in detail and "武雄市農業委員会" in detail
    dates = d.execute_script("return [...document.querySelectorAll('#fl-detail .fl-date')].map(e => e.textContent)")
    assert len(dates) >= 8 and all(x.endswith("時点") for x in dates) and not any("不明" in x for x in dates), dates
    popup = d.execute_script("var p = document.querySelector('.leaflet-popup-content'); return p && p.textContent")
    assert popup and "貸したい" in popup and "時点" in popup
    # The parcels owners want to lend are highlighted in the vector tiles too.
    browser.wait(
        "var vg = Object.values(map_main._layers).find(l => l._vectorTiles);"
        "return vg && Object.values(vg._vectorTiles).some(t => Object.keys(t._features || {}).length)",
        what="the farmland tiles",
    )
    assert _lend_tiles_styled(browser) >= 1
    _shot(browser, f"{shot}-parcel.png")

    # Tap a parcel on the map: its row is selected.
    second = rows[1]["id"]
    point = d.execute_script(
        "var f = GisFarmland.feature(arguments[0]); map_main.closePopup();"
        "map_main.fitBounds(L.geoJSON(f).getBounds(), {animate: false, maxZoom: 17});"
        "var c = map_main.latLngToContainerPoint(L.geoJSON(f).getBounds().getCenter());"
        "var r = map_main.getContainer().getBoundingClientRect(); return [r.left + c.x, r.top + c.y];",
        second,
    )
    time.sleep(0.5)
    d.execute_cdp_cmd(
        "Input.dispatchMouseEvent",
        {"type": "mousePressed", "x": point[0], "y": point[1], "button": "left", "clickCount": 1},
    )
    d.execute_cdp_cmd(
        "Input.dispatchMouseEvent",
        {"type": "mouseReleased", "x": point[0], "y": point[1], "button": "left", "clickCount": 1},
    )
    browser.wait(
        f"return document.getElementById('fl-detail').dataset.id == '{second}' && GisFarmland.idle()",
        what="the tapped parcel",
    )
    assert [r["id"] for r in _rows(browser) if r["selected"]] == [second]

    # ☆ keeps a favourite in this browser; the お気に入り filter lists just it.
    d.find_element("css selector", f"#fl-list .fl-item[data-id='{first}'] .fl-star").click()
    assert d.execute_script("return Object.keys(JSON.parse(localStorage.getItem('gis-farmland-favourites')))") == [
        str(first)
    ]
    d.execute_script("document.getElementById('fl-filter-box').open = true")
    d.execute_script("document.getElementById('fl-fav').scrollIntoView({block: 'center'})")
    d.find_element("id", "fl-fav").click()
    _idle(browser, "the favourites")
    assert [r["id"] for r in _rows(browser)] == [first]
    assert "fav=1" in d.execute_script("return location.hash")

    # The inquiry: bad contact → the service's description is shown; then sent → a confirmation.
    d.find_element("css selector", "#fl-detail .fl-primary").click()
    browser.wait("return document.getElementById('fl-inquiry-box').open")
    checked = d.execute_script(
        "return [...document.querySelectorAll('#fl-inq-parcels input:checked')].map(c => +c.value)"
    )
    assert second in checked
    d.find_element("id", "fl-inq-name").send_keys(NAME)
    d.find_element("id", "fl-inq-contact").send_keys("abc")
    d.find_element("id", "fl-inq-message").send_keys("田を借りたいです。水利について教えてください。")
    time.sleep(max(0.0, 3.5 - (time.monotonic() - opened)))  # the form token is refused in its first 3 s
    d.find_element("id", "fl-inq-send").click()
    browser.wait("return document.querySelector('#fl-inq-result.fl-error') && GisFarmland.idle()", what="the 400")
    error = d.find_element("id", "fl-inq-result").text
    assert "連絡先" in error and "contact:" in error
    contact = d.find_element("id", "fl-inq-contact")
    contact.clear()
    contact.send_keys(CONTACT)
    d.find_element("id", "fl-inq-send").click()
    browser.wait("return document.querySelector('#fl-inq-result.fl-ok') && GisFarmland.idle()", what="the receipt")
    receipt = d.find_element("id", "fl-inq-result").text
    assert "受け付けました" in receipt and "武雄市農業委員会" in receipt and "受付番号" in receipt
    _shot(browser, f"{shot}-inquiry.png")

    # Staff read it (editor token); the public cannot.
    listed = httpx.get(f"{fresh.base}/farmland/inquiries", headers={"Authorization": f"Bearer {fresh.editor}"})
    assert listed.status_code == 200
    mine = [i for i in listed.json()["inquiries"] if i["contact"] == CONTACT]
    assert mine and set(checked) <= set(mine[0]["parcel_ids"]) and mine[0]["name"] == NAME
    assert httpx.get(f"{fresh.base}/farmland/inquiries").status_code == 401

    # Privacy: no owner, cultivator or lessee name in the page or in any answer it received (tiles included).
    private = _names(fresh.url, first) + _names(fresh.url, second)
    assert private and all(SAMPLE_NAME_MARK in n for n in private)
    page = d.execute_script(
        "return document.documentElement.outerHTML + document.body.innerText + JSON.stringify(localStorage)"
    )
    assert SAMPLE_NAME_MARK not in page and not any(n in page for n in private)
    checked_bodies = 0
    for rid, url in _responses(browser):
        if not url.startswith(fresh.base) or "/static/" in url:
            continue
        body = _body(browser, rid)
        if body is None:
            continue
        checked_bodies += 1
        assert SAMPLE_NAME_MARK.encode() not in body, url
        assert not any(n.encode() in body for n in private), url
        assert NAME.encode() not in body and CONTACT.encode() not in body, url  # the inquirer's too
    assert checked_bodies >= 5
    # The one refused POST (the bad contact) is logged by Chromium as a failed load; nothing else may fail.
    assert browser.errors(lambda m: "farmland/inquiries" in m and "400" in m) == []
    assert browser.foreign_requests() == []


def test_too_many_inquiries_shows_when_to_try_again(browser_factory, fresh: SimpleNamespace) -> None:  # noqa: ANN001
    """The sixth inquiry in an hour is a 429: the page says so and when to try again (Retry-After)."""
    browser = browser_factory(PHONE)
    d = browser.driver
    _open(browser, f"{fresh.base}/map/farmland?basemap=none#city=41206&intention=sell")
    rows = _rows(browser)
    assert rows and all("売りたい" in r["text"] for r in rows)
    d.find_element("css selector", f"#fl-list .fl-item[data-id='{rows[0]['id']}'] .fl-rowbtn").click()
    browser.wait(f"return document.getElementById('fl-detail').dataset.id == '{rows[0]['id']}' && GisFarmland.idle()")
    # Five inquiries from this same client (the browser's address) use up the hour.
    with psycopg.connect(fresh.url) as conn:
        conn.execute("UPDATE private.farmland_inquiries SET created_at = created_at - interval '2 hours'")
    d.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch('/farmland/inquiries/form').then(r => r.json())"
        ".then(f => new Promise(ok => setTimeout(() => ok(f), 3200)))"
        ".then(f => Promise.all([1,2,3,4,5].map(i => fetch('/farmland/inquiries', {method: 'POST',"
        " headers: {'Content-Type': 'application/json'}, body: JSON.stringify({parcel_ids: [arguments[0]],"
        " name: '問合 次郎', contact: 'jiro-page@example.jp', message: 'まとめて' + i, form_token: f.form_token,"
        " website: ''})}).then(r => r.status)))).then(done);",
        rows[0]["id"],
    )
    d.find_element("css selector", "#fl-detail .fl-primary").click()
    d.find_element("id", "fl-inq-name").send_keys("問合 次郎")
    d.find_element("id", "fl-inq-contact").send_keys("jiro-page@example.jp")
    d.find_element("id", "fl-inq-message").send_keys("もう一度お願いします。")
    d.find_element("id", "fl-inq-send").click()
    browser.wait("return document.querySelector('#fl-inq-result.fl-error') && GisFarmland.idle()", what="the 429")
    text = d.find_element("id", "fl-inq-result").text
    assert "分後にもう一度" in text and "too many inquiries" in text
    _shot(browser, "farmland-phone-429.png")
    # The page logged the refused POST as a failed load; nothing else may fail.
    assert browser.errors(lambda m: "farmland/inquiries" in m and "429" in m) == []


def test_every_filter_is_sent_with_the_api_names_and_kept_in_the_link(browser_factory, live_url: str) -> None:  # noqa: ANN001
    """Each field of the panel becomes the API parameter of the same name; the link brings the same search back."""
    browser = browser_factory(DESKTOP)
    d = browser.driver
    from selenium.webdriver.support.ui import Select

    _open(browser, f"{live_url}/map/farmland?basemap=none")
    Select(d.find_element("id", "fl-city")).select_by_value("41206")
    _idle(browser)
    oaza = "北方町大字大崎"  # a 大字 of the sample with 貸したい 田 of every size
    options = d.execute_script("return [...document.querySelectorAll('#fl-oaza option')].map(o => o.value)")
    assert oaza in options and len(options) > 10, options  # the 大字 come from /farmland/stats
    Select(d.find_element("id", "fl-oaza")).select_by_value(oaza)
    _idle(browser)
    d.execute_script(
        "var f = document.getElementById('fl-filters').elements;"
        "f.land_type.value = '100'; f.intention.value = 'lend'; f.area_min.value = '1000'; f.area_max.value = '9000';"
        "f.available_from.value = '2030-12-31'; f.crop.value = '水稲'; f.noshin.value = 'nouyouchi';"
        "f.address.value = '武雄市北方町大字大崎'; f.within_m.value = '5000'; f.sortby.value = '-area_m2';"
    )
    _responses(browser)  # forget the requests so far
    d.find_element("css selector", "#fl-filters button[type=submit]").click()
    _idle(browser, "the search")
    sent = [u for _, u in _responses(browser) if "/farmland/parcels?" in u]
    assert len(sent) == 1
    from urllib.parse import parse_qsl, urlsplit

    params = dict(parse_qsl(urlsplit(sent[0]).query))
    want = {
        "city": "41206",
        "oaza": oaza,
        "land_type": "100",
        "intention": "lend",
        "area_min": "1000",
        "area_max": "9000",
        "available_from": "2030-12-31",
        "crop": "水稲",
        "noshin": "nouyouchi",
        "address": "武雄市北方町大字大崎",
        "within_m": "5000",
        "sortby": "-area_m2",
        "limit": "50",
    }
    assert params == want
    api = httpx.get(f"{live_url}/farmland/parcels", params=want).json()
    assert api["numberMatched"] > 0
    ids = [r["id"] for r in _rows(browser)]
    assert ids == [f["id"] for f in api["features"]]
    areas = [f["properties"]["area_m2"] for f in api["features"]]
    assert areas == sorted(areas, reverse=True) and all(1000 <= a <= 9000 for a in areas)
    assert "大字・町" in d.find_element("id", "fl-msg").text  # the address was placed at 大字 level: said so
    # The link: a fresh browser opening it gets the same form and the same list.
    link = d.current_url
    other = browser_factory(PHONE)
    _open(other, link)
    assert [r["id"] for r in _rows(other)] == ids
    assert other.driver.find_element("id", "fl-crop").get_attribute("value") == "水稲"
    assert other.driver.find_element("id", "fl-oaza").get_attribute("value") == oaza
    # 地番 with the 大字: the one parcel of that 地番.
    chiban = api["features"][0]["properties"]["chiban"].split("、")[0]
    other.driver.get(f"{live_url}/map/farmland?basemap=none#city=41206&oaza={oaza}&chiban={chiban}")
    other.wait("return document.getElementById('fl-chiban').value && GisFarmland.idle()", what="the 地番 search")
    _idle(other)
    rows = _rows(other)
    assert rows and all(chiban in r["text"] for r in rows)
    assert not other.driver.find_element("id", "fl-chiban").get_attribute("disabled")
    assert browser.errors() == [] and other.errors() == []
