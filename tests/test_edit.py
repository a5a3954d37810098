"""OGC API Features Part 4 editing: roles, If-Match, validation from the declaration, CRS, private columns, derived
layers, foreign keys, the audit trail, and the next read (items, tiles, lookup) showing every change."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from gis.db.tokens import create_token
from layers.youto import YOUTO_CODES
from tests.conftest import Cluster, make_client
from tests.test_tiles import tile_of

GEOJSON = "application/geo+json"
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
TAKEO_CENTRE = (130.0195, 33.1955)  # 武雄市の中心部
SEA = (129.0, 32.5)
_db = itertools.count()


@pytest.fixture(scope="module")
def edit_db(cluster: Cluster, loaded_template: str) -> Iterator[str]:
    """One writable copy of the loaded database for this module (the tests touch different rows)."""
    name = f"gis_edit_{next(_db)}"
    url = cluster.create(name, template=loaded_template)
    yield url
    cluster.drop(name)


@pytest.fixture(scope="module")
def tokens(edit_db: str) -> dict[str, str]:
    with psycopg.connect(edit_db) as conn:
        return {role: create_token(conn, f"編集テスト {role}", role) for role in ("admin", "editor", "device")}


@pytest.fixture(scope="module")
def ec(edit_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(edit_db, tmp_path_factory.mktemp("edit")) as c:
        yield c


@pytest.fixture
def db(edit_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(edit_db, autocommit=True) as conn:
        yield conn


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def garbage_point(group: str, lon: float = 130.021, lat: float = 33.197, **props: object) -> dict:
    return {
        "type": "Feature",
        "geometry": point(lon, lat),
        "properties": {"name": "編集テスト集積所", "group_id": group, **props},
    }


def takeo_group(db: psycopg.Connection) -> str:
    return db.execute("SELECT group_id FROM garbage_groups WHERE city_code = '41206' ORDER BY group_id").fetchone()[0]


def etag_of(ec: TestClient, layer: str, fid: int) -> str:
    r = ec.get(f"/collections/{layer}/items/{fid}")
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def create(ec: TestClient, token: str, layer: str, body: dict, **headers: str):  # noqa: ANN201
    return ec.post(f"/collections/{layer}/items", json=body, headers=auth(token, **headers))


def test_conformance_and_openapi_name_part4(ec: TestClient) -> None:
    classes = ec.get("/conformance").json()["conformsTo"]
    for c in ("create-replace-delete", "update", "optimistic-locking-etags", "features"):
        assert PART4 + c in classes
    paths = ec.get("/api").json()["paths"]
    post = paths["/collections/{collectionId}/items"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "415"} <= set(post["responses"])
    assert {"application/geo+json", "application/json"} <= set(post["requestBody"]["content"])
    item = paths["/collections/{collectionId}/items/{featureId}"]
    for method in ("put", "patch", "delete"):
        assert {"400", "401", "403", "404", "409", "412", "428"} <= set(item[method]["responses"]), method
        assert any(p["name"] == "If-Match" and p["required"] for p in item[method]["parameters"]), method
    assert "application/merge-patch+json" in item["patch"]["requestBody"]["content"]
    garbage = paths["/collections/garbage_points/items"]["post"]
    schema = garbage["requestBody"]["content"][GEOJSON]["schema"]
    assert set(schema["properties"]["properties"]["required"]) == {"name", "group_id"}
    assert schema["properties"]["geometry"]["properties"]["type"]["enum"] == ["Point"]
    assert "post" not in paths["/collections/noise_zones/items"]  # derived: not editable
    cemetery = paths["/collections/cemeteries/items"]["post"]["requestBody"]["content"][GEOJSON]["schema"]
    assert "非公開" in cemetery["properties"]["properties"]["properties"]["manager_name"]["description"] or (
        "never published" in cemetery["properties"]["properties"]["properties"]["manager_name"]["description"]
    )


def test_role_matrix(ec: TestClient, tokens: dict[str, str], db: psycopg.Connection) -> None:
    body = garbage_point(takeo_group(db))
    r = ec.post("/collections/garbage_points/items", json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert ec.post("/collections/garbage_points/items", json=body, headers=auth("gis_nonsense")).status_code == 401
    r = create(ec, tokens["device"], "garbage_points", body)
    assert r.status_code == 403 and r.json()["code"] == "Forbidden"
    for role in ("editor", "admin"):
        r = create(ec, tokens[role], "garbage_points", body)
        assert r.status_code == 201, r.text
    fid = r.json()["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        r = ec.request(method, f"/collections/garbage_points/items/{fid}", json=body)
        assert r.status_code == 401, method
        r = ec.request(method, f"/collections/garbage_points/items/{fid}", json=body, headers=auth(tokens["device"]))
        assert r.status_code == 403, method


def test_create_answers_location_etag_and_is_audited(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    group = takeo_group(db)
    body = garbage_point(group, district="編集区", accessibility="段差なし")
    r = create(ec, tokens["editor"], "garbage_points", body, **{"X-Request-Id": "req-create-1"})
    assert r.status_code == 201, r.text
    feature = r.json()
    fid = feature["id"]
    assert r.headers["location"].endswith(f"/collections/garbage_points/items/{fid}")
    assert r.headers["x-request-id"] == "req-create-1"
    props = feature["properties"]
    assert props["name"] == "編集テスト集積所" and props["group_id"] == group and props["district"] == "編集区"
    assert props["city_code"] == "41206" and props["sample"] is False  # the city is taken from the geometry
    assert feature["geometry"]["coordinates"] == [130.021, 33.197]
    got = ec.get(r.headers["location"])  # the same ETag as GET sends: usable for the next change
    assert got.status_code == 200 and got.headers["etag"] == r.headers["etag"]
    assert got.json()["properties"] == props
    source = db.execute(
        "SELECT s.origin, s.data_date, s.city_codes, s.publisher FROM garbage_points g JOIN sources s "
        "ON s.id = g.source_id WHERE g.id = %s",
        (fid,),
    ).fetchone()
    assert source[0] == "edit" and source[1] == datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert source[2] == ["41206"] and "武雄市" in source[3]
    revision = db.execute(
        "SELECT r.kind, r.actor, r.actor_role, r.request_id, c.op FROM layer_revisions r "
        "JOIN layer_row_changes c ON c.revision_id = r.id WHERE r.layer_id = 'garbage_points' "
        "AND r.request_id = 'req-create-1'"
    ).fetchall()
    assert revision == [("edit", "編集テスト editor", "editor", "req-create-1", "insert")]


def test_move_shows_in_the_next_items_tile_and_lookup(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    fid = create(ec, tokens["editor"], "garbage_points", garbage_point(takeo_group(db), name="移動テスト")).json()["id"]
    lon, lat = 130.0312, 33.1861  # about 1.5 km away, still in 武雄市
    r = ec.patch(
        f"/collections/garbage_points/items/{fid}",
        json={"geometry": point(lon, lat)},
        headers=auth(tokens["admin"], **{"If-Match": etag_of(ec, "garbage_points", fid)}),
    )
    assert r.status_code == 200, r.text
    assert r.json()["geometry"]["coordinates"] == [lon, lat]
    assert r.json()["properties"]["name"] == "移動テスト"  # a merge patch keeps what it does not name
    z, x, y = tile_of(lon, lat, 16)
    tile = mapbox_vector_tile.decode(ec.get(f"/tiles/garbage_points/{z}/{x}/{y}.mvt").content)
    assert fid in [f["id"] for f in tile["garbage_points"]["features"]]
    z, x, y = tile_of(130.021, 33.197, 16)
    old = ec.get(f"/tiles/garbage_points/{z}/{x}/{y}.mvt").content
    assert fid not in [f["id"] for f in mapbox_vector_tile.decode(old).get("garbage_points", {}).get("features", [])]
    nearest = ec.get("/lookup", params={"lat": lat, "lon": lon}).json()["garbage_points"]["nearest"]
    assert nearest[0]["name"] == "移動テスト"
    near = ec.get(
        "/collections/garbage_points/items",
        params={"bbox": f"{lon - 0.0001},{lat - 0.0001},{lon + 0.0001},{lat + 0.0001}"},
    )
    assert [f["id"] for f in near.json()["features"]] == [fid]


def test_two_editors_with_one_etag_the_second_gets_412(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    fid = create(ec, tokens["editor"], "garbage_points", garbage_point(takeo_group(db))).json()["id"]
    path = f"/collections/garbage_points/items/{fid}"
    etag = etag_of(ec, "garbage_points", fid)
    first = ec.patch(
        path, json={"properties": {"name": "先の編集"}}, headers=auth(tokens["editor"], **{"If-Match": etag})
    )
    assert first.status_code == 200 and first.headers["etag"] != etag
    second = ec.patch(
        path, json={"properties": {"name": "後の編集"}}, headers=auth(tokens["admin"], **{"If-Match": etag})
    )
    assert second.status_code == 412 and second.json()["code"] == "PreconditionFailed"
    assert ec.get(path).json()["properties"]["name"] == "先の編集"
    # The ETag the first write answered is the current one.
    third = ec.patch(
        path,
        json={"properties": {"name": "三度目"}},
        headers=auth(tokens["admin"], **{"If-Match": first.headers["etag"]}),
    )
    assert third.status_code == 200
    # No If-Match, or '*': 428; a weak or made-up tag: 412.
    for headers in ({}, {"If-Match": "*"}):
        r = ec.patch(path, json={"properties": {"name": "x"}}, headers=auth(tokens["editor"], **headers))
        assert r.status_code == 428 and r.json()["code"] == "PreconditionRequired"
    for tag in (f"W/{third.headers['etag']}", '"1-abc"'):
        r = ec.patch(path, json={"properties": {"name": "x"}}, headers=auth(tokens["editor"], **{"If-Match": tag}))
        assert r.status_code == 412


def test_simultaneous_editors_with_one_etag_one_wins(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    fid = create(ec, tokens["editor"], "garbage_points", garbage_point(takeo_group(db))).json()["id"]
    path = f"/collections/garbage_points/items/{fid}"
    etag = etag_of(ec, "garbage_points", fid)
    barrier = threading.Barrier(2)

    def edit(name: str, token: str) -> tuple[int, str]:
        barrier.wait()
        r = ec.patch(path, json={"properties": {"name": name}}, headers=auth(token, **{"If-Match": etag}))
        return r.status_code, name

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(edit, ["編集者A", "編集者B"], [tokens["editor"], tokens["admin"]]))
    assert [code for code, _ in results] == [200, 412]
    assert ec.get(path).json()["properties"]["name"] == results[0][1]


def test_put_replaces_every_property(ec: TestClient, tokens: dict[str, str], db: psycopg.Connection) -> None:
    group = takeo_group(db)
    fid = create(ec, tokens["editor"], "garbage_points", garbage_point(group, district="消える区")).json()["id"]
    path = f"/collections/garbage_points/items/{fid}"
    doc = ec.get(path).json()  # a client sends back what it read, changed
    doc["properties"] = {**doc["properties"], "name": "置換後", "district": None}
    doc["geometry"]["coordinates"] = [130.022, 33.198]
    r = ec.put(path, json=doc, headers=auth(tokens["editor"], **{"If-Match": etag_of(ec, "garbage_points", fid)}))
    assert r.status_code == 200, r.text
    # A null property is left out of the answer (README "What a feature leaves out").
    assert r.json()["properties"]["name"] == "置換後" and "district" not in r.json()["properties"]
    body = garbage_point(group, name="最小")
    r = ec.put(path, json=body, headers=auth(tokens["editor"], **{"If-Match": r.headers["etag"]}))
    assert r.status_code == 200 and "accessibility" not in r.json()["properties"]
    body["id"] = fid + 1
    r = ec.put(path, json=body, headers=auth(tokens["editor"], **{"If-Match": r.headers["etag"]}))
    assert r.status_code == 400 and r.json()["description"].startswith("id:")


@pytest.mark.parametrize(
    ("layer", "body", "names"),
    [
        (
            "zoning",
            {"type": "Feature", "geometry": point(*TAKEO_CENTRE), "properties": {"youto_name": "商業地域"}},
            "geometry",
        ),
        ("garbage_points", garbage_point("G", *SEA), "geometry"),
        ("garbage_points", garbage_point("G", colour="赤"), "properties.colour"),
        (
            "garbage_points",
            {"type": "Feature", "geometry": point(130.021, 33.197), "properties": {"group_id": "G"}},
            "properties.name",
        ),
        ("garbage_points", garbage_point("G", name=None), "properties.name"),
        ("garbage_points", garbage_point("G", name=12), "properties.name"),
        ("garbage_points", garbage_point("G", city_code="41205"), "properties.city_code"),
        ("garbage_points", garbage_point("G", city_code="13101"), "properties.city_code"),
        ("garbage_points", garbage_point("存在しない班"), "properties.group_id"),
        ("garbage_points", {"type": "FeatureCollection", "features": []}, "body"),
        (
            "garbage_points",
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [130.0, "x"]},
                "properties": {"name": "n", "group_id": "G"},
            },
            "geometry",
        ),
        (
            "garbage_points",
            {"type": "Feature", "geometry": None, "properties": {"name": "n", "group_id": "G"}},
            "geometry",
        ),
        (
            "cemeteries",
            {
                "type": "Feature",
                "geometry": point(130.021, 33.197),
                "properties": {"name": "墓地", "plots": "たくさん"},
            },
            "properties.plots",
        ),
        (
            "cemeteries",
            {
                "type": "Feature",
                "geometry": point(130.021, 33.197),
                "properties": {"name": "墓地", "permit_date": "2024/01/01"},
            },
            "properties.permit_date",
        ),
    ],
)
def test_bad_edits_are_400_naming_the_member(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection, layer: str, body: dict, names: str
) -> None:
    if body.get("properties", {}).get("group_id") == "G":
        body["properties"]["group_id"] = takeo_group(db)
    before = db.execute(f'SELECT count(*) FROM "{layer}"').fetchone()[0]
    r = create(ec, tokens["editor"], layer, body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidParameterValue" and r.json()["description"].startswith(names + ":"), r.json()
    assert db.execute(f'SELECT count(*) FROM "{layer}"').fetchone()[0] == before


def test_bad_bodies_and_media_types(ec: TestClient, tokens: dict[str, str]) -> None:
    path = "/collections/garbage_points/items"
    r = ec.post(path, content=b"{not json", headers=auth(tokens["editor"], **{"Content-Type": GEOJSON}))
    assert r.status_code == 400 and r.json()["description"].startswith("body:")
    r = ec.post(path, content=b'{"type": NaN}', headers=auth(tokens["editor"], **{"Content-Type": GEOJSON}))
    assert r.status_code == 400
    r = ec.post(path, content=b"<Feature/>", headers=auth(tokens["editor"], **{"Content-Type": "application/xml"}))
    assert r.status_code == 415 and r.json()["code"] == "UnsupportedMediaType"
    r = ec.post(path, params={"dry": "1"}, json={}, headers=auth(tokens["editor"]))
    assert r.status_code == 400 and "dry" in r.json()["description"]
    r = ec.post("/collections/no_such/items", json={}, headers=auth(tokens["editor"]))
    assert r.status_code == 404
    r = ec.patch(
        "/collections/garbage_points/items/１２", json={}, headers=auth(tokens["editor"], **{"If-Match": '"x"'})
    )
    assert r.status_code == 404


def test_derived_layers_answer_409_naming_their_source(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    fid = db.execute("SELECT min(id) FROM noise_zones").fetchone()[0]
    square = {
        "type": "Polygon",
        "coordinates": [[[130.02, 33.19], [130.021, 33.19], [130.021, 33.191], [130.02, 33.19]]],
    }
    r = create(ec, tokens["admin"], "noise_zones", {"type": "Feature", "geometry": square, "properties": {}})
    assert r.status_code == 409 and "zoning" in r.json()["description"]
    r = ec.delete(
        f"/collections/construction_1go_areas/items/{fid}", headers=auth(tokens["admin"], **{"If-Match": '"x"'})
    )
    assert r.status_code == 409 and "facilities" in r.json()["description"]


def test_zoning_edit_is_followed_by_its_derived_zones(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    zid, name = db.execute(
        "SELECT z.id, z.youto_name FROM zoning z WHERE z.city_code = '41206' AND EXISTS "
        "(SELECT 1 FROM noise_zones n WHERE n.feature_key = 'zoning:' || z.id) ORDER BY z.id LIMIT 1"
    ).fetchone()
    other = db.execute(
        "SELECT youto_name FROM zone_rules WHERE kind = 'noise' AND zone_class IS NOT NULL AND youto_name <> %s "
        "AND (city_code IS NULL OR city_code = '41206') ORDER BY youto_name LIMIT 1",
        (name,),
    ).fetchone()[0]
    r = ec.patch(
        f"/collections/zoning/items/{zid}",
        json={"properties": {"youto_name": other}},
        headers=auth(tokens["editor"], **{"If-Match": etag_of(ec, "zoning", zid)}),
    )
    assert r.status_code == 200, r.text
    derived = db.execute("SELECT youto_name FROM noise_zones WHERE feature_key = %s", (f"zoning:{zid}",)).fetchone()
    assert derived == (other,)
    # The import's rules run on edits too: the 用途地域 code follows the name.
    assert r.json()["properties"]["youto_code"] == YOUTO_CODES[other]


def test_invalid_polygons_are_repaired_or_refused(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[130.02, 33.19], [130.022, 33.192], [130.022, 33.19], [130.02, 33.192], [130.02, 33.19]]],
    }
    r = create(
        ec, tokens["editor"], "parks", {"type": "Feature", "geometry": bowtie, "properties": {"name": "蝶形公園"}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "MultiPolygon" and len(r.json()["geometry"]["coordinates"]) == 2
    assert any("ST_MakeValid" in n for n in r.json()["notes"])
    assert db.execute("SELECT ST_IsValid(geom) FROM parks WHERE id = %s", (r.json()["id"],)).fetchone()[0]
    flat = {"type": "Polygon", "coordinates": [[[130.02, 33.19], [130.021, 33.19], [130.022, 33.19], [130.02, 33.19]]]}
    r = create(ec, tokens["editor"], "parks", {"type": "Feature", "geometry": flat, "properties": {"name": "線"}})
    assert r.status_code == 400 and r.json()["description"].startswith("geometry: invalid")


def test_content_crs_is_honoured(ec: TestClient, tokens: dict[str, str], db: psycopg.Connection) -> None:
    group = takeo_group(db)
    lon, lat = 130.0234, 33.1987
    to_6670 = Transformer.from_crs(6668, 6670, always_xy=True)
    east, north = to_6670.transform(lon, lat)
    for crs, coords in (
        ("EPSG:6668", [lat, lon]),  # Part 2: lat,lon
        ("http://www.opengis.net/def/crs/EPSG/0/4326", [lat, lon]),
        ("<http://www.opengis.net/def/crs/EPSG/0/6670>", [north, east]),  # X (northing), Y (easting)
    ):
        body = garbage_point(group)
        body["geometry"]["coordinates"] = coords
        r = create(ec, tokens["editor"], "garbage_points", body, **{"Content-Crs": crs})
        assert r.status_code == 201, (crs, r.text)
        got = r.json()["geometry"]["coordinates"]
        assert abs(got[0] - lon) < 1e-6 and abs(got[1] - lat) < 1e-6, crs
    body = garbage_point(group)  # lon,lat sent as EPSG:6668: the axes are swapped
    r = create(ec, tokens["editor"], "garbage_points", body, **{"Content-Crs": "EPSG:6668"})
    assert r.status_code == 400 and "swapped" in r.json()["description"]
    r = create(ec, tokens["editor"], "garbage_points", body, **{"Content-Crs": "EPSG:2451"})
    assert r.status_code == 400 and r.json()["description"].startswith("Content-Crs:")


def test_private_columns_are_stored_privately_and_never_published(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    secret = "個人管理者 山田花子"
    body = {
        "type": "Feature",
        "geometry": point(130.0245, 33.1921),
        "properties": {"name": "編集テスト墓地", "operator_type": "個人", "manager_name": secret, "plots": 12},
    }
    r = create(ec, tokens["editor"], "cemeteries", body)
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert secret not in r.text and "manager_name" not in r.json()["properties"]
    stored = db.execute("SELECT manager_name FROM private.cemetery_managers WHERE cemetery_id = %s", (fid,)).fetchone()
    assert stored == (secret,)
    columns = {
        r[0] for r in db.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'cemeteries'")
    }
    assert "manager_name" not in columns
    path = f"/collections/cemeteries/items/{fid}"
    r = ec.patch(
        path,
        json={"properties": {"manager_address": "佐賀県武雄市某所"}},
        headers=auth(tokens["editor"], **{"If-Match": etag_of(ec, "cemeteries", fid)}),
    )
    assert r.status_code == 200 and "某所" not in r.text
    row = db.execute(
        "SELECT manager_name, manager_address FROM private.cemetery_managers WHERE cemetery_id = %s", (fid,)
    ).fetchone()
    assert row == (secret, "佐賀県武雄市某所")
    for url in (
        path,
        "/collections/cemeteries/items?limit=1000",
        "/collections/cemeteries/items?f=csv&limit=1000",
        "/lookup?lat=33.1921&lon=130.0245",
    ):
        text = ec.get(url).text
        assert secret not in text and "某所" not in text, url
    # The audit of the private columns stays in the private schema.
    public = db.execute("SELECT count(*) FROM layer_row_changes WHERE after::text LIKE %s", (f"%{secret}%",)).fetchone()
    assert public[0] == 0
    doc = {"type": "Feature", "geometry": point(130.0245, 33.1921), "properties": {"name": "編集テスト墓地"}}
    r = ec.put(path, json=doc, headers=auth(tokens["editor"], **{"If-Match": r.headers["etag"]}))
    assert r.status_code == 200
    gone = db.execute("SELECT count(*) FROM private.cemetery_managers WHERE cemetery_id = %s", (fid,)).fetchone()
    assert gone == (0,)  # a replace without the private columns empties them


def test_an_individual_operator_is_kept_private_as_on_import(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    person = "個人経営者 佐藤一郎"
    props = {"name": "個人墓地テスト", "operator_type": "個人", "operator_name": person}
    body = {"type": "Feature", "geometry": point(130.0262, 33.1934), "properties": props}
    r = create(ec, tokens["editor"], "cemeteries", body)
    assert r.status_code == 201, r.text
    assert person not in r.text and r.json()["properties"].get("operator_name") is None
    assert r.json()["properties"]["contact"]  # the city's counter instead of a person
    stored = db.execute(
        "SELECT manager_name FROM private.cemetery_managers WHERE cemetery_id = %s", (r.json()["id"],)
    ).fetchone()
    assert stored == (person,)


def test_delete(ec: TestClient, tokens: dict[str, str], db: psycopg.Connection) -> None:
    fid = create(ec, tokens["editor"], "garbage_points", garbage_point(takeo_group(db))).json()["id"]
    path = f"/collections/garbage_points/items/{fid}"
    etag = etag_of(ec, "garbage_points", fid)
    r = ec.delete(path, headers=auth(tokens["editor"]))
    assert r.status_code == 428
    r = ec.delete(path, headers=auth(tokens["editor"], **{"If-Match": etag, "X-Request-Id": "req-delete-1"}))
    assert r.status_code == 204 and r.content == b""
    assert ec.get(path).status_code == 404
    assert ec.delete(path, headers=auth(tokens["editor"], **{"If-Match": etag})).status_code == 404
    op = db.execute(
        "SELECT c.op, c.before IS NOT NULL, c.after IS NULL FROM layer_revisions r JOIN layer_row_changes c "
        "ON c.revision_id = r.id WHERE r.request_id = 'req-delete-1'"
    ).fetchall()
    assert op == [("delete", True, True)]


def test_delete_refused_while_rows_refer_to_the_feature(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    sid = db.execute(
        "SELECT s.id FROM inundation_sensors s "
        "WHERE EXISTS (SELECT 1 FROM sensor_datastreams d WHERE d.thing_id = s.id) "
        "ORDER BY s.id LIMIT 1"
    ).fetchone()[0]
    r = ec.delete(
        f"/collections/inundation_sensors/items/{sid}",
        headers=auth(tokens["admin"], **{"If-Match": etag_of(ec, "inundation_sensors", sid)}),
    )
    assert r.status_code == 409 and "sensor_datastreams" in r.json()["description"], r.text
    assert db.execute("SELECT count(*) FROM inundation_sensors WHERE id = %s", (sid,)).fetchone() == (1,)


def test_a_farmland_polygon_edit_keeps_its_ledger_summary(
    ec: TestClient, tokens: dict[str, str], db: psycopg.Connection
) -> None:
    """Editing a 筆ポリゴン relinks and refreshes (the layer's after-write hook): the ledger items stay published."""
    fid, oaza, chiban, area = db.execute(
        "SELECT id, oaza, chiban, area_m2 FROM farmland WHERE ledger_count = 1 AND intention = 'lend' "
        "ORDER BY id LIMIT 1"
    ).fetchone()
    r = ec.patch(
        f"/collections/farmland/items/{fid}",
        json={"properties": {"edit_year": 2026}},
        headers=auth(tokens["editor"], **{"If-Match": etag_of(ec, "farmland", fid)}),
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert (props["edit_year"], props["oaza"], props["chiban"], props["area_m2"]) == (2026, oaza, chiban, area)
    detail = ec.get(f"/farmland/parcels/{fid}").json()
    assert detail["properties"]["intention"] == "lend"
    assert [r["chiban"] for r in detail["records"]] == [chiban]
