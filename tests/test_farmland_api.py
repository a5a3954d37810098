"""The farmland browse API: every filter against a count computed independently in SQL, sorting, paging, the
address's honest precision, 市街化区域 never shown, the many-to-many detail, statistics and bad input (400 naming
the parameter)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi.testclient import TestClient

PUBLIC = "urbanised IS NOT TRUE"
TAKEO = (33.1955, 130.0195)  # near 武雄温泉駅


def count(conn: psycopg.Connection, where: str, args: tuple = ()) -> int:
    """Matches counted straight from the table (not through the API's SQL)."""
    return conn.execute(f"SELECT count(*) FROM farmland WHERE {PUBLIC} AND {where}", args).fetchone()[0]


def browse(client: TestClient, **params: object) -> dict:
    r = client.get("/farmland/parcels?" + urlencode(params))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    return r.json()


def first_value(conn: psycopg.Connection, sql: str) -> object:
    row = conn.execute(sql).fetchone()
    assert row is not None, f"the sample data has no row for: {sql}"
    return row[0]


def test_the_sample_has_what_the_tests_need(conn: psycopg.Connection) -> None:
    """Linked records, intentions, 市街化区域 parcels, many-to-many links, crops: else the tests below prove little."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE intention = 'lend'), count(*) FILTER (WHERE intention = 'sell'), "
        "count(*) FILTER (WHERE urbanised), count(*) FILTER (WHERE ledger_count > 1), count(crop) FROM farmland"
    ).fetchone()
    assert all(n > 0 for n in row), row
    shared = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM farmland_links GROUP BY ledger_id HAVING count(*) > 1) s"
    )
    assert shared.fetchone()[0] > 0


FILTERS = [
    ({"city": "41206"}, "city_code = '41206'"),
    ({"city": "41205", "land_type": "200"}, "city_code = '41205' AND land_type = 200"),
    ({"land_type": "100", "area_min": "2000"}, "land_type = 100 AND area_m2 >= 2000"),
    ({"area_min": "500", "area_max": "800"}, "area_m2 BETWEEN 500 AND 800"),
    ({"area_max": "300"}, "area_m2 <= 300"),
    ({"intention": "lend"}, "intention = 'lend'"),
    ({"intention": "sell", "city": "41205"}, "intention = 'sell' AND city_code = '41205'"),
    ({"noshin": "nouyouchi", "intention": "lend"}, "noushin_kubun = '農用地区域内' AND intention = 'lend'"),
    ({"noshin": "noushin"}, "noushin_kubun = '農振地域内（農用地区域外）'"),
    ({"noshin": "outside"}, "noushin_kubun = '農振地域外'"),
    ({"crop": "大豆", "city": "41206"}, "crop = '大豆' AND city_code = '41206'"),
    (
        {"available_from": "2027-04-01", "intention": "lend"},
        "intention = 'lend' AND (available_from IS NULL OR available_from <= '2027-04-01')",
    ),
]


@pytest.mark.parametrize(("params", "where"), FILTERS, ids=[urlencode(p) for p, _ in FILTERS])
def test_each_filter_matches_sql(client: TestClient, conn: psycopg.Connection, params: dict, where: str) -> None:
    expected = count(conn, where)
    assert expected > 0, f"no sample row for {where}: the filter is not exercised"
    body = browse(client, **params, limit=500)
    if expected <= 10_000:
        assert body["numberMatched"] == expected
    else:
        assert body["numberMatchedAtLeast"] == 10_000
    assert body["numberReturned"] == min(expected, 500)
    ids = [f["id"] for f in body["features"]]
    hit = conn.execute(f"SELECT count(*) FROM farmland WHERE id = ANY(%s) AND {PUBLIC} AND {where}", (ids,))
    assert hit.fetchone()[0] == len(ids)  # every returned parcel satisfies the filter
    assert body["sample"] is True and body["sources"] and all(s["title"] for s in body["sources"])


def test_oaza_and_chiban_search(client: TestClient, conn: psycopg.Connection) -> None:
    oaza = first_value(conn, "SELECT oaza FROM farmland WHERE city_code = '41206' AND oaza LIKE '%大字%' LIMIT 1")
    expected = count(conn, "oaza = %s", (oaza,))
    assert browse(client, oaza=oaza, limit=1)["numberMatched"] == expected
    # Takeo's 大字 is optional in practice: 武雄町武雄 finds 武雄町大字武雄.
    assert browse(client, oaza=oaza.replace("大字", ""), limit=1)["numberMatched"] == expected
    # 大字 + 地番 through the ledger, in the spellings people write (全角, 番地).
    oaza, chiban, pid = conn.execute(
        "SELECT r.oaza, r.chiban, l.polygon_id FROM farmland_ledger r JOIN farmland_links l ON l.ledger_id = r.id "
        "JOIN farmland f ON f.id = l.polygon_id WHERE f.urbanised IS NOT TRUE AND r.chiban ~ '^[0-9]+$' "
        "ORDER BY r.id LIMIT 1"
    ).fetchone()
    wide = chiban.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for spelling in (chiban, f"{wide}番地", f"{chiban}番"):
        found = browse(client, oaza=oaza, chiban=spelling)
        assert pid in [f["id"] for f in found["features"]], spelling
        # The main number finds its branches too (1451 → 1451, 1451-2 …).
        for f in found["features"]:
            assert chiban in {c.split("-")[0] for c in f["properties"]["chiban"].split("、")}
    # A branch (1455の2 = 1455-2) finds that branch only.
    oaza, branch, pid = conn.execute(
        "SELECT r.oaza, r.chiban, l.polygon_id FROM farmland_ledger r JOIN farmland_links l ON l.ledger_id = r.id "
        "JOIN farmland f ON f.id = l.polygon_id WHERE f.urbanised IS NOT TRUE AND r.chiban ~ '^[0-9]+-[0-9]+$' "
        "ORDER BY r.id LIMIT 1"
    ).fetchone()
    found = browse(client, oaza=oaza, chiban=branch.replace("-", "の"))["features"]
    assert pid in [f["id"] for f in found]
    assert all(branch in f["properties"]["chiban"].split("、") for f in found)


def test_distance_filter_and_sort(client: TestClient, conn: psycopg.Connection) -> None:
    lat, lon = TAKEO
    point = "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 6668), 6670)"
    expected = count(conn, f"ST_DWithin(geom_m, {point}, 3000)", (lon, lat))
    assert expected > 0
    body = browse(client, lat=lat, lon=lon, within_m=3000, limit=500)
    assert body["numberMatched"] == expected
    assert body["query"]["sortby"] == "distance"
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert distances == sorted(distances) and distances[-1] <= 3000
    # The distance is metric (EPSG:6670), to the polygon, as PostGIS measures it.
    fid = body["features"][-1]["id"]
    d = conn.execute(f"SELECT ST_Distance(geom_m, {point}) FROM farmland WHERE id = %s", (lon, lat, fid)).fetchone()
    assert abs(d[0] - distances[-1]) < 0.1
    # Default radius 2 km.
    assert browse(client, lat=lat, lon=lon, limit=1)["numberMatched"] == count(
        conn, f"ST_DWithin(geom_m, {point}, 2000)", (lon, lat)
    )


@pytest.mark.parametrize("sortby", ["area_m2", "-area_m2", "available_from", "oaza"])
def test_sorting(client: TestClient, sortby: str) -> None:
    feats = browse(client, city="41206", intention="lend", sortby=sortby, limit=100)["features"]
    key = sortby.lstrip("-")
    values = [f["properties"][key] for f in feats if f["properties"][key] is not None]
    assert values == sorted(values, reverse=sortby.startswith("-"))
    if sortby == "available_from":  # no date = available now: first
        nulls = [f["properties"][key] is None for f in feats]
        assert nulls == sorted(nulls, reverse=True)


def test_paging_links_cover_every_match_once(client: TestClient, conn: psycopg.Connection) -> None:
    expected = count(conn, "city_code = '41205' AND intention = 'sell' AND land_type = 200")
    body = browse(client, city="41205", intention="sell", land_type=200, limit=40)
    seen: list[int] = []
    while True:
        seen += [f["id"] for f in body["features"]]
        rels = {link["rel"]: link["href"] for link in body["links"]}
        assert "self" in rels
        if "next" not in rels:
            break
        r = client.get(rels["next"].replace("http://testserver", ""))
        assert r.status_code == 200
        body = r.json()
        assert "prev" in {link["rel"] for link in body["links"]}
    assert len(seen) == len(set(seen)) == expected


def test_address_gives_its_honest_precision(client: TestClient, conn: psycopg.Connection) -> None:
    body = browse(client, address="武雄市武雄町富岡", intention="lend", within_m=5000, limit=500)
    loc = body["location"]
    assert loc["coordinates_level"] == "machiaza" and loc["approximate"] is True
    assert "大字" in loc["message"] and "代表点" in loc["message"]
    point = "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 6668), 6670)"
    expected = count(conn, f"intention = 'lend' AND ST_DWithin(geom_m, {point}, 5000)", (loc["lon"], loc["lat"]))
    assert body["numberMatched"] == expected
    r = client.get("/farmland/parcels?" + urlencode({"address": "東京都千代田区千代田1-1"}))
    assert r.status_code == 400 and r.json()["description"].startswith("address:")


def test_urbanised_parcels_are_never_public(client: TestClient, conn: psycopg.Connection) -> None:
    urban = conn.execute(
        "SELECT f.id, ST_Y(ST_PointOnSurface(f.geom)), ST_X(ST_PointOnSurface(f.geom)), r.oaza, r.chiban "
        "FROM farmland f JOIN farmland_links l ON l.polygon_id = f.id JOIN farmland_ledger r ON r.id = l.ledger_id "
        "WHERE f.urbanised ORDER BY f.id LIMIT 5"
    ).fetchall()
    assert urban
    for fid, lat, lon, oaza, chiban in urban:
        # Right on it, by its own 大字 + 地番, or in a broad list: never there.
        at = browse(client, lat=round(lat, 7), lon=round(lon, 7), within_m=1, limit=500)["features"]
        named = browse(client, oaza=oaza, chiban=chiban, limit=500)["features"]
        wide = browse(client, oaza=oaza, limit=500)["features"]
        assert fid not in {f["id"] for f in at + named + wide}
        assert client.get(f"/farmland/parcels/{fid}").status_code == 404
    total = sum(c["total"]["parcels"] for c in client.get("/farmland/stats").json()["cities"])
    assert total == conn.execute(f"SELECT count(*) FROM farmland WHERE {PUBLIC}").fetchone()[0]


def test_detail_shows_the_many_to_many_link(client: TestClient, conn: psycopg.Connection) -> None:
    # A polygon with two or more records: each with its link confidence and method.
    pid = first_value(
        conn,
        f"SELECT l.polygon_id FROM farmland_links l JOIN farmland f ON f.id = l.polygon_id WHERE f.{PUBLIC} "
        "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 1",
    )
    links = conn.execute(
        "SELECT r.chiban, l.confidence, l.method FROM farmland_links l JOIN farmland_ledger r ON r.id = l.ledger_id "
        "WHERE l.polygon_id = %s",
        (pid,),
    ).fetchall()
    r = client.get(f"/farmland/parcels/{pid}")
    assert r.status_code == 200
    doc = r.json()
    assert doc["properties"]["ledger_count"] == len(links) == len(doc["records"])
    shown = {(x["chiban"], x["link"]["confidence"], x["link"]["method"]) for x in doc["records"]}
    assert shown == {(c, round(conf, 3), m) for c, conf, m in links}
    for rec in doc["records"]:  # every group of items carries its own date
        assert set(rec) >= {"location", "kubun", "intention", "lease", "idle", "other_polygons"}
        assert all("data_date" in rec[g] for g in ("location", "kubun", "intention", "lease", "idle"))
    assert doc["contact"]["name"].endswith("農業委員会") and doc["sources"] and doc["sample"] is True
    assert doc["properties"]["issue_year"] is not None and "polygon_uuid" in doc["properties"]
    # A record over two polygons: each polygon's detail names the other.
    ledger_id, a, b = conn.execute(
        "SELECT l.ledger_id, min(l.polygon_id), max(l.polygon_id) FROM farmland_links l "
        f"JOIN farmland f ON f.id = l.polygon_id WHERE f.{PUBLIC} GROUP BY 1 HAVING count(*) = 2 ORDER BY 1 LIMIT 1"
    ).fetchone()
    for this, other in ((a, b), (b, a)):
        rec = next(x for x in client.get(f"/farmland/parcels/{this}").json()["records"] if x["id"] == ledger_id)
        assert [p["id"] for p in rec["other_polygons"]] == [other]
    crops = conn.execute("SELECT count(*) FROM farmland_crops WHERE polygon_id = %s", (pid,)).fetchone()[0]
    assert len(doc["crops"]) == crops


def test_stats_agree_with_sql(client: TestClient, conn: psycopg.Connection) -> None:
    body = client.get("/farmland/stats?city=41206").json()
    assert [c["city_code"] for c in body["cities"]] == ["41206"]
    takeo = body["cities"][0]
    n, area, lend = conn.execute(
        "SELECT count(*), round(coalesce(sum(area_m2), 0)::numeric, 1), count(*) FILTER (WHERE intention = 'lend') "
        f"FROM farmland WHERE {PUBLIC} AND city_code = '41206'"
    ).fetchone()
    assert takeo["total"]["parcels"] == n and takeo["by_intention"]["lend"]["parcels"] == lend
    assert abs(takeo["total"]["area_m2"] - float(area)) < 1
    assert sum(o["total"]["parcels"] for o in body["by_oaza"]) == n
    oaza = body["by_oaza"][0]
    assert (
        sum(g["parcels"] for g in oaza["groups"])
        == oaza["total"]["parcels"]
        == count(conn, "city_code = '41206' AND oaza IS NOT DISTINCT FROM %s", (oaza["oaza"],))
    )
    assert client.get("/farmland/stats?town=1").status_code == 400


def test_etag_and_cache(client: TestClient) -> None:
    r = client.get("/farmland/parcels?intention=lend&limit=5")
    assert r.status_code == 200 and r.headers["etag"]
    again = client.get("/farmland/parcels?intention=lend&limit=5", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304
    other = client.get("/farmland/parcels?intention=sell&limit=5")
    assert other.headers["etag"] != r.headers["etag"]


BAD = [
    ("area_min=-5", "area_min"),
    ("area_max=-1", "area_max"),
    ("area_min=3000&area_max=1000", "area_max"),
    ("area_min=abc", "area_min"),
    ("intention=rent", "intention"),
    ("noshin=urban", "noshin"),
    ("land_type=300", "land_type"),
    ("sortby=price", "sortby"),
    ("sortby=distance", "sortby"),
    ("lat=33.19", "lon"),
    ("lon=130.0", "lat"),
    ("address=武雄市武雄町&lat=33.19&lon=130.0", "address"),
    ("lat=33.19&lon=130.0&within_m=0", "within_m"),
    ("lat=33.19&lon=130.0&within_m=20001", "within_m"),
    ("within_m=500", "within_m"),
    ("available_from=2027-02-30", "available_from"),
    ("available_from=next+year", "available_from"),
    ("chiban=1451", "chiban"),
    ("city=13101", "city"),
    ("limit=501", "limit"),
    ("offset=-1", "offset"),
    ("colour=red", "colour"),
    ("lat=95&lon=130", "lat"),
]


@pytest.mark.parametrize(("query", "name"), BAD, ids=[q for q, _ in BAD])
def test_bad_input_is_a_400_naming_the_parameter(client: TestClient, query: str, name: str) -> None:
    r = client.get(f"/farmland/parcels?{query}")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue" and body["description"].startswith(f"{name}:"), body


def test_unknown_parcel_ids_are_404(client: TestClient) -> None:
    for pid in ("999999999", "abc", "１２", "-1"):
        r = client.get(f"/farmland/parcels/{pid}")
        assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_available_from_means_free_by_then(client: TestClient) -> None:
    day = "2028-01-01"
    for f in browse(client, available_from=day, intention="lend", limit=500)["features"]:
        free = f["properties"]["available_from"]
        assert free is None or date.fromisoformat(free) <= date.fromisoformat(day)
