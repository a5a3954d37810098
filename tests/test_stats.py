"""Access statistics: counted per route, layer, page, API family and JST day, lookups per 大字, flushed additively,
kept through an outage, read by staff only (JSON, CSV, charts, page), and holding no personal data."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.tokens import create_token
from gis.settings import Settings
from gis.stats.counter import JST, AccessCounts
from gis.stats.flush import Flusher
from gis.stats.keys import OTHER, UNRESOLVED, family, lookup_town, route_keys
from gis.stats.read import CSV_COLUMNS
from tests.conftest import Cluster

_names = itertools.count()
# 23:59:59 UTC on 31 May is 08:59:59 on 1 June in Japan: the JST day is the next one.
LATE_UTC = datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC).timestamp()
JST_DAY = date(2026, 6, 1)
ADDRESS = "佐賀県武雄市武雄町武雄5680"
TAKEO = (33.19377, 130.01923)  # lat, lon in central Takeo


def _app(url: str, tmp: Path) -> TestClient:
    # Flushed by hand in the tests (the periodic round would make the counts race the assertions).
    settings = Settings(database_url=url, var_dir=tmp, stats_flush_seconds=3600)
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def surl(cluster: Cluster, loaded_template: str) -> Iterator[str]:
    """A copy of the loaded database for this module's counts."""
    name = f"gis_stats_{next(_names)}"
    url = cluster.create(name, template=loaded_template)
    yield url
    cluster.drop(name)


@pytest.fixture(scope="module")
def tokens(surl: str) -> dict[str, str]:
    """One staff token per role."""
    with psycopg.connect(surl) as conn:
        return {role: create_token(conn, f"stats-{role}", role) for role in ("admin", "editor", "device")}


@pytest.fixture(scope="module")
def sc(surl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API on that database, its counting clock at LATE_UTC."""
    with _app(surl, tmp_path_factory.mktemp("stats")) as c:
        c.app.state.access_counts.clock = lambda: LATE_UTC
        yield c


def flush(c: TestClient) -> int:
    """Run this app's flush on its own event loop; the number of keys written."""
    return c.portal.call(c.app.state.stats_flusher.flush)


def table(url: str, day: date = JST_DAY) -> dict[tuple[str, str], int]:
    """{(kind, key): count} of one day."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT kind, key, count FROM access_counts WHERE day = %s", (day,)).fetchall()
    return {(kind, key): n for kind, key, n in rows}


def reset(c: TestClient, url: str) -> None:
    """Write what earlier tests left pending, then empty the table: the test starts from nothing."""
    flush(c)
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM access_counts")


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# -- keys ------------------------------------------------------------------------------------------------------------


def test_keys_come_from_the_route_template() -> None:
    assert family("/collections/{collectionId}/items") == "features"
    assert family("/collections/{collectionId}/tiles/{tms}/{z}/{x}/{y}") == "tiles"
    assert family("/tiles/{layer}/{z}/{x}/{y}.mvt") == "tiles"
    assert family("/map/{layer}") == "maps" and family("/") == "pages" and family("/reverse") == "lookup"
    assert family(None) == OTHER and family("/{path:path}") == OTHER
    keys = route_keys("/map/{layer}", "parks")
    assert keys.page == "/map/parks" and keys.layer == "parks" and keys.api[2] == "maps:2xx"
    assert route_keys(None, None).page is None and route_keys(None, None).api[4] == "other:4xx"


def test_point_lookup_counts_the_nearest_town_only_inside_the_cities() -> None:
    inside = {"precision": {"outside_service_area": False}, "town": {"nearest": [{"city_code": "41206", "name": "x"}]}}
    assert lookup_town(inside) == "41206:x"
    assert lookup_town({**inside, "precision": {"outside_service_area": True}}) == UNRESOLVED
    assert lookup_town({"query": {"geocode": {"match_level": "city", "city_code": "41206"}}}) == UNRESOLVED


# -- counting ----------------------------------------------------------------------------------------------------------


def test_requests_are_counted_per_layer_page_family_and_jst_day(sc: TestClient, surl: str) -> None:
    reset(sc, surl)
    assert sc.get("/collections/zoning/items", params={"limit": 2}).status_code == 200
    assert sc.get("/collections/zoning/items", params={"limit": 3}).status_code == 200
    fid = sc.get("/collections/parks/items", params={"limit": 1}).json()["features"][0]["id"]
    assert sc.get(f"/collections/parks/items/{fid}").status_code == 200
    assert sc.get("/tiles/zoning/13/7054/3294.mvt").status_code in (200, 204)
    assert sc.get("/map", headers={"accept": "text/html"}).status_code == 200
    assert sc.get("/map/parks").status_code == 200
    assert sc.head("/", headers={"accept": "text/html"}).status_code == 200
    assert sc.get("/collections/no_such_layer/items").status_code == 404
    assert sc.get("/made/up/path/../x").status_code == 404
    assert sc.get("/etc/passwd").status_code == 404
    assert flush(sc) > 0
    got = table(surl)
    assert got[("layer", "zoning")] == 3  # two pages of items and a tile
    assert got[("layer", "parks")] == 3  # items, one feature, its map
    assert got[("page", "/map")] == 1 and got[("page", "/map/parks")] == 1 and got[("page", "/")] == 1
    assert got[("api", "features:2xx")] == 4 and got[("api", "tiles:2xx")] == 1
    assert got[("api", "features:4xx")] == 1  # the unknown layer: no layer row, no page
    assert got[("api", "other:4xx")] == 2  # made-up paths share one bucket
    assert got[("api", "maps:2xx")] == 2 and got[("api", "pages:2xx")] == 1
    assert not any("no_such_layer" in key or "etc" in key or "made" in key for _, key in got)
    assert {kind for kind, _ in got} <= {"api", "layer", "page"}
    with psycopg.connect(surl) as conn:
        assert conn.execute("SELECT DISTINCT day FROM access_counts").fetchall() == [(JST_DAY,)]


def test_lookups_are_counted_per_oaza(sc: TestClient, surl: str) -> None:
    reset(sc, surl)
    g = sc.get("/geocode", params={"q": ADDRESS}).json()
    town = f"{g['city_code']}:{g['town']}"
    assert g["city_code"] == "41206" and g["town"]
    assert sc.get("/lookup", params={"address": ADDRESS}).status_code == 200
    r = sc.get("/lookup", params={"lat": TAKEO[0], "lon": TAKEO[1]})
    nearest = r.json()["town"]["nearest"][0]
    assert sc.get("/geocode", params={"q": "東京都千代田区千代田1-1"}).status_code == 200
    assert sc.get("/lookup", params={"lat": 35.68, "lon": 139.76}).status_code in (200, 400)
    flush(sc)
    got = table(surl)
    assert got[("geocode", town)] == 1 and got[("geocode", UNRESOLVED)] == 1
    assert got[("town", town)] >= 1
    assert got[("town", f"{nearest['city_code']}:{nearest['name']}")] >= 1
    assert sum(n for (kind, _), n in got.items() if kind == "town") == 2 + (("town", UNRESOLVED) in got)
    assert got[("api", "lookup:2xx")] >= 2 and got[("api", "geocode:2xx")] == 2


def test_flush_is_additive_across_two_workers(sc: TestClient, surl: str, tmp_path: Path) -> None:
    reset(sc, surl)
    with _app(surl, tmp_path / "a") as a, _app(surl, tmp_path / "b") as b:
        for c in (a, b):
            c.app.state.access_counts.clock = lambda: LATE_UTC
        for _ in range(3):
            a.get("/collections/parks/items", params={"limit": 1})
        for _ in range(2):
            b.get("/collections/parks/items", params={"limit": 1})
        flush(a)
        flush(b)
        b.get("/collections/parks/items", params={"limit": 1})
    # b's last request is written by its shutdown flush.
    assert table(surl)[("layer", "parks")] == 6


class _Away:
    """A connect() whose database is away (nothing listens on the port)."""

    def __init__(self) -> None:
        self.calls = 0

    @asynccontextmanager
    async def __call__(self):  # noqa: ANN204
        self.calls += 1
        conn = await asyncpg.connect("postgresql://x:y@127.0.0.1:9/none", timeout=2)
        yield conn


def test_an_outage_keeps_the_counts_and_requests_still_answer(sc: TestClient, surl: str) -> None:
    reset(sc, surl)
    flusher = sc.app.state.stats_flusher
    real, away = flusher.connect, _Away()
    flusher.connect = away
    try:
        for _ in range(4):
            assert sc.get("/collections/cemeteries/items", params={"limit": 1}).status_code == 200
        assert flush(sc) == 0 and flush(sc) == 0 and away.calls == 2 and flusher.failures == 2
        assert table(surl) == {}
    finally:
        flusher.connect = real
    assert flush(sc) > 0 and flusher.failures == 0
    assert table(surl)[("layer", "cemeteries")] == 4


def test_memory_is_bounded_and_what_is_dropped_is_counted() -> None:
    counts = AccessCounts(max_keys=3, max_per_kind=2, clock=lambda: LATE_UTC)
    day = counts.today()
    assert day == JST_DAY
    for key in ("a", "b", "c", "d"):
        counts.add(day, "page", key)
    assert counts.pending == {(day, "page", "a"): 1, (day, "page", "b"): 1, (day, "page", OTHER): 2}
    counts.add(day, "layer", "x")  # a fourth key: past max_keys
    counts.add(day, "page", "a")  # a key already pending still counts
    assert counts.pending[(day, "dropped", "layer")] == 1 and counts.pending[(day, "page", "a")] == 2
    assert counts.total() == 6


def test_a_flush_that_fails_restores_within_the_bounds() -> None:
    counts = AccessCounts(max_keys=10, clock=lambda: LATE_UTC)
    day = counts.today()
    counts.add(day, "layer", "parks", 5)
    flusher = Flusher(counts, _Away(), interval_s=3600)
    assert asyncio.run(flusher.flush()) == 0
    assert counts.pending == {(day, "layer", "parks"): 5}


# -- staff endpoints ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/stats", "/admin/stats.csv", "/admin/stats/chart/daily.svg"])
def test_staff_endpoints_need_an_admin_or_editor_token(sc: TestClient, tokens: dict, path: str) -> None:
    r = sc.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert sc.get(path, headers=auth("not-a-token")).status_code == 401
    assert sc.get(path, headers=auth(tokens["device"])).status_code == 403
    for role in ("admin", "editor"):
        r = sc.get(path, headers=auth(tokens[role]))
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-06-02", "to": "2026-06-01"}, "from"),
        ({"from": "2025-01-01", "to": "2026-06-01"}, "to"),
        ({"kind": "ip"}, "kind"),
        ({"to": "0001-01-05"}, "to"),
        ({"from": "9999-12-30"}, "from"),
    ],
)
def test_bad_periods_are_400_naming_the_parameter(sc: TestClient, tokens: dict, query: dict, name: str) -> None:
    for path in ("/admin/stats", "/admin/stats.csv"):
        r = sc.get(path, params=query, headers=auth(tokens["editor"]))
        assert r.status_code == 400 and r.json()["description"].startswith(f"{name}:"), r.text


def test_json_sums_per_day_and_kind(sc: TestClient, surl: str, tokens: dict) -> None:
    reset(sc, surl)
    for _ in range(2):
        sc.get("/collections/zoning/items", params={"limit": 1})
    sc.get("/map/zoning")
    flush(sc)
    r = sc.get("/admin/stats", params={"from": "2026-05-31", "to": "2026-06-02"}, headers=auth(tokens["editor"]))
    body = r.json()
    assert [d["day"] for d in body["days"]] == ["2026-05-31", "2026-06-01", "2026-06-02"]
    one = body["days"][1]
    assert one["by_kind"]["layer"] == 3 and one["requests"] == 3 and body["days"][0]["requests"] == 0
    layers = {i["key"]: i for i in body["totals"]["layer"]}
    assert layers["zoning"]["count"] == 3 and layers["zoning"]["label"] == "用途地域"
    assert body["timezone"] == "Asia/Tokyo" and "記録しません" in body["about"]
    only = sc.get("/admin/stats", params={"to": "2026-06-01", "kind": "page"}, headers=auth(tokens["editor"])).json()
    assert only["from"] == "2026-05-03" and {r["kind"] for r in only["rows"]} == {"page"}


def test_csv_has_the_bom_and_parses(sc: TestClient, surl: str, tokens: dict) -> None:
    reset(sc, surl)
    sc.get("/collections/parks/items", params={"limit": 1})
    sc.get("/geocode", params={"q": ADDRESS})
    flush(sc)
    r = sc.get("/admin/stats.csv", params={"from": "2026-06-01", "to": "2026-06-01"}, headers=auth(tokens["admin"]))
    assert r.headers["content-type"].startswith("text/csv") and r.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="access-stats_2026-06-01_2026-06-01.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    by = {(row["種別"], row["キー"]): row for row in rows}
    assert by[("layer", "parks")]["件数"] == "1" and by[("layer", "parks")]["名称"] == "公園"
    town = next(row for (kind, _), row in by.items() if kind == "geocode")
    assert town["名称"].startswith("武雄市 ") and town["種別名"] == "住所検索（大字別）"
    assert {row["日付"] for row in rows} == {"2026-06-01"}


@pytest.mark.parametrize("chart", ["daily", "api", "layers", "pages", "towns"])
def test_charts_render_as_svg(sc: TestClient, surl: str, tokens: dict, chart: str) -> None:
    sc.get("/geocode", params={"q": ADDRESS})
    sc.get("/map/parks")
    flush(sc)
    r = sc.get(f"/admin/stats/chart/{chart}.svg", params={"to": "2026-06-03"}, headers=auth(tokens["editor"]))
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(r.content)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "日本時間" in text and "この期間のデータはありません" not in text
    empty = sc.get(f"/admin/stats/chart/{chart}.svg", params={"to": "2020-01-01"}, headers=auth(tokens["editor"]))
    assert "この期間のデータはありません" in "".join(ET.fromstring(empty.content).itertext())


def test_unknown_chart_is_4xx(sc: TestClient, tokens: dict) -> None:
    r = sc.get("/admin/stats/chart/ip.svg", headers=auth(tokens["editor"]))
    assert r.status_code in (400, 404, 422) and set(r.json()) == {"code", "description"}


def test_staff_page_is_a_shell_that_keeps_the_token_out_of_urls(sc: TestClient) -> None:
    r = sc.get("/admin/stats/page")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "アクセス統計" in html and 'type="password"' in html and "sessionStorage" in html
    assert "Authorization" in html and "token=" not in html
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"


# -- no personal data --------------------------------------------------------------------------------------------------

SECRETS = {
    "ip": "203.0.113.77",
    "ua": "Mozilla/5.0 (PrivateUA-7f3e9c)",
    "cookie": "session=cookie-5b1d2a",
    "address": "佐賀県武雄市武雄町武雄5680番地の3",
    "lat": "33.1937711",
    "lon": "130.0192377",
    "endpoint": "https://push.example.net/wpush/endpoint-9c4e1b",
    "query": "filter-a8d7e6",
}


def test_the_statistics_hold_no_personal_data(
    sc: TestClient, surl: str, tokens: dict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = tokens["editor"]
    secrets = {**SECRETS, "token": token}
    headers = {
        "x-forwarded-for": SECRETS["ip"],
        "x-real-ip": SECRETS["ip"],
        "user-agent": SECRETS["ua"],
        "cookie": SECRETS["cookie"],
        "authorization": f"Bearer {token}",
    }
    sc.get("/lookup", params={"address": SECRETS["address"]}, headers=headers)
    sc.get("/geocode", params={"q": SECRETS["address"]}, headers=headers)
    sc.get("/lookup", params={"lat": SECRETS["lat"], "lon": SECRETS["lon"]}, headers=headers)
    sc.get("/reverse", params={"lat": SECRETS["lat"], "lon": SECRETS["lon"]}, headers=headers)
    sc.get("/collections/zoning/items", params={"q": SECRETS["query"], "limit": 1}, headers=headers)
    sc.get(f"/map/{SECRETS['query']}", headers=headers)
    sc.get("/admin/whoami", headers=headers)
    subscription = {"endpoint": SECRETS["endpoint"], "keys": {"p256dh": "x", "auth": "y"}}
    sc.post("/garbage/subscriptions", json={"subscription": subscription, "group_id": "T-A"}, headers=headers)
    assert flush(sc) > 0

    with psycopg.connect(surl) as conn:
        stored = conn.execute("SELECT coalesce(string_agg(t::text, '\n'), '') FROM access_counts t").fetchone()[0]
    assert "41206:" in stored  # the 大字 is there, nothing finer
    period = {"from": "2026-06-01", "to": "2026-06-01"}
    outputs = {
        "table": stored,
        "json": sc.get("/admin/stats", params=period, headers=auth(token)).text,
        "csv": sc.get("/admin/stats.csv", params=period, headers=auth(token)).content.decode("utf-8-sig"),
        "page": sc.get("/admin/stats/page").text,
    }
    for chart in ("daily", "api", "layers", "pages", "towns"):
        outputs[chart] = sc.get(f"/admin/stats/chart/{chart}.svg", params=period, headers=auth(token)).text
    # What the service logs (the test client's own httpx lines print the URL it sent: not the server's log).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    outputs["log"] = "\n".join(logging.Formatter().format(r) for r in server)  # with any traceback
    for where, text in outputs.items():
        for what, secret in secrets.items():
            assert secret not in text, f"{what} found in {where}"
        # No fragment of the coordinates or of the address below the 大字 either.
        assert "5680番地" not in text and "0192377" not in text and "1937711" not in text, where


def test_staff_page_in_a_browser_asks_for_the_token_once_and_draws_the_charts(
    browser_factory,  # noqa: ANN001
    live_url: str,
    db_url: str,
) -> None:
    from tests.conftest_browser import ARTIFACTS, DESKTOP

    today = datetime.now(JST).date()
    with psycopg.connect(db_url) as conn:
        token = create_token(conn, "stats-browser", "editor")
        # Rows of today (JST) as the live server's workers would flush them.
        conn.execute(
            "INSERT INTO access_counts (day, kind, key, count) VALUES "
            "(%(d)s, 'api', 'features:2xx', 40), (%(d)s, 'api', 'maps:2xx', 9), (%(d)s, 'layer', 'zoning', 31), "
            "(%(d)s, 'page', '/map/zoning', 9), (%(d)s, 'town', '41206:武雄町大字武雄', 4), "
            "(%(d)s, 'geocode', '41205:立花町', 2) "
            "ON CONFLICT (day, kind, key) DO UPDATE SET count = access_counts.count + EXCLUDED.count",
            {"d": today},
        )
    browser = browser_factory(DESKTOP)
    driver = browser.driver
    driver.get(f"{live_url}/admin/stats/page")
    driver.find_element("id", "token").send_keys(token)
    driver.find_element("id", "use").click()
    names = ("daily", "api", "layers", "pages", "towns")
    ready = " && ".join(f"document.getElementById('chart-{n}').naturalWidth > 0" for n in names)
    browser.wait(f"return {ready}", what="every chart drawn")
    assert "用途地域" in driver.find_element("id", "totals").text
    assert driver.execute_script("return sessionStorage.getItem('gis-staff-token')") == token
    driver.refresh()  # the token is asked for once per tab
    browser.wait(f"return {ready}", what="the charts again after a reload")
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "stats-desktop.png"))
    assert not browser.errors() and not browser.foreign_requests()
    assert not any(token in url for url in browser.requests) and token not in driver.current_url
