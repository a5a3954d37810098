"""What a browser meets besides the maps: the API docs offline, the site icon, errors as Japanese pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gis.maps.assets import external_assets
from tests.conftest_browser import PHONE

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}


def test_api_docs_load_nothing_from_another_host(client: TestClient) -> None:
    r = client.get("/api.html", headers=BROWSER)
    assert r.status_code == 200 and '<html lang="ja">' in r.text
    assert external_assets(r.text) == []
    assets = re.findall(r"""(?:src|href)=["']?(/static/[^"'\s>]+)""", r.text)
    assert len(assets) >= 3  # Swagger UI's script and style, the icon
    for url in assets:
        assert client.get(url).status_code == 200, url
    assert "url: '/api'," in r.text  # the OpenAPI document of this service


def test_favicon_is_served_where_browsers_look(client: TestClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.content.lstrip().startswith(b"<svg") or b"<svg" in r.content[:200]
    assert '<link rel="icon"' in client.get("/collections?f=html").text


@pytest.mark.parametrize(
    ("path", "status", "headline"),
    [
        ("/no/such/page", 404, "ページが見つかりません"),
        ("/collections/no_such_layer", 404, "ページが見つかりません"),
        ("/collections/zoning/items?limit=abc", 400, "入力内容に誤りがあります"),
        ("/collections/zoning/items?limit=1&limit=2", 400, "入力内容に誤りがあります"),  # refused by middleware
        ("/lookup?lat=91&lon=130", 400, "入力内容に誤りがあります"),
        ("/admin/sources", 401, "職員用の認証が必要です"),
    ],
)
def test_browsers_get_errors_as_japanese_pages(client: TestClient, path: str, status: int, headline: str) -> None:
    page = client.get(path, headers=BROWSER)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert '<html lang="ja">' in page.text and headline in page.text
    assert 'href="/"' in page.text and 'href="/map"' in page.text
    api = client.get(path)  # the same request from a client: the JSON shape, same status
    assert api.status_code == status and set(api.json()) == {"code", "description"}
    assert api.json()["code"] in page.text  # the technical detail is on the page too, for the counter staff
    forced = client.get(path + ("&" if "?" in path else "?") + "f=json", headers=BROWSER)
    assert forced.status_code == status and forced.headers["content-type"].startswith("application/json")


def test_error_page_never_shows_internals(client: TestClient) -> None:
    page = client.get("/collections/zoning/items?filter=height%20%3D%20'x'", headers=BROWSER)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    for internal in ("SELECT", "psycopg", "asyncpg", "Traceback", "syntax error at"):
        assert internal not in page.text


def test_api_docs_render_offline_in_chromium(browser_factory, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    browser.driver.get(f"{live_url}/api.html")
    title = browser.wait(
        "const t = document.querySelector('.swagger-ui .info .title'); return t && t.textContent", what="docs title"
    )
    assert "地図データサービス" in title
    operations = browser.wait("return document.querySelectorAll('.opblock').length", what="operations")
    assert operations > 20
    assert browser.foreign_requests() == []
    assert browser.errors() == []
    browser.driver.save_screenshot(str(_artifact("api-docs-phone.png")))


def test_error_page_in_chromium(browser_factory, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = browser_factory(PHONE)
    browser.driver.get(f"{live_url}/map/no_such_layer")
    h1 = browser.wait("const h = document.querySelector('h1'); return h && h.textContent", what="error headline")
    assert h1 == "ページが見つかりません"
    # The way back is a real, thumb-sized link.
    size = browser.driver.execute_script(
        "const r = document.querySelector('main nav a').getBoundingClientRect(); return [r.width, r.height]"
    )
    assert size[0] >= 44 and size[1] >= 44
    assert browser.foreign_requests() == []
    browser.driver.save_screenshot(str(_artifact("error-404-phone.png")))


def _artifact(name: str):  # type: ignore[no-untyped-def]
    from tests.conftest_browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
