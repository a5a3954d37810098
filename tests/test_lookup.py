"""The lookup report on the real Takeo zoning: inside, near a boundary, across a boundary (a lot), by address."""

from __future__ import annotations

import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import Point, mapping

TO_6670 = Transformer.from_crs(6668, 6670, always_xy=True)
TO_6668 = Transformer.from_crs(6670, 6668, always_xy=True)
COMMERCIAL = (130.0195, 33.1955)  # inside Takeo's 商業地域 (80/400), ~80 m from its edge


@pytest.fixture(scope="module")
def boundary(db_url: str) -> dict:
    """A spot on the border between two real Takeo zones of different 用途 (metres in EPSG:6670)."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT id, youto_name, ST_AsBinary(ST_Transform(geom, 6670)) FROM zoning WHERE city_code = '41206'"
        ).fetchall()
    polys = {r[0]: (r[1], shapely.from_wkb(r[2])) for r in rows}
    best = None
    for a_id, (a_name, a) in polys.items():
        for b_id, (b_name, b) in polys.items():
            if a_id >= b_id or a_name == b_name or a.distance(b) > 0.01:
                continue
            shared = a.boundary.intersection(b.buffer(0.05))
            length = shared.length
            if best is None or length > best[0]:
                best = (length, a_id, a_name, a, b_id, b_name, shared)
    _, a_id, a_name, a, b_id, b_name, shared = best
    pieces = list(getattr(shared, "geoms", [shared]))
    line = max(pieces, key=lambda g: g.length)
    mid = line.interpolate(0.5, normalized=True)
    return {"a": (a_id, a_name, a), "b": (b_id, b_name, b), "mid": mid}


def _lonlat(p: Point) -> tuple[float, float]:
    return TO_6668.transform(p.x, p.y)


def _inside_point(poly: shapely.Geometry, mid: Point, metres: float) -> Point:
    """A point `metres` from the border, inside poly."""
    ring = poly.boundary
    d = ring.project(mid)
    p1, p2 = ring.interpolate(max(d - 1, 0)), ring.interpolate(d + 1)
    dx, dy = p2.x - p1.x, p2.y - p1.y
    norm = (dx * dx + dy * dy) ** 0.5
    for sign in (1, -1):
        cand = Point(mid.x - sign * dy / norm * metres, mid.y + sign * dx / norm * metres)
        if poly.contains(cand):
            return cand
    raise AssertionError("no inside point found")


def test_point_in_takeo_commercial_zone(client: TestClient) -> None:
    r = client.get("/lookup", params={"lon": COMMERCIAL[0], "lat": COMMERCIAL[1]})
    assert r.status_code == 200
    body = r.json()
    zoning = body["zoning"]
    assert zoning["status"] == "inside" and zoning["designation"]["status"] == "zoned" and not zoning["near_boundary"]
    assert zoning["answer"]["youto_name"] == "商業地域"
    assert (zoning["answer"]["kenpei"], zoning["answer"]["yoseki"]) == (80, 400)
    assert 50 < zoning["boundary_distance_m"] < 150
    assert body["noise"]["answer"]["zone_class"] == "第3種" and body["noise"]["answer"]["limits"]
    assert body["vibration"]["answer"]["zone_class"] == "第2種"
    assert body["fire_district"]["answer"]["fire_type"] == "準防火地域"
    assert body["planning_area"]["answer"]["name"] == "武雄都市計画区域"
    assert body["construction"]["answer"] == "1号" and body["construction"]["limits"]["1号"]["noise_db"] == 85
    assert body["municipality"]["municipalities"][0]["name"] == "武雄市"
    assert body["town"]["approximate"] and body["town"]["nearest"]
    for key in ("zoning", "noise", "fire_district", "garbage_points", "parks", "farmland", "inundation_sensors"):
        section = body[key]
        assert "sources" in section and "sample" in section and "data_date" in section, key
    assert body["zoning"]["sources"][0]["attribution"].startswith("国土交通省 Project PLATEAU")
    assert body["garbage_points"]["sample"] and len(body["garbage_points"]["nearest"]) == 3
    # The state comes from sensor_state_now: the sample sensors have sent nothing yet, so they are unknown, never dry.
    assert all(s["state"] == "unknown" for s in body["inundation_sensors"]["nearest"])


def test_point_3m_from_a_boundary_lists_both_zones(client: TestClient, boundary: dict) -> None:
    a_id, a_name, a = boundary["a"]
    b_id, b_name, _ = boundary["b"]
    p = _inside_point(a, boundary["mid"], 3.0)
    assert 2.5 < a.boundary.distance(p) < 3.5
    lon, lat = _lonlat(p)
    body = client.get("/lookup", params={"lon": lon, "lat": lat}).json()
    zoning = body["zoning"]
    assert zoning["near_boundary"] and zoning["status"] == "near_boundary" and zoning["answer"] is None
    assert zoning["confirm_with_city"] and "市の担当課" in zoning["message"]
    names = {z["youto_name"] for z in zoning["zones"]}
    assert {a_name, b_name} <= names
    assert 2 < zoning["boundary_distance_m"] < 4
    inside = [z for z in zoning["zones"] if z["distance_m"] == 0]
    assert [z["youto_name"] for z in inside] == [a_name]


def test_point_30m_from_the_boundary_is_a_single_answer(client: TestClient, boundary: dict) -> None:
    a_id, a_name, a = boundary["a"]
    p = _inside_point(a, boundary["mid"], 30.0)
    if a.boundary.distance(p) < 20:  # the zone is too narrow here for this check
        pytest.skip("zone narrower than 40 m at the chosen border")
    lon, lat = _lonlat(p)
    zoning = client.get("/lookup", params={"lon": lon, "lat": lat}).json()["zoning"]
    assert zoning["status"] == "inside" and zoning["answer"]["youto_name"] == a_name and not zoning["near_boundary"]


def test_lot_straddling_two_zones(client: TestClient, boundary: dict) -> None:
    _, a_name, a = boundary["a"]
    _, b_name, b = boundary["b"]
    mid = boundary["mid"]
    centre = _inside_point(a, mid, 4.0)  # 60 % of a 20 m square in a, the rest in b
    lot = shapely.box(centre.x - 10, centre.y - 10, centre.x + 10, centre.y + 10)
    lot_ll = shapely.transform(lot, TO_6668.transform, interleaved=False)
    r = client.post("/lookup", json={"type": "Feature", "properties": {}, "geometry": mapping(lot_ll)})
    assert r.status_code == 200, r.text
    body = r.json()
    zones = body["zoning"]["zones"]
    shares = {z["youto_name"]: z["share"] for z in zones}
    assert {a_name, b_name} <= set(shares) and abs(sum(shares.values()) - 1) < 0.01
    expected_a = lot.intersection(a).area / lot.area
    assert abs(shares[a_name] - expected_a) < 0.01
    summary = body["lot"]
    assert summary["majority_youto"] == max(shares, key=shares.get)
    weighted = sum(z["kenpei"] * z["share"] for z in zones if z["kenpei"] is not None)
    assert abs(summary["weighted_kenpei"] - round(weighted / sum(shares.values()), 1)) < 0.2
    assert summary["fire_rule"] in ("防火地域", "準防火地域", "指定なし")
    assert abs(body["query"]["lot_area_m2"] - 400) < 1


def test_lot_fire_rule_is_the_stricter(client: TestClient) -> None:
    lot = shapely.box(COMMERCIAL[0] - 0.0002, COMMERCIAL[1] - 0.0002, COMMERCIAL[0] + 0.0002, COMMERCIAL[1] + 0.0002)
    body = client.post("/lookup", json=mapping(lot)).json()
    assert body["lot"]["fire_rule"] == "準防火地域" and body["lot"]["majority_youto"] == "商業地域"
    assert body["lot"]["weighted_kenpei"] == 80 and body["lot"]["weighted_yoseki"] == 400


def test_address_lookup_is_never_a_single_zone_answer(client: TestClient) -> None:
    body = client.get("/lookup", params={"address": "佐賀県武雄市武雄町武雄5680"}).json()
    g = body["query"]["geocode"]
    assert g["town"] == "武雄町大字武雄" and g["rest"] == "5680" and g["match_level"] == "machiaza"
    assert not body["precision"]["single_answer_possible"]
    assert body["zoning"]["status"] == "area" and body["zoning"]["designation"]["status"] != "outside_planning_area"
    assert body["zoning"]["answer"] is None and body["zoning"].get("confirm_with_city")
    assert len(body["zoning"]["zones"]) >= 2  # the 大字 area touches several zones
    assert body["construction"]["answer"] is None


def test_ambiguous_address_gives_candidates_not_a_report(client: TestClient) -> None:
    body = client.get("/lookup", params={"address": "伊万里市大坪町4580"}).json()
    assert body["precision"]["mode"] == "none" and "zoning" not in body
    assert body["query"]["geocode"]["match_level"] == "city"


def test_koaza_before_otsu_is_an_area_answer_never_a_lot(client: TestClient) -> None:
    # The 小字 一ノ坂 written before 乙 is skipped (issue 15): the 大字 area answers, never a single zone.
    body = client.get("/lookup", params={"address": "伊万里市大坪町一ノ坂乙4580番地2"}).json()
    g = body["query"]["geocode"]
    assert (g["town"], g["match_level"], g["via"]) == ("大坪町乙", "machiaza", "koaza_ignored")
    assert not body["precision"]["single_answer_possible"]
    assert body["zoning"]["answer"] is None


def test_geocode_and_reverse(client: TestClient) -> None:
    g = client.get("/geocode", params={"q": "佐賀県武雄市武雄町武雄5680"}).json()
    assert (g["city"], g["town"], g["rest"], g["match_level"]) == ("武雄市", "武雄町大字武雄", "5680", "machiaza")
    assert g["coordinates_level"] == "machiaza" and g["uncertainty_m"] >= 300
    r = client.get("/reverse", params={"lon": COMMERCIAL[0], "lat": COMMERCIAL[1]}).json()
    assert r["municipality"]["city_code"] == "41206" and r["approximate"] and r["town"]


def test_imari_sample_zoning_is_labelled(client: TestClient, conn: psycopg.Connection) -> None:
    lon, lat = conn.execute(
        "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM zoning "
        "WHERE city_code = '41205' AND youto_name = '商業地域' LIMIT 1"
    ).fetchone()
    body = client.get("/lookup", params={"lon": lon, "lat": lat}).json()
    assert body["zoning"]["sample"] and body["noise"]["sample"]
    assert body["municipality"]["municipalities"][0]["name"] == "伊万里市"


BAD = [
    ("get", {"address": ""}),
    ("get", {"address": "   "}),
    ("get", {"address": "武" * 500}),
    ("get", {"address": "東京都千代田区千代田1-1"}),
    ("get", {"address": "佐賀県唐津市西城内1-1"}),
    ("get", {"lat": 95, "lon": 130}),
    ("get", {"lat": 33.2, "lon": 190}),
    ("get", {"lat": "abc", "lon": 130}),
    ("get", {"lat": 33.2}),
    ("get", {}),
    ("get", {"lat": 33.2, "lon": 130.0, "address": "武雄市武雄町"}),
    ("get", {"lat": 33.2, "lon": 130.0, "uncertainty_m": -5}),
    (
        "post",
        {
            "type": "Polygon",
            "coordinates": [[[130.0, 33.19], [130.001, 33.191], [130.001, 33.19], [130.0, 33.191], [130.0, 33.19]]],
        },
    ),
    ("post", {"type": "Point", "coordinates": [130.0, 33.19]}),
    ("post", {"type": "Polygon", "coordinates": [[[1, 2]]]}),
    ("post", {"type": "Polygon", "coordinates": "nope"}),
    ("post", {"type": "Polygon", "coordinates": [[[130.0, 33.0], [130.1, 33.0], [130.1, 33.1], [130.0, 33.0]]]}),
    ("post", {"type": "Polygon", "coordinates": [[[13.0, 3.0], [13.001, 3.0], [13.001, 3.001], [13.0, 3.0]]]}),
    ("post", {"type": "Feature", "geometry": None}),
    ("post", []),
]


@pytest.mark.parametrize(("method", "payload"), BAD, ids=[f"{m}-{i}" for i, (m, _) in enumerate(BAD)])
def test_bad_lookup_input_is_400_json(client: TestClient, method: str, payload: object) -> None:
    r = client.get("/lookup", params=payload) if method == "get" else client.post("/lookup", json=payload)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"code", "description"} and body["description"]
    assert "Traceback" not in body["description"] and "SELECT" not in body["description"]


@pytest.mark.parametrize("q", ["", "x" * 300, "武雄市\x00武雄町"])
def test_bad_geocode_input_is_400(client: TestClient, q: str) -> None:
    r = client.get("/geocode", params={"q": q})
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameterValue"


def test_no_private_data_in_lookup(client: TestClient, conn: psycopg.Connection) -> None:
    lon, lat = conn.execute(
        "SELECT ST_X(geom), ST_Y(geom) FROM cemeteries c JOIN private.cemetery_managers m ON m.cemetery_id = c.id "
        "LIMIT 1"
    ).fetchone()
    text = client.get("/lookup", params={"lon": lon, "lat": lat, "uncertainty_m": 100}).text
    assert "見本" not in text and "manager_name" not in text and "cemeteries" in text
    farm = conn.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM farmland LIMIT 1")
    lon, lat = farm.fetchone()
    body = client.get("/lookup", params={"lon": lon, "lat": lat}).json()
    assert body["farmland"]["at_point"] and "見本" not in str(body) and "owner_name" not in str(body)


def test_lookup_as_geojson(client: TestClient) -> None:
    body = client.get("/lookup", params={"lon": COMMERCIAL[0], "lat": COMMERCIAL[1], "f": "geojson"}).json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 1
    feature = body["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": list(COMMERCIAL)}
    assert feature["properties"]["zoning"]["answer"]["youto_name"] == "商業地域"
    assert client.get("/lookup", params={"lon": COMMERCIAL[0], "lat": COMMERCIAL[1], "f": "xml"}).status_code == 400


def test_point_outside_both_cities_is_flagged(client: TestClient) -> None:
    body = client.get("/lookup", params={"lat": 35.68, "lon": 139.76}).json()
    assert body["precision"]["outside_service_area"] and "区域外" in body["message"]
    assert body["zoning"]["zones"] == [] and body["municipality"]["municipalities"] == []
    r = client.get("/reverse", params={"lat": 35.68, "lon": 139.76}).json()
    assert r["outside_service_area"] and r["municipality"] is None
