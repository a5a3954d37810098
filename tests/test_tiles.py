"""Vector tiles: MVT content and ids, both URL forms, the combined tile, TileJSON/OGC metadata, errors, ETags and
304s, Cache-Control, gzip, privacy, invalidation on re-import and the bounded tile cache."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.settings import Settings
from layers import LAYERS
from tests.conftest import get_when_changed, make_client, reimport_fire_district
from tests.test_load import NO_BUNDLED_DATA
from tiles.sql import LOW_EXTENT, LOW_ZOOM_FEATURES, layer_mvt_sql, tile_properties, zoom_range

TAKEO = (130.0195, 33.1955)  # 武雄市の中心部: 商業地域 (建ぺい率 80 / 容積率 400)
SEA = (129.0, 32.5)  # 東シナ海
PRIVATE = {"owner_name", "cultivator_name", "lessee_name", "manager_name", "manager_address"}
MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ tile (y from the north) holding the point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def decode(body: bytes) -> dict:
    """The decoded tile: {layer name: {"extent", "features": [{"id", "properties", "geometry"}]}}."""
    return mapbox_vector_tile.decode(body)


def url(layer: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


def point_of(conn: psycopg.Connection, layer_id: str) -> tuple[float, float]:
    """A point on the first feature of a layer."""
    row = conn.execute(
        f'SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM "{layer_id}" ORDER BY id LIMIT 1) s'
    ).fetchone()
    assert row is not None, f"{layer_id} is empty"
    return row[0], row[1]


def test_zoning_tile_over_takeo(client: TestClient, conn: psycopg.Connection) -> None:
    z, x, y = tile_of(*TAKEO, 14)
    r = client.get(url("zoning", z, x, y))
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    layer = decode(r.content)["zoning"]
    assert layer["extent"] == 4096
    point = "filter=S_INTERSECTS(geom,POINT(130.0195%2033.1955))"
    (at,) = client.get(f"/collections/zoning/items?{point}").json()["features"]
    by_id = {f["id"]: f for f in layer["features"]}
    assert isinstance(at["id"], int) and at["id"] in by_id
    props = by_id[at["id"]]["properties"]
    assert props["youto_name"] == "商業地域" and props["kenpei"] == 80 and props["yoseki"] == 400
    assert props["city_code"] == "41206"
    # Every feature id is our stable integer id of a zoning row inside the tile (with its clip margin).
    in_tile = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM zoning WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 0.02), 6668)",
            (z, x, y),
        )
    }
    assert set(by_id) <= in_tile
    names = {f["properties"]["youto_name"] for f in layer["features"]}
    assert len(names) > 1


def test_farmland_z15_tile_has_parcels(client: TestClient, conn: psycopg.Connection) -> None:
    z, x, y = tile_of(*point_of(conn, "farmland"), 15)
    r = client.get(url("farmland", z, x, y))
    assert r.status_code == 200
    features = decode(r.content)["farmland"]["features"]
    assert features and all(isinstance(f["id"], int) for f in features)
    assert {"land_type", "land_type_name", "city_code", "sample"} <= set(features[0]["properties"])
    # The layer's tile columns only: the MAFF bookkeeping stays with the feature (/collections/farmland/items/{id}).
    assert not {"polygon_uuid", "history", "issue_year"} & set().union(*(f["properties"] for f in features))


def test_low_zoom_feature_budget(conn: psycopg.Connection) -> None:
    """Below z14 a tile keeps at most LOW_ZOOM_FEATURES features per layer, the largest ones (checked on the
    farmland SQL at z12, where the bundled parcels exceed the budget; the route serves farmland from z14)."""
    z = 12
    # The z12 tile holding the most parcels (by centroid).
    lon, lat = conn.execute(
        "SELECT avg(ST_X(c)), avg(ST_Y(c)) FROM (SELECT ST_Centroid(geom) c FROM farmland) s"
        " GROUP BY floor(ST_X(c) * 2 ^ %s / 360), floor(ST_Y(c) * 2 ^ %s / 360) ORDER BY count(*) DESC LIMIT 1",
        (z, z),
    ).fetchone()
    z, x, y = tile_of(lon, lat, z)
    sql = layer_mvt_sql(LAYERS["farmland"], z).replace("$1", "%(z)s").replace("$2", "%(x)s").replace("$3", "%(y)s")
    low = decode(conn.execute(sql, {"z": z, "x": x, "y": y}).fetchone()[0])["farmland"]
    # At most the budget (a few of the kept candidates only touch the clip margin and vanish).
    assert low["extent"] == LOW_EXTENT and LOW_ZOOM_FEATURES * 0.95 < len(low["features"]) <= LOW_ZOOM_FEATURES
    kept = [f["id"] for f in low["features"]]
    in_tile, kept_area, all_area = conn.execute(
        "SELECT count(*),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Area(geom::box2d)) FILTER (WHERE id = ANY(%s)),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Area(geom::box2d))"
        " FROM farmland WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 6668)",
        (kept, z, x, y),
    ).fetchone()
    assert in_tile > LOW_ZOOM_FEATURES and kept_area > all_area


def test_both_routes_give_the_same_bytes(client: TestClient) -> None:
    z, x, y = tile_of(*TAKEO, 14)
    for enc in ("gzip", "identity"):
        h = {"accept-encoding": enc}
        a = client.get(url("zoning", z, x, y), headers=h)
        b = client.get(f"/collections/zoning/tiles/WebMercatorQuad/{z}/{x}/{y}", headers=h)
        assert a.status_code == b.status_code == 200
        assert a.content == b.content and a.headers["etag"] == b.headers["etag"]


def test_combined_tile_holds_several_layers(client: TestClient) -> None:
    z, x, y = tile_of(*TAKEO, 14)
    r = client.get(f"/tiles/all/{z}/{x}/{y}.mvt")
    assert r.status_code == 200
    tile = decode(r.content)
    assert {"zoning", "municipalities", "planning_areas"} <= set(tile)
    assert "farmland" not in decode(client.get(f"/tiles/all/{z - 4}/{x >> 4}/{y >> 4}.mvt").content)
    assert tile["zoning"]["features"] == decode(client.get(url("zoning", z, x, y)).content)["zoning"]["features"]


def test_tilejson(client: TestClient) -> None:
    doc = client.get("/tiles/zoning.json").json()
    layer = LAYERS["zoning"]
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://testserver/tiles/zoning/{z}/{x}/{y}.mvt"]
    assert (doc["minzoom"], doc["maxzoom"]) == zoom_range(layer)
    assert doc["name"] == layer.title and doc["description"] == layer.description
    w, s, e, n = doc["bounds"]
    assert 129.7 < w < TAKEO[0] < e < 130.2 and 33.0 < s < TAKEO[1] < n < 33.5
    assert "PLATEAU" in doc["attribution"]
    (vl,) = doc["vector_layers"]
    assert vl["id"] == "zoning"
    assert set(vl["fields"]) == {c if isinstance(c, str) else c.name for c in tile_properties(layer)}
    assert "用途地域名" in vl["fields"]["youto_name"]
    farmland = client.get("/tiles/farmland.json").json()
    assert not PRIVATE & set(farmland["vector_layers"][0]["fields"])
    combined = client.get("/tiles/all.json").json()
    assert combined["tiles"] == ["http://testserver/tiles/all/{z}/{x}/{y}.mvt"]
    assert {v["id"] for v in combined["vector_layers"]} == set(LAYERS)


def test_ogc_tileset_documents(client: TestClient) -> None:
    doc = client.get("/collections/zoning/tiles").json()
    (ts,) = doc["tilesets"]
    assert ts["tileMatrixSetURI"].endswith("/WebMercatorQuad") and ts["dataType"] == "vector"
    item = next(link for link in ts["links"] if link["rel"] == "item")
    assert item["type"] == MVT and item["href"].endswith(
        "/collections/zoning/tiles/WebMercatorQuad/{tileMatrix}/{tileCol}/{tileRow}"
    )
    one = client.get("/collections/zoning/tiles/WebMercatorQuad").json()
    limits = {lim["tileMatrix"]: lim for lim in one["tileMatrixSetLimits"]}
    z, x, y = tile_of(*TAKEO, 14)
    assert limits["14"]["minTileCol"] <= x <= limits["14"]["maxTileCol"]
    assert limits["14"]["minTileRow"] <= y <= limits["14"]["maxTileRow"]
    assert client.get("/collections/nope/tiles").status_code == 404


def test_empty_tiles_are_204(client: TestClient) -> None:
    sea = client.get(url("zoning", *tile_of(*SEA, 14)))
    assert sea.status_code == 204 and sea.content == b""
    assert sea.headers["etag"] and "max-age=3600" in sea.headers["cache-control"]
    lo, _ = zoom_range(LAYERS["farmland"])
    below = client.get(url("farmland", *tile_of(*TAKEO, lo - 1)))
    assert below.status_code == 204 and below.headers["etag"]
    assert client.get("/tiles/all/{}/{}/{}.mvt".format(*tile_of(*SEA, 14))).status_code == 204


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/zoning/23/0/0.mvt",
        "/tiles/zoning/3/8/0.mvt",
        "/tiles/zoning/3/0/8.mvt",
        "/tiles/zoning/abc/0/0.mvt",
        "/tiles/zoning/3/-1/0.mvt",
        "/tiles/zoning/3/1.5/0.mvt",
        "/collections/zoning/tiles/WebMercatorQuad/3/0/x",
        "/tiles/all/23/0/0.mvt",
    ],
)
def test_bad_tile_numbers_are_400(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400
    assert r.json()["code"] == "InvalidParameterValue" and r.json()["description"]


def test_unknown_layer_is_404(client: TestClient) -> None:
    for path in (
        "/tiles/nope/14/0/0.mvt",
        "/collections/nope/tiles/WebMercatorQuad/14/0/0",
        "/tiles/nope.json",
        "/collections/zoning/tiles/WorldCRS84Quad/1/0/0",
    ):
        r = client.get(path)
        assert r.status_code == 404 and set(r.json()) == {"code", "description"}, path


def test_etag_304_without_the_database(client: TestClient) -> None:
    z, x, y = tile_of(*TAKEO, 13)
    first = client.get(url("zoning", z, x, y))
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert client.get(url("zoning", z, x + 1, y), headers={"if-none-match": etag}).status_code != 304

    class NoDatabase:
        def acquire(self) -> None:
            raise AssertionError("the database was touched")

    rt = client.app.state.runtime
    pool, rt.public_pool = rt.public_pool, NoDatabase()
    try:
        again = client.get(url("zoning", z, x, y), headers={"if-none-match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
        # A cached tile is served from memory too.
        assert client.get(url("zoning", z, x, y)).content == first.content
    finally:
        rt.public_pool = pool


def test_cache_control_per_layer(client: TestClient, conn: psycopg.Connection) -> None:
    for layer_id in ("zoning", "inundation_sensors", "municipalities"):
        r = client.get(url(layer_id, *tile_of(*point_of(conn, layer_id), 14)))
        assert r.status_code == 200
        assert r.headers["cache-control"].startswith("public")
        if LAYERS[layer_id].live:  # live state: kept at most to the end of its time bucket
            age = int(r.headers["cache-control"].rsplit("max-age=", 1)[1])
            assert 1 <= age <= LAYERS[layer_id].cache_seconds, layer_id
        else:
            assert f"max-age={LAYERS[layer_id].cache_seconds}," in r.headers["cache-control"], layer_id
    combined = client.get("/tiles/all/{}/{}/{}.mvt".format(*tile_of(*TAKEO, 14)))
    age = int(combined.headers["cache-control"].rsplit("max-age=", 1)[1])
    assert 1 <= age <= LAYERS["inundation_sensors"].cache_seconds


def test_gzip_once_with_its_own_etag(client: TestClient) -> None:
    path = url("zoning", *tile_of(*TAKEO, 14))
    plain = client.get(path, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content[:2] != b"\x1f\x8b"
    with client.stream("GET", path, headers={"accept-encoding": "gzip"}) as r:
        wire = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip" and "accept-encoding" in r.headers["vary"].lower()
        assert r.headers["etag"] != plain.headers["etag"]
    # Compressed once (by the route; GZipMiddleware leaves it alone): one gunzip gives the plain MVT.
    assert len(wire) < len(plain.content) and gzip.decompress(wire) == plain.content


def test_no_private_properties_in_any_tile(client: TestClient, conn: psycopg.Connection) -> None:
    for layer_id, layer in LAYERS.items():
        if layer_id in NO_BUNDLED_DATA:  # declared, nothing bundled: no tile to look into
            continue
        lo, hi = zoom_range(layer)
        z, x, y = tile_of(*point_of(conn, layer_id), min(max(lo, 14), hi))
        r = client.get(url(layer_id, z, x, y))
        assert r.status_code == 200, layer_id
        allowed = {c if isinstance(c, str) else c.name for c in tile_properties(layer)}
        tiles = [decode(r.content), decode(client.get(f"/tiles/all/{z}/{x}/{y}.mvt").content)]
        for tile in tiles:
            for name, content in tile.items():
                for f in content["features"]:
                    props = f["properties"]
                    assert not PRIVATE & set(props), (name, props)
                    assert not any("見本" in str(v) for v in props.values()), (name, props)
                    if name == layer_id:
                        assert set(props) <= allowed
                        assert isinstance(f["id"], int)


def test_reimport_changes_tile_bytes_and_etag(scratch_url: str, tmp_path: Path) -> None:
    """A re-import is visible at once (the version arrives by LISTEN/NOTIFY); the old tiles leave the cache."""
    path = url("fire_districts", *tile_of(130.0175, 33.1925, 14))
    with make_client(scratch_url, tmp_path) as c:
        first = c.get(path)
        assert first.status_code == 200
        cache = c.app.state.runtime.cache
        assert cache.stats()["partitions"]["tile"]["entries"] >= 1
        reimport_fire_district(scratch_url, tmp_path)
        second = get_when_changed(c, path, first.headers["etag"])
        assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
        assert second.content != first.content
        features = decode(second.content)["fire_districts"]["features"]
        assert [f["properties"]["fire_type"] for f in features] == ["防火地域"]
        assert cache.stats()["dropped"] >= 1


def test_tile_cache_stays_within_its_bound(db_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=db_url, var_dir=tmp_path, tile_cache_mib=1)
    with TestClient(create_app(settings)) as c:
        lon, lat = TAKEO
        for dx in range(-6, 7):
            for dy in range(-6, 7):
                z, x, y = tile_of(lon, lat, 13)
                c.get(url("all", z, x + dx, y + dy))
                c.get(url("zoning", 14, 2 * x + dx, 2 * y + dy))
        stats = c.app.state.runtime.cache.stats()["partitions"]["tile"]
        assert stats["max_bytes"] == 1024 * 1024
        assert 0 < stats["bytes"] <= stats["max_bytes"] and stats["entries"] > 1


def test_openapi_documents_the_tile_routes(client: TestClient) -> None:
    paths = client.get("/api").json()["paths"]
    for path in (
        "/tiles/{layer}/{z}/{x}/{y}.mvt",
        "/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}",
        "/tiles/all/{z}/{x}/{y}.mvt",
        "/tiles/{layer}.json",
    ):
        assert "get" in paths[path], path
    params = {p["name"]: p for p in paths["/tiles/{layer}/{z}/{x}/{y}.mvt"]["get"]["parameters"]}
    assert set(params) == {"layer", "z", "x", "y"} and params["y"]["description"]
