"""The staff page /admin in headless Chromium: sign in, preview a cemetery ledger upload as a diff, apply it, move a
garbage point on the map, see both in the audit and the history, roll the cemetery layer back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.tokens import create_token
from gis.settings import Settings
from tests.conftest import _free_port
from tests.conftest_browser import ARTIFACTS, DESKTOP, PHONE, Browser
from tests.test_upload import checksum, edited_ledger

STALE = "他の職員が先に更新しました。再読込してください"


def test_page_is_a_japanese_shell_without_data_or_cdn(client: TestClient) -> None:
    r = client.get("/admin", headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="ja">' in html and "職員ページ" in html and "トークン" in html
    for tab in ("レイヤー", "取込", "履歴", "監査ログ", "地図編集"):
        assert f">{tab}</button>" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "leaflet-geoman" in html
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["referrer-policy"] == "no-referrer" and "set-cookie" not in r.headers
    assert client.get("/admin", headers={"if-none-match": r.headers["etag"]}).status_code == 304
    assert client.get("/static/vendor/leaflet-geoman-free-2.20.2/leaflet-geoman.min.js").status_code == 200


@pytest.fixture
def site(scratch_url: str, tmp_path: Path) -> Iterator[dict]:
    """The API on a scratch database, served by uvicorn for the browser, with an editor's token."""
    import uvicorn

    with psycopg.connect(scratch_url) as conn:
        token = create_token(conn, "環境課 山田", "editor")
        other = create_token(conn, "環境課 佐藤", "editor")
    port = _free_port()
    app = create_app(Settings(database_url=scratch_url, var_dir=tmp_path / "var"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "db": scratch_url, "token": token, "other": other, "tmp": tmp_path}
    server.should_exit = True
    thread.join(timeout=10)


def _idle(b: Browser) -> None:
    b.wait("return window.GisAdmin && GisAdmin.idle()", what="the page's requests")


def _shot(b: Browser, name: str) -> None:
    _idle(b)
    time.sleep(0.3)
    ARTIFACTS.mkdir(exist_ok=True)
    b.driver.save_screenshot(str(ARTIFACTS / name))


def _sign_in(b: Browser, base: str, token: str) -> None:
    b.driver.get(f"{base}/admin?basemap=none")
    b.wait("return window.GisAdmin && document.getElementById('ad-token')")
    b.driver.find_element("id", "ad-token").send_keys(token)
    b.driver.find_element("css selector", "#ad-signin-form button").click()
    b.wait("return !document.getElementById('ad-app').hidden", what="the signed-in page")
    b.wait("return document.querySelector('#ad-layers tr[data-layer=cemeteries]')", what="the layers table")


def _tab(b: Browser, name: str) -> None:
    b.driver.find_element("id", f"ad-tab-{name}").click()
    _idle(b)


def _message(b: Browser, words: str) -> str:
    script = f"var m = document.getElementById('ad-msg').textContent; return m.indexOf({words!r}) >= 0 && m"
    return b.wait(script, what=f"the message {words}")


def _confirm(b: Browser) -> None:
    b.wait("return document.getElementById('ad-confirm').open", what="the confirmation")
    b.driver.find_element("id", "ad-confirm-ok").click()


def _select(b: Browser, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(b.driver.find_element("id", element_id)).select_by_value(value)


def _preview_and_apply(b: Browser, path: Path) -> str:
    _tab(b, "import")
    _select(b, "ad-import-layer", "cemeteries")
    b.driver.find_element("id", "ad-import-file").send_keys(str(path))
    b.driver.find_element("id", "ad-preview").click()
    b.wait("return document.querySelector('#ad-import-result h2')", what="the preview")
    _idle(b)
    return b.driver.find_element("id", "ad-import-result").text


def test_staff_preview_apply_move_audit_history_rollback(browser_factory, site: dict) -> None:  # noqa: ANN001
    base, db = site["url"], site["db"]
    with psycopg.connect(db) as conn:
        data, keys = edited_ledger(conn)
        before = checksum(conn, "cemeteries")
        revision_before = conn.execute(
            "SELECT coalesce(max(revision), 0) FROM layer_revisions WHERE layer_id = 'cemeteries'"
        ).fetchone()[0]
    ledger = site["tmp"] / "墓地台帳_武雄市.csv"
    ledger.write_bytes(data)

    b = browser_factory(DESKTOP)
    _sign_in(b, base, site["token"])
    d = b.driver
    # The token lives in this tab's sessionStorage only: not in the URL, not in a cookie.
    assert d.execute_script("return sessionStorage.getItem('gis-admin-token')") == site["token"]
    assert d.execute_script("return document.cookie") == "" and site["token"] not in d.current_url
    assert "環境課 山田" in d.find_element("id", "ad-who-name").text
    _shot(b, "admin-layers-desktop.png")

    # 取込: the preview is the diff; nothing changes until 適用.
    text = _preview_and_apply(b, ledger)
    assert "プレビュー" in text and "追加 1" in text and "削除 1" in text, text
    assert d.execute_script("return document.querySelectorAll('.ad-diff-changed li[data-field=name]').length") >= 1
    assert keys["renamed"] in text and keys["dropped"] in text
    _shot(b, "admin-preview-desktop.png")
    with psycopg.connect(db) as conn:
        assert checksum(conn, "cemeteries") == before
    d.find_element("id", "ad-apply").click()
    _confirm(b)
    _message(b, "適用しました")
    with psycopg.connect(db) as conn:
        assert checksum(conn, "cemeteries") != before
        names = {k for (k,) in conn.execute("SELECT feature_key FROM cemeteries")}
    assert keys["added"] in names and keys["dropped"] not in names

    # 地図編集: move one garbage point by dragging it (Leaflet-Geoman's drag mode), saved with If-Match.
    _tab(b, "edit")
    _select(b, "ad-edit-layer", "garbage_points")
    b.wait("return GisAdmin.edit.markers().length > 100 && GisAdmin.idle()", what="the garbage points")
    fid, lon, lat = d.execute_script(
        "var m = GisAdmin.edit.markers()[0]; GisAdmin.edit.map().setView(m.getLatLng(), 17, {animate: false});"
        "return [m.feature.id, m.feature.geometry.coordinates[0], m.feature.geometry.coordinates[1]]"
    )
    time.sleep(0.5)
    d.find_element("id", "ad-edit-move").click()
    icon = d.execute_script(
        "var id = arguments[0]; return GisAdmin.edit.markers().filter(m => m.feature.id === id)[0]._icon", fid
    )
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(d).click_and_hold(icon).move_by_offset(20, 10).move_by_offset(40, 20).release().perform()
    _message(b, "位置を保存しました")
    _shot(b, "admin-moved-desktop.png")
    with psycopg.connect(db) as conn:
        new = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM garbage_points WHERE id = %s", (fid,)).fetchone()
    assert new[0] > lon and new[1] < lat, (lon, lat, new)
    d.find_element("id", "ad-edit-move").click()

    # Another member of staff saves first: this page's save is refused with 412 and says so.
    b.wait("return GisAdmin.edit.markers().length > 100 && GisAdmin.idle()")
    d.execute_script("var m = GisAdmin.edit.markers()[1]; m.fire('click');")
    b.wait("return !document.getElementById('ad-edit-form').hidden", what="the attribute form")
    other_fid = d.execute_script("return GisAdmin.edit.markers()[1].feature.id")
    headers = {"Authorization": f"Bearer {site['other']}"}
    item = httpx.get(f"{base}/collections/garbage_points/items/{other_fid}")
    r = httpx.patch(
        f"{base}/collections/garbage_points/items/{other_fid}",
        json={"properties": {"district": "佐藤さんの修正"}},
        headers={**headers, "If-Match": item.headers["etag"], "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    name = d.find_element("css selector", "#ad-edit-form input[name=name]")
    name.send_keys("（移設）")
    d.find_element("css selector", "#ad-edit-form button[type=submit]").click()
    assert STALE in _message(b, STALE)
    assert STALE in d.find_element("id", "ad-form-msg").text  # beside the form's buttons too
    _shot(b, "admin-stale-desktop.png")

    # 監査ログ: the import and the move, under the staff member's name.
    _tab(b, "audit")
    b.wait("return document.querySelectorAll('#ad-audit tbody tr').length > 0", what="the audit rows")
    rows = d.execute_script(
        "return [...document.querySelectorAll('#ad-audit tbody tr')].map(r => [r.dataset.layer, r.dataset.kind, "
        "r.dataset.op, r.textContent])"
    )
    assert any(layer == "garbage_points" and kind == "edit" and "環境課 山田" in t for layer, kind, _, t in rows), rows
    assert any(layer == "cemeteries" and kind == "import" and "環境課 山田" in t for layer, kind, _, t in rows), rows
    _shot(b, "admin-audit-desktop.png")

    # 履歴: roll the cemetery layer back to the revision before the import.
    _tab(b, "history")
    _select(b, "ad-history-layer", "cemeteries")
    _idle(b)
    b.wait("return document.querySelector('#ad-history tbody tr')", what="the history")
    first = d.execute_script(
        "var r = document.querySelector('#ad-history tbody tr'); return [r.dataset.kind, r.textContent]"
    )
    assert first[0] == "import" and "環境課 山田" in first[1], first
    _shot(b, "admin-history-desktop.png")
    d.find_element("css selector", f"#ad-history button[data-revision='{revision_before}']").click()
    _confirm(b)
    _message(b, "状態に戻しました")
    b.wait("return document.querySelector('#ad-history tbody tr').dataset.kind === 'rollback'")
    with psycopg.connect(db) as conn:
        assert checksum(conn, "cemeteries") == before
    _shot(b, "admin-rollback-desktop.png")
    # The one refused save is the browser's only failed request.
    assert b.errors(lambda m: "status of 412" in m) == [] and b.foreign_requests() == []


def test_phone_sign_in_and_preview(browser_factory, site: dict) -> None:  # noqa: ANN001
    """At phone size: a wrong token is refused in words, the tabs fit, the preview reads."""
    base = site["url"]
    with psycopg.connect(site["db"]) as conn:
        data, _ = edited_ledger(conn)
    ledger = site["tmp"] / "ledger.csv"
    ledger.write_bytes(data)
    b = browser_factory(PHONE)
    d = b.driver
    d.get(f"{base}/admin?basemap=none")
    b.wait("return window.GisAdmin")
    d.find_element("id", "ad-token").send_keys("gis_wrong")
    d.find_element("css selector", "#ad-signin-form button").click()
    b.wait("return document.getElementById('ad-signin-msg').textContent", what="the refusal")
    assert "無効" in d.find_element("id", "ad-signin-msg").text
    assert d.execute_script("return sessionStorage.getItem('gis-admin-token')") is None
    _shot(b, "admin-signin-phone.png")
    _sign_in(b, base, site["token"])
    assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(b, "admin-layers-phone.png")
    text = _preview_and_apply(b, ledger)
    assert "追加 1" in text
    _shot(b, "admin-preview-phone.png")
    _tab(b, "edit")
    b.wait("return GisAdmin.edit.markers().length > 10", what="the garbage points")
    _shot(b, "admin-edit-phone.png")
    # Signing out forgets the token.
    d.find_element("id", "ad-signout").click()
    assert d.execute_script("return sessionStorage.getItem('gis-admin-token')") is None
    assert b.errors(lambda m: "401" in m) == [] and b.foreign_requests() == []
