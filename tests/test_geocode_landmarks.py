"""Place names from our own layers in the search box (issue 15 item 4): a name lands on its place, an address wins."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.geocode.landmarks import Landmarks, Place, place_answer, places_sql

TAKEO, IMARI = "41206", "41205"


def _place(name: str, lat: float, lon: float, city: str = TAKEO, layer: str = "parks", reach: float = 0.0) -> Place:
    return Place(layer, name, city, lat, lon, reach, False)


def test_rows_of_one_place_answer_once_with_an_uncertainty_covering_them() -> None:
    # Two stops of one station 150 m apart are one place; the answer's reach covers both.
    marks = Landmarks([_place("武雄温泉駅", 33.1946, 130.0205), _place("武雄温泉駅", 33.1946, 130.0221)])
    (group,) = marks.find("武雄温泉駅")
    a = place_answer(group)
    assert len(group) == 2 and 100 < a["uncertainty_m"] < 200


def test_a_name_of_two_distant_places_is_two_candidates_and_the_city_narrows() -> None:
    marks = Landmarks([_place("中央公園", 33.19, 130.02), _place("中央公園", 33.27, 129.88, city=IMARI)])
    assert len(marks.find("中央公園")) == 2
    (only,) = marks.find("伊万里市中央公園")
    assert only[0].city_code == IMARI


def test_prefix_and_suffix_forms_match_but_short_fragments_do_not() -> None:
    marks = Landmarks([_place("武雄温泉駅前", 33.19, 130.02, layer="facilities")])
    assert marks.find("武雄温泉駅") and marks.find("武雄温泉駅 バス停") and marks.find("ﾀｹｵ") == []
    assert marks.find("武雄") == []  # under MIN_PREFIX after the city is read: never a guess


def test_places_sql_reads_every_declared_layer() -> None:
    sql = places_sql()
    assert sql is not None and all(f'FROM "{layer}"' in sql for layer in ("parks", "cemeteries", "facilities"))


def test_a_real_park_name_lands_on_the_park(client: TestClient) -> None:
    g = client.get("/geocode", params={"q": "白岩運動公園"}).json()
    assert (g["match_level"], g["via"], g["city_code"]) == ("landmark", "landmark", TAKEO)
    assert g["place"]["layer"] == "parks" and not g["place"]["sample"]
    assert 100 < g["uncertainty_m"] < 2_000  # the park's reach from its inner point: an area, never a lot
    body = client.get("/lookup", params={"address": "白岩運動公園"}).json()
    assert not body["precision"]["single_answer_possible"] and "白岩運動公園" in body["precision"]["message"]
    assert body["zoning"]["answer"] is None


def test_an_address_is_never_overridden_by_a_place_name(client: TestClient) -> None:
    g = client.get("/geocode", params={"q": "佐賀県武雄市武雄町武雄5680"}).json()
    assert g["match_level"] == "machiaza" and g["place"] is None


def test_an_unknown_name_stays_unknown(client: TestClient) -> None:
    g = client.get("/geocode", params={"q": "存在しない公園"}).json()
    assert g["match_level"] == "none" and g["lat"] is None and g["place"] is None


def test_a_station_of_the_gtfs_feed_lands_between_its_exits(client: TestClient) -> None:
    g = client.get("/geocode", params={"q": "武雄温泉駅"}).json()
    assert (g["match_level"], g["city_code"], g["place"]["layer"]) == ("landmark", TAKEO, "bus_stops")
    assert abs(g["lat"] - 33.1963) < 0.002 and abs(g["lon"] - 130.023) < 0.003 and g["uncertainty_m"] < 400
    # A shorter name that several places start with gives them as candidates, never a guess.
    vague = client.get("/geocode", params={"q": "武雄温泉"}).json()
    assert vague["match_level"] == "none" and len(vague["candidates"]) >= 2
