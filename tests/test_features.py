"""OGC API Features: metadata, items, paging, CRS, formats, ETags, downloads, bad parameters."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import box, shape

from layers import LAYERS
from tests.conftest import get_when_changed, make_client, reimport_fire_district
from tests.test_load import NO_BUNDLED_DATA

GEOJSON = "application/geo+json"
TO_6670 = Transformer.from_crs(6668, 6670, always_xy=True)


def test_conformance(client: TestClient) -> None:
    classes = client.get("/conformance").json()["conformsTo"]
    for part in (
        "features-1/1.0/conf/core",
        "conf/geojson",
        "features-2/1.0/conf/crs",
        "conf/filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/cql2-json",
    ):
        assert any(part in c for c in classes), part


def test_landing_links(client: TestClient) -> None:
    rels = {link["rel"] for link in client.get("/?f=json").json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels


def test_collections_metadata(client: TestClient, conn: psycopg.Connection) -> None:
    docs = {c["id"]: c for c in client.get("/collections").json()["collections"]}
    assert set(docs) == set(LAYERS)
    for cid, doc in docs.items():
        n = conn.execute(f'SELECT count(*) FROM "{cid}"').fetchone()[0]
        assert doc["itemCount"] == n and doc["title"] == LAYERS[cid].title
        if n == 0 and cid in NO_BUNDLED_DATA:  # declared with no bundled data: no source, no extent yet
            continue
        assert doc["license"] and doc["attribution"]
        assert len(doc["extent"]["spatial"]["bbox"][0]) == 4
        assert "http://www.opengis.net/def/crs/EPSG/0/6670" in doc["crs"]
    assert docs["farmland"]["sample"] and not docs["municipalities"]["sample"]
    assert docs["zoning"]["dataDate"] >= "2022-10-31"
    minx, miny, maxx, maxy = docs["municipalities"]["extent"]["spatial"]["bbox"][0]
    assert 129.7 < minx < 129.8 and 130.1 < maxx < 130.11 and 33.1 < miny < 33.11 and 33.41 < maxy < 33.42
    single = client.get("/collections/zoning").json()
    assert single["id"] == "zoning" and any(link["rel"] == "items" for link in single["links"])


def test_items_default_page_and_links(client: TestClient) -> None:
    r = client.get("/collections/farmland/items")
    assert r.status_code == 200 and r.headers["content-type"].startswith(GEOJSON)
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 100 == len(body["features"])
    assert "numberMatched" not in body  # not free on a first page, and not asked for
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "next" in rels and "prev" not in rels and body["sample"] is True
    page2 = client.get(rels["next"]).json()
    assert page2["features"][0]["id"] > body["features"][-1]["id"]
    assert "prev" in {link["rel"] for link in page2["links"]}
    counted = client.get("/collections/farmland/items", params={"limit": 10, "numberMatched": "true"}).json()
    assert counted["numberMatched"] == 20000


def test_paging_to_the_end(client: TestClient, conn: psycopg.Connection) -> None:
    url, seen, pages = "/collections/garbage_points/items?limit=70", [], 0
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        pages += 1
    total = conn.execute("SELECT count(*) FROM garbage_points").fetchone()[0]
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 70)
    assert body["numberMatched"] == total  # the last page knows the total for free


def test_properties_sortby_and_equality(client: TestClient) -> None:
    body = client.get(
        "/collections/zoning/items",
        params={"properties": "youto_name,kenpei", "sortby": "-kenpei", "city_code": "41206", "limit": 50},
    ).json()
    props = [f["properties"] for f in body["features"]]
    assert all(set(p) == {"youto_name", "kenpei"} for p in props) and len(props) == 40
    assert [p["kenpei"] for p in props] == sorted((p["kenpei"] for p in props), reverse=True)


def test_bbox_and_crs(client: TestClient) -> None:
    lon0, lat0, lon1, lat1 = 130.00, 33.18, 130.03, 33.20
    a = client.get("/collections/zoning/items", params={"bbox": f"{lon0},{lat0},{lon1},{lat1}", "limit": 1000}).json()
    ids = sorted(f["id"] for f in a["features"])
    assert ids and all(shape(f["geometry"]).intersects(box(lon0, lat0, lon1, lat1)) for f in a["features"])
    # The same box given as EPSG:6668 (lat,lon axis order) and as EPSG:6670 (northing,easting) selects the same rows.
    b = client.get(
        "/collections/zoning/items",
        params={
            "bbox": f"{lat0},{lon0},{lat1},{lon1}",
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/6668",
            "limit": 1000,
        },
    )
    assert sorted(f["id"] for f in b.json()["features"]) == ids
    x0, y0 = TO_6670.transform(lon0, lat0)
    x1, y1 = TO_6670.transform(lon1, lat1)
    c = client.get(
        "/collections/zoning/items", params={"bbox": f"{y0},{x0},{y1},{x1}", "bbox-crs": "EPSG:6670", "limit": 1000}
    )
    assert set(ids) <= {f["id"] for f in c.json()["features"]}
    r = client.get(f"/collections/zoning/items/{ids[0]}", params={"crs": "EPSG:6670"})
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/6670>"
    north, east = r.json()["geometry"]["coordinates"][0][0][0]
    assert 10_000 < north < 30_000 and -100_000 < east < -80_000  # zone II metres, X (north) first
    r = client.get(f"/collections/zoning/items/{ids[0]}")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    lon, lat = r.json()["geometry"]["coordinates"][0][0][0]
    assert 129 < lon < 131 and 33 < lat < 34


def test_datetime_on_sensors(client: TestClient) -> None:
    # last_seen is live (sensor_state); the sample sensors have sent nothing, so no instant matches. The filter with
    # readings is tested in tests/test_sensors.py.
    all_ = client.get("/collections/inundation_sensors/items").json()["features"]
    assert all_ and all("last_seen" not in f["properties"] for f in all_)  # null: left out
    recent = client.get("/collections/inundation_sensors/items", params={"datetime": "2026-10-31T00:00:00Z/.."}).json()
    assert recent["features"] == [] and recent["numberReturned"] == 0


def test_single_feature_and_404(client: TestClient) -> None:
    f = client.get("/collections/parks/items/1").json()
    assert f["type"] == "Feature" and f["id"] == 1 and any(link["rel"] == "collection" for link in f["links"])
    for bad in ("999999", "abc", "1.5", "-1"):
        r = client.get(f"/collections/parks/items/{bad}")
        assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_formats(client: TestClient) -> None:
    html = client.get("/collections/parks/items", headers={"accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "公園" in html.text and "サンプル" in html.text
    assert client.get("/collections?f=html").text.count("<section>") == len(LAYERS)
    assert client.get("/collections/zoning?f=html").headers["content-type"].startswith("text/html")
    csv = client.get("/collections/parks/items", params={"f": "csv", "limit": 5})
    assert csv.headers["content-type"].startswith("text/csv")
    header = csv.text.lstrip("\ufeff").splitlines()[0].split(",")
    assert header[:3] == ["全国地方公共団体コード", "ID", "地方公共団体名"] and "名称" in header and "緯度" in header
    assert client.get("/collections/parks/items", headers={"accept": "text/csv"}).text.startswith("\ufeff全国")
    assert client.get("/collections/parks/items", headers={"accept": GEOJSON}).json()["type"] == "FeatureCollection"


def test_etag_304_and_cache_control(client: TestClient) -> None:
    r = client.get("/collections/zoning/items", params={"limit": 5})
    etag = r.headers["etag"]
    assert etag.startswith('"') and "max-age=" in r.headers["cache-control"]
    again = client.get("/collections/zoning/items", params={"limit": 5}, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    other = client.get("/collections/zoning/items", params={"limit": 6})
    assert other.headers["etag"] != etag


def test_gzip(client: TestClient) -> None:
    r = client.get("/collections/farmland/items", params={"limit": 200}, headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.json()["numberReturned"] == 200


def test_large_page_is_streamed(client: TestClient) -> None:
    r = client.get("/collections/farmland/items", params={"limit": 5000, "offset": 17000})
    body = r.json()
    assert body["numberReturned"] == 3000 == len(body["features"]) and body["numberMatched"] == 20000
    assert "next" not in {link["rel"] for link in body["links"]}
    r = client.get("/collections/farmland/items", params={"limit": 2500})
    assert len(r.json()["features"]) == 2500 and "next" in {link["rel"] for link in r.json()["links"]}


def test_downloads(client: TestClient, tmp_path: Path) -> None:
    gj = client.get("/collections/parks/download", params={"f": "geojson"})
    assert "attachment" in gj.headers["content-disposition"]
    body = gj.json()
    assert body["license"] and "PLATEAU" in body["attribution"] and len(body["features"]) == 29
    csv = client.get("/collections/parks/download", params={"f": "csv"}).text
    assert "出典" in csv.splitlines()[0] and csv.count("\r\n") == 30
    gpkg = client.get("/collections/parks/download", params={"f": "gpkg"})
    path = tmp_path / "parks.gpkg"
    path.write_bytes(gpkg.content)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"parks", "sources_and_licence"} <= layers
    frame = gpd.read_file(path, layer="parks")
    assert len(frame) == 29 and frame.crs.to_epsg() == 6668
    licences = gpd.read_file(path, layer="sources_and_licence")
    assert "PLATEAU" in " ".join(licences["attribution"])
    assert (
        client.get(
            "/collections/parks/download", params={"f": "gpkg"}, headers={"if-none-match": gpkg.headers["etag"]}
        ).status_code
        == 304
    )


BAD = [
    ("/collections/zoning/items", {"bbox": "1,2,3"}),
    ("/collections/zoning/items", {"bbox": "a,b,c,d"}),
    ("/collections/zoning/items", {"bbox": "130.1,33,130,33.2"}),
    ("/collections/zoning/items", {"bbox": "130,95,131,96"}),
    ("/collections/zoning/items", {"bbox": "nan,1,2,3"}),
    ("/collections/zoning/items", {"bbox-crs": "EPSG:2451", "bbox": "1,2,3,4"}),
    ("/collections/zoning/items", {"limit": "0"}),
    ("/collections/zoning/items", {"limit": "10001"}),
    ("/collections/zoning/items", {"limit": "ten"}),
    ("/collections/zoning/items", {"offset": "-1"}),
    ("/collections/zoning/items", {"crs": "EPSG:9999"}),
    ("/collections/zoning/items", {"crs": "not a crs"}),
    ("/collections/zoning/items", {"properties": "owner_name"}),
    ("/collections/zoning/items", {"sortby": "+no_such"}),
    ("/collections/zoning/items", {"sortby": "geom"}),
    ("/collections/zoning/items", {"datetime": "2020-01-01"}),
    ("/collections/inundation_sensors/items", {"datetime": "yesterday"}),
    ("/collections/inundation_sensors/items", {"datetime": "2026-12-01T00:00:00Z/2026-01-01T00:00:00Z"}),
    ("/collections/inundation_sensors/items", {"datetime": "../.."}),
    ("/collections/zoning/items", {"filter": "youto_name = "}),
    ("/collections/zoning/items", {"filter": "no_such = 1"}),
    ("/collections/zoning/items", {"filter": "kenpei = 'abc'"}),
    ("/collections/zoning/items", {"filter": "S_INTERSECTS(youto_name, POINT(1 2))"}),
    ("/collections/zoning/items", {"filter": "{not json", "filter-lang": "cql2-json"}),
    ("/collections/zoning/items", {"filter": "kenpei = 60", "filter-lang": "sql"}),
    ("/collections/zoning/items", {"filter": "kenpei = 60", "filter-crs": "EPSG:1"}),
    ("/collections/zoning/items", {"f": "xml"}),
    ("/collections/zoning/items", {"owner_name": "x"}),
    ("/collections/zoning/items/1", {"crs": "EPSG:1"}),
    ("/collections/zoning/items/1", {"bbox": "1,2,3,4"}),
    ("/collections/zoning/download", {"f": "shp"}),
    ("/collections", {"f": "csv"}),
]


@pytest.mark.parametrize(("path", "params"), BAD, ids=[f"{p.split('/')[-1]}-{list(q.items())[0]}" for p, q in BAD])
def test_bad_parameters_are_400_json(client: TestClient, path: str, params: dict) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"code", "description"} and body["code"] == "InvalidParameterValue"
    assert body["description"] and "Traceback" not in body["description"]
    for leak in ("psycopg", "asyncpg", "SELECT", "postgres", "ERROR:"):
        assert leak not in body["description"]


PRIVATE = ("見本", "owner_name", "cultivator_name", "lessee_name", "manager_name", "manager_address")


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_no_private_data_in_any_public_output(client: TestClient, layer_id: str) -> None:
    outputs = [
        client.get(f"/collections/{layer_id}").text,
        client.get(f"/collections/{layer_id}?f=html").text,
        client.get(f"/collections/{layer_id}/queryables").text,
        client.get(f"/collections/{layer_id}/items", params={"limit": 10000}).text,
        client.get(f"/collections/{layer_id}/items", params={"limit": 10000, "f": "csv"}).text,
        client.get(f"/collections/{layer_id}/items", params={"limit": 300, "f": "html"}).text,
        client.get(f"/collections/{layer_id}/items/1").text,
        client.get(f"/collections/{layer_id}/download", params={"f": "geojson"}).text,
        client.get(f"/collections/{layer_id}/download", params={"f": "csv"}).text,
    ]
    gpkg = client.get(f"/collections/{layer_id}/download", params={"f": "gpkg"}).content
    for text in outputs:
        for word in PRIVATE:
            assert word not in text, (layer_id, word)
    for word in PRIVATE:
        assert word.encode() not in gpkg, (layer_id, word)


def test_reimport_changes_etag_and_bytes(scratch_url: str, tmp_path: Path) -> None:
    """A re-import is visible at once: new bytes, new ETag (the version arrives by LISTEN/NOTIFY)."""
    with make_client(scratch_url, tmp_path) as c:
        first = c.get("/collections/fire_districts/items")
        reimport_fire_district(scratch_url, tmp_path)
        second = get_when_changed(c, "/collections/fire_districts/items", first.headers["etag"])
        assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
        assert [f["properties"]["fire_type"] for f in second.json()["features"]] == ["防火地域"]


def test_openapi_documents_the_parameters(client: TestClient) -> None:
    spec = client.get("/api").json()
    params = {p["name"] for p in spec["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert {
        "bbox",
        "bbox-crs",
        "limit",
        "offset",
        "properties",
        "sortby",
        "datetime",
        "filter",
        "filter-lang",
        "filter-crs",
        "crs",
        "f",
    } <= params


def test_a_feature_leaves_out_nulls_and_defaults(client: TestClient) -> None:
    """Items omit null and declared-default properties; the queryables and the schema keep them; downloads too."""
    feats = client.get("/collections/farmland/items", params={"limit": 50}).json()["features"]
    assert feats and all(None not in f["properties"].values() for f in feats)
    props = [f["properties"] for f in feats]
    assert all(p.get("ledger_count") != 0 and p.get("urbanised") is not False for p in props)
    assert any("ledger_count" not in f["properties"] for f in feats)  # unlinked parcels: 0, left out
    queryables = client.get("/collections/farmland/queryables").json()["properties"]
    assert queryables["ledger_count"]["default"] == 0 and queryables["urbanised"]["default"] is False
    schema = client.get("/collections/farmland/schema")
    assert schema.headers["content-type"].startswith("application/schema+json")
    props = schema.json()["properties"]["properties"]["properties"]
    assert {c.name for c in LAYERS["farmland"].output_columns} | {"city_code", "sample"} == set(props)
    links = client.get("/collections/farmland").json()["links"]
    assert {"describedby", "describedBy"} <= {link["rel"] for link in links if link["href"].endswith("/schema")}
    # A download is a dataset: every property, nulls included.
    download = client.get("/collections/parks/download", params={"f": "geojson"}).json()["features"]
    assert all(set(f["properties"]) == set(download[0]["properties"]) for f in download)
    assert any(None in f["properties"].values() for f in download)


def test_farmland_coordinates_have_six_decimals(client: TestClient) -> None:
    """Farmland is drawn on imagery (metres): 6 decimals; other layers keep 7."""

    def decimals(fc: dict) -> int:
        ring = fc["features"][0]["geometry"]["coordinates"][0][0]
        return max(len(repr(v).split(".")[1]) for xy in ring for v in xy)

    assert decimals(client.get("/collections/farmland/items", params={"limit": 5}).json()) <= 6
    assert decimals(client.get("/collections/zoning/items", params={"limit": 5}).json()) == 7
