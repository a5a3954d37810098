"""The live sensor page (/map/sensors): HTML without any CDN, and in headless Chromium against the real /sensors API
on a scratch database fed with readings through POST /sensors/observations (a device token)."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.tokens import create_token
from gis.maps.assets import external_assets
from gis.maps.sensors import CONTEXT_LAYERS, POLL_BOUNDS, STATES, build_sensors_html, context_layers
from gis.settings import REPO_ROOT, Settings
from layers import LAYERS
from layers.base import Col, Layer
from tests.conftest import Cluster, _free_port
from tests.conftest_browser import ARTIFACTS, DESKTOP, PHONE, Browser

JST = ZoneInfo("Asia/Tokyo")
# Float switches (フロート式10cm) send `wet`, the step sensor (段階式) `depth`; SILENT never sends anything.
DRY, WET, FLOODS, SILENT = "S-41206-002", "S-41206-003", "S-41206-015", "S-41206-009"
# The sensors API of issue 11 is built alongside this page: the browser tests need it in the tree.
API_READY = importlib.util.find_spec("gis.sensors") is not None and all(
    (REPO_ROOT / p).exists() for p in ("gis/sensors/ingest.py", "api/routers/sensors.py")
)
needs_api = pytest.mark.skipif(
    not API_READY, reason="GET /sensors (gis/sensors/ingest.py, api/routers/sensors.py) is not here yet"
)


# ---------------------------------------------------------------- the page over HTTP


def _config(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="sn-config">(.*?)</script>', html, re.S)
    assert m, "the page carries its config as JSON"
    return json.loads(m.group(1))


def test_page_is_japanese_html_without_cdn(client: TestClient) -> None:
    r = client.get("/map/sensors?basemap=none", headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and 'name="viewport"' in html and "浸水センサ（ライブ）" in html
    for key, state in STATES.items():  # the legend and the counts name every state, unknown included
        assert re.search(
            rf'<li data-state="{key}"><i class="sn-sym sn-{key}" aria-hidden="true"><b>{re.escape(state["glyph"])}</b>'
            rf'</i><span><b class="sn-state-label">{state["label"]}</b>',
            html,
        ), key
        assert f".sn-{key} {{ background: {state['fill']}; border-color: {state['color']}" in html
    assert len({(s["glyph"], s["shape"], s["label"]) for s in STATES.values()}) == len(STATES)
    assert not external_assets(html)
    for url in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) + re.findall(r'<link[^>]*\bhref="([^"]+)"', html):
        assert url.startswith("/static/"), url
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    conf = _config(html)
    assert conf["urls"] == {
        "sensors": "/sensors",
        "events": "/sensors/events?limit=20",
        "history": "/sensors/{id}/history",
    }
    assert conf["poll"] == {"seconds": 15, "min": POLL_BOUNDS[0], "max": POLL_BOUNDS[1]}
    sample = client.get("/collections/inundation_sensors").json()["sample"]
    banner = re.search(r'<div id="gis-banner"[^>]*>', html).group(0)
    assert (" hidden" not in banner) == sample
    assert r.headers["cache-control"] == "no-cache"
    etag = r.headers["etag"]
    again = client.get("/map/sensors?basemap=none", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    # The assets it loads are served here.
    for path in ("/static/map/sensors.js", "/static/map/sensors.css"):
        assert client.get(path).status_code == 200
    assert 'href="/map/sensors"' in client.get("/", headers={"accept": "text/html"}).text


def test_page_works_without_the_context_layers(client: TestClient) -> None:
    """Today neither the 2021 flood extent nor the shelters are declared: the page skips them."""
    missing = [lid for lid in CONTEXT_LAYERS if lid not in LAYERS]
    conf = _config(client.get("/map/sensors?basemap=none").text)
    assert [c["id"] for c in conf["context"]] == [lid for lid in CONTEXT_LAYERS if lid in LAYERS]
    for lid in missing:
        assert f"/collections/{lid}/" not in client.get("/map/sensors?basemap=none").text


def test_context_layers_are_drawn_once_declared() -> None:
    """When another issue declares them, the page loads them from their items endpoints under the sensors."""
    declared = {
        "shelters": Layer("shelters", "指定避難所", "避難所", "POINT", (Col("name"),), label="name"),
        "flood_history": Layer("flood_history", "令和3年8月豪雨 浸水範囲", "浸水範囲", "MULTIPOLYGON", ()),
        "parks": LAYERS["parks"],
    }
    context = context_layers(declared, root="/gis")
    assert [c["id"] for c in context] == ["flood_history", "shelters"]
    assert context[1]["items"].startswith("/gis/collections/shelters/items")
    # Shelters are a badge with a glyph, never a coloured dot that could read as a sensor state.
    assert context[1]["glyph"] == "避" and context[0]["glyph"] is None
    html = build_sensors_html(sample=False, sources=[], context=context, root="/gis", basemap="none")
    conf = _config(html)
    assert [c["title"] for c in conf["context"]] == ["令和3年8月豪雨 浸水範囲", "指定避難所"]
    assert '<i class="sn-ctx-pt" aria-hidden="true"><b>避</b></i>指定避難所' in html  # in the legend too
    assert re.search(r'<div id="gis-banner"[^>]*hidden', html)


# ---------------------------------------------------------------- in a real browser, against the real API


class Server:
    """The API on its own scratch database, served by uvicorn on a loopback port, with a device token."""

    def __init__(self, db_url: str, var_dir: Path) -> None:
        import uvicorn

        self.db_url = db_url
        self.port = _free_port()
        app = create_app(Settings(database_url=db_url, var_dir=var_dir))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        with psycopg.connect(db_url) as conn:
            self.token = create_token(conn, "sensor page test", "device")

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve until stop()."""
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def post(self, observations: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /sensors/observations as the device."""
        r = httpx.post(
            f"{self.url}/sensors/observations",
            json={"observations": observations},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def sensors_live(cluster: Cluster, loaded_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A scratch copy of the loaded database (the readings never reach the shared one) served live."""
    name = "gis_sensors_page"
    cluster.drop(name)
    server = Server(cluster.create(name, template=loaded_template), tmp_path_factory.mktemp("sensors-live"))
    server.start()
    yield server
    server.stop()
    cluster.drop(name)


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def _obs(sensor: str, datastream: str, at: datetime, result: float) -> dict[str, Any]:
    return {"sensor_id": sensor, "datastream": datastream, "phenomenon_time": at.isoformat(), "result": result}


def _jst_text(t: datetime) -> str:
    """How the page writes a time: in JST, 「12月2日 9:05」."""
    j = t.astimezone(JST)
    return f"{j.month}月{j.day}日 {j.hour}:{j.minute:02d}"


def _open(browser: Browser, url: str) -> None:
    browser.driver.get(url)
    browser.wait("return window.GisSensors && GisSensors.idle() && GisSensors.status().polls > 0", what="first poll")


def _marker(browser: Browser, sensor: str) -> dict[str, Any]:
    return browser.driver.execute_script("return GisSensors.marker(arguments[0])", sensor)


def _shot(browser: Browser, name: str) -> None:
    browser.wait("return GisSensors.idle() && !(map_main._panAnim && map_main._panAnim._inProgress)")
    time.sleep(0.4)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.driver.save_screenshot(str(ARTIFACTS / name))


def _rgb(hex_colour: str) -> str:
    """A #rrggbb colour as the browser computes it."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _popup(browser: Browser, sensor: str, click: str | None = None) -> str:
    """Open a sensor's popup (from the page, or by clicking this selector) and return its text once the 24 h
    history is in."""
    if click:
        browser.driver.find_element("css selector", click).click()
    else:
        browser.driver.execute_script("GisSensors.focus(arguments[0])", sensor)
    text = browser.wait(
        "var p = document.querySelector('.sn-popup .sn-pop');"
        f" return p && GisSensors.idle() && p.innerText.includes({json.dumps(sensor)})"
        " && !/読み込み中/.test(p.innerText) ? p.innerText : ''",
        what=f"the popup of {sensor}",
    )
    assert browser.driver.execute_script("return !!document.querySelector('.sn-popup .sn-pop-hist figure')"), text
    return text


@needs_api
def test_live_states_colours_jst_and_refresh_without_reload(browser_factory, sensors_live: Server) -> None:  # noqa: ANN001
    """Phone, in a browser set to New York time: states by colour, unknown never dry, JST times, and a sensor
    turning flooded on the map within the poll interval, without a reload."""
    now = _minute(datetime.now(UTC))
    dry_at = now - timedelta(minutes=7)
    sensors_live.post(
        [
            _obs(DRY, "wet", dry_at, 0),
            _obs(DRY, "battery", dry_at, 3.41),
            _obs(WET, "wet", now - timedelta(minutes=14), 1),
            _obs(FLOODS, "depth", now - timedelta(minutes=25), 10),
            _obs(FLOODS, "depth", now - timedelta(minutes=12), 10),
            _obs(FLOODS, "depth", now - timedelta(minutes=2), 20),
        ]
    )
    # A sensor the service has never heard from (its state row as created, stored state 'dry', no message).
    with psycopg.connect(sensors_live.db_url) as conn:
        conn.execute(
            "DELETE FROM sensor_observations WHERE datastream_id IN"
            " (SELECT id FROM sensor_datastreams WHERE sensor_id = %s)",
            (SILENT,),
        )
        conn.execute(
            "UPDATE sensor_state SET state = 'dry', since = NULL, wet_since = NULL, last_seen = NULL,"
            " level_cm = NULL, silent = false WHERE sensor_id = %s",
            (SILENT,),
        )

    browser = browser_factory(PHONE)
    d = browser.driver
    d.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/New_York"})
    _open(browser, f"{sensors_live.url}/map/sensors?basemap=none&poll=2")
    assert d.execute_script("return GisSensors.status().interval") == 2
    expect = {DRY: "dry", WET: "wet", FLOODS: "flooded", SILENT: "unknown"}
    for sensor, state in expect.items():  # each drawn with its own symbol: glyph, colours, size and its name
        m = _marker(browser, sensor)
        st = STATES[state]
        assert m and m["state"] == state and m["glyph"] == st["glyph"], (sensor, m)
        assert m["fill"] == _rgb(st["fill"]) and m["color"] == _rgb(st["color"]) and m["size"] == st["size"], m
        assert m["label"].endswith("：" + st["label"]), (sensor, m)
    silent = _marker(browser, SILENT)
    assert silent["border"] == "dashed" and silent["fill"] != _rgb(STATES["dry"]["fill"]), "silent is never dry"
    assert _marker(browser, FLOODS)["z"] > _marker(browser, DRY)["z"], "the urgent ones on top"
    assert d.execute_script(
        "return document.querySelector(arguments[0]) !== null", f'#sn-silent li[data-sensor="{SILENT}"]'
    )
    labels = d.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#sn-counts li')].map("
        "l => [l.dataset.state, l.querySelector('.sn-state-label').textContent]))"
    )
    assert labels == {k: s["label"] for k, s in STATES.items()}, labels
    status = d.find_element("id", "sn-updated").text
    assert status.startswith("最終更新 ") and status.endswith("（自動更新中）"), status
    last_ok = datetime.fromtimestamp(d.execute_script("return GisSensors.status().lastOk") / 1000, JST)
    assert f"最終更新 {last_ok.hour}:{last_ok.minute:02d}:{last_ok.second:02d} JST" in status, (status, last_ok)
    _shot(browser, "sensors-phone.png")

    # Times in JST whatever the device's zone: a known UTC time comes out 9 hours later.
    text = _popup(browser, DRY)
    assert STATES["dry"]["label"] in text and f"{_jst_text(dry_at)}（" in text, (text, _jst_text(dry_at))
    assert "3.41 V" in text and "受信" in text, text  # the 24 h history was read: 「…（受信 n 件）」
    _shot(browser, "sensors-phone-popup.png")
    # The silent sensor says 不明 where people read it: its list entry opens a popup that says so.
    text = _popup(browser, SILENT, click=f'#sn-silent li[data-sensor="{SILENT}"] button')
    shown = d.execute_script("return document.querySelector('.sn-popup .sn-pop-state strong').textContent")
    assert shown == STATES["unknown"]["label"] and "通報の記録なし" in text, (shown, text)

    # New readings make WET flooded (14 minutes of wet readings): red on the map without a reload, listed after
    # FLOODS (wet for longer), with its 冠水 event.
    d.execute_script("window.__sameDocument = true")
    polls = d.execute_script("return GisSensors.status().polls")
    sensors_live.post([_obs(WET, "wet", now - timedelta(minutes=1), 1)])
    browser.wait(f"return GisSensors.marker('{WET}').state === 'flooded'", timeout=2 + 6, what="WET turning red")
    assert d.execute_script("return window.__sameDocument === true"), "the page reloaded"
    assert d.execute_script("return GisSensors.status().polls") > polls
    turned = _marker(browser, WET)
    assert turned["fill"] == _rgb(STATES["flooded"]["fill"]) and turned["glyph"] == STATES["flooded"]["glyph"], turned
    order = d.execute_script(
        "return [...document.querySelectorAll('#sn-flooded li[data-sensor]')].map(l => l.dataset.sensor)"
    )
    assert order.index(FLOODS) < order.index(WET), order
    browser.wait(
        f'return document.querySelector(\'#sn-events li[data-kind="flooded"][data-sensor="{WET}"]\')',
        what="the 冠水 event",
    )
    counts = d.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#sn-counts li')].map("
        "l => [l.dataset.state, parseInt(l.querySelector('.sn-count').textContent)]))"
    )
    assert counts["flooded"] >= 2 and counts["unknown"] >= 1, counts
    text = _popup(browser, WET, click=f'#sn-flooded li[data-sensor="{WET}"] button')
    assert STATES["flooded"]["label"] in text, text
    _shot(browser, "sensors-phone-flooded.png")
    d.execute_script("document.getElementById('sn-events').scrollIntoView()")
    _shot(browser, "sensors-phone-events.png")
    assert browser.errors() == [] and browser.foreign_requests() == []


@needs_api
def test_failed_polls_are_said_and_old_states_greyed_out(browser_factory, sensors_live: Server) -> None:  # noqa: ANN001
    """Desktop: a poll interval below the bound is raised to it; when /sensors cannot be reached the page says
    so at once, greys the markers after two failures, and comes back by itself."""
    browser = browser_factory(DESKTOP)
    d = browser.driver
    _open(browser, f"{sensors_live.url}/map/sensors?basemap=none&poll=0.5")
    assert d.execute_script("return GisSensors.status().interval") == POLL_BOUNDS[0]
    banner = d.find_element("id", "gis-banner")
    sample = httpx.get(f"{sensors_live.url}/sensors").json().get("sample")
    assert banner.is_displayed() == bool(sample)
    sources = d.find_element("id", "sn-sources").text
    assert sources.startswith("出典: ") and (("［サンプル］" in sources) == bool(sample)), sources
    _shot(browser, "sensors-desktop.png")
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd(
        "Network.setBlockedURLs", {"urls": [f"{sensors_live.url}/sensors", f"{sensors_live.url}/sensors?*"]}
    )
    browser.wait("return GisSensors.status().failures >= 1", timeout=8, what="a failed poll")
    assert "更新できません" in d.find_element("id", "sn-error").text
    browser.wait("return GisSensors.status().stale", timeout=8, what="stale after two failures")
    assert d.find_element("id", "sn-stale").is_displayed() and "古い情報" in d.find_element("id", "sn-updated").text
    for sensor in (FLOODS, DRY, SILENT):  # grey, but the shape and glyph still say what it was
        greyed = _marker(browser, sensor)
        assert greyed["fill"] == "rgb(217, 217, 217)" and greyed["label"].endswith("（古い情報）"), greyed
        assert greyed["glyph"] == STATES[greyed["state"]]["glyph"], greyed
    _shot(browser, "sensors-desktop-stale.png")
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.wait("return !GisSensors.status().stale && GisSensors.status().failures === 0", timeout=8, what="recovery")
    assert "自動更新中" in d.find_element("id", "sn-updated").text
    assert not d.find_element("id", "sn-error").is_displayed()
    assert browser.errors(lambda m: "ERR_BLOCKED_BY_CLIENT" in m) == [] and browser.foreign_requests() == []
