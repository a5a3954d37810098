"""防災 in the report and the layers: the 2021 flood extent (inside / outside / no data in Imari), honest データ未整備
for the statutory zones, shelters by hazard, and the rebuilt facilities keeping the 80 m rule with real hospitals."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

IN_2021 = (33.196795738220445, 130.03844085902637)  # Takeo, 武雄町/朝日町 side of the 2021 六角川 extent
OUTSIDE = (33.1955, 130.0195)  # by Takeo station, 1.4 km from the extent
IMARI = (33.2647, 129.8806)  # central Imari: the extent does not reach Imari
SHIN_TAKEO = (33.197857, 130.035006 + 0.00054)  # ~50 m east of 新武雄病院 (195 beds)
COSMOS = (33.1928046 + 0.00027, 130.034638)  # ~30 m north of 介護老人保健施設 コスモス


def _report(client: TestClient, at: tuple[float, float]) -> dict:
    r = client.get("/lookup", params={"lat": at[0], "lon": at[1]})
    assert r.status_code == 200, r.text
    return r.json()


def test_inside_the_2021_extent(client: TestClient) -> None:
    body = _report(client, IN_2021)
    fh = body["flood_history"]
    assert fh["in_extent"] is True and fh["covered"] is True
    assert fh["zones"][0]["event_date"] == "2021-08-15"
    assert "浸水したと推定される範囲の中" in fh["summary"] and "洪水浸水想定区域ではありません" in fh["summary"]
    assert fh["sources"][0]["data_date"] == "2021-08-15" and fh["sample"] is False


def test_outside_the_2021_extent_says_outside_with_its_caveat(client: TestClient) -> None:
    fh = _report(client, OUTSIDE)["flood_history"]
    assert fh["in_extent"] is False and fh["covered"] is True
    assert "範囲の外" in fh["summary"] and "浸水しなかったとは限りません" in fh["summary"]


def test_imari_has_no_flood_history_data(client: TestClient) -> None:
    fh = _report(client, IMARI)["flood_history"]
    assert fh["status"] == "no_data" and fh["summary"] == "データ未整備"
    assert "伊万里市" in fh["message"] and "in_extent" not in fh


def test_statutory_zones_say_no_data_never_outside(client: TestClient) -> None:
    for at in (IN_2021, IMARI):
        body = _report(client, at)
        for key in ("flood_risk", "landslide"):
            s = body[key]
            assert s["status"] == "no_data" and s["summary"] == "データ未整備", key
            assert "区域外" not in s["message"] and "指定なし" not in s["message"]


def test_nearest_shelters_are_suitable_for_the_hazard(client: TestClient) -> None:
    s = _report(client, IN_2021)["shelters"]
    flood = s["emergency_sites"]["flood"]
    assert flood and all(r["flood"] and r["kind"] == "指定緊急避難場所" for r in flood)
    assert [r["distance_m"] for r in flood] == sorted(r["distance_m"] for r in flood)
    assert all("洪水" in r["designated_for"] for r in flood)
    # No 土砂 zone data: the landslide-suitable sites are shown too, saying why.
    assert all(r["landslide"] for r in s["emergency_sites"]["landslide"])
    assert any("土砂災害警戒区域のデータがない" in n for n in s["notes"])
    # 指定避難所 are listed apart, never one known to be unfit for floods.
    assert s["shelters"] and all(r["kind"] == "指定避難所" and r["flood"] is not False for r in s["shelters"])
    assert s["sources"][0]["data_date"] == "2025-10-27"


def test_shelter_layer_filters_by_hazard(client: TestClient) -> None:
    r = client.get(
        "/collections/shelters/items", params={"kind": "指定緊急避難場所", "landslide": "true", "limit": 100}
    )
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    assert feats and all(f["properties"]["landslide"] is True for f in feats)


def test_shelter_flags_are_copied_only_on_an_exact_address(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT s.same_address, s.linked_id IS NOT NULL, s.flood IS NOT NULL, "
        "EXISTS (SELECT 1 FROM shelters e WHERE e.kind = '指定緊急避難場所' AND e.gsi_id = s.linked_id "
        "AND e.address = s.address AND e.flood IS NOT DISTINCT FROM s.flood) "
        "FROM shelters s WHERE s.kind = '指定避難所'"
    ).fetchall()
    assert len(rows) == 77
    linked = [r for r in rows if r[1]]
    assert len(linked) == 43 and all(r[0] and r[2] and r[3] for r in linked)
    assert all(not r[2] for r in rows if not r[1])  # unlinked: hazard flags unknown


def test_facilities_hold_the_real_hospitals_and_care_homes(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT facility_type, count(*), bool_and(widens_1go), bool_or(sample), min(beds) "
        "FROM facilities GROUP BY facility_type ORDER BY facility_type"
    ).fetchall()
    by_type = {r[0]: r[1:] for r in rows}
    assert by_type["病院"] == (13, True, False, 47)  # 13 MHLW hospitals, all with beds, all real
    assert by_type["特別養護老人ホーム"][:3] == (7, True, False)
    assert by_type["介護老人保健施設"][:3] == (4, False, False)  # 老健 does not widen the 1号区域
    assert by_type["小学校"][2] is False and by_type["中学校"][2] is False  # the shelter list's schools
    for kind in ("保育所", "図書館", "幼保連携型認定こども園", "高等学校", "診療所"):
        assert by_type[kind][2] is True, kind  # no real row of that kind: sample, flagged
    partial = conn.execute("SELECT DISTINCT completeness FROM facilities WHERE facility_type = '小学校'").fetchall()
    assert partial == [(partial[0][0],)] and partial[0][0].startswith("一部")


def test_the_80m_rule_at_a_real_hospital(client: TestClient) -> None:
    c = _report(client, SHIN_TAKEO)["construction"]
    near = {f["name"]: f for f in c["facilities_within_80m"]}
    assert "新武雄病院" in near and near["新武雄病院"]["sample"] is False
    assert any(s["title"].startswith("厚生労働省 医療情報ネット") for s in c["sources"])


def test_a_roken_does_not_widen(client: TestClient) -> None:
    c = _report(client, COSMOS)["construction"]
    assert all("コスモス" not in f["name"] for f in c["facilities_within_80m"])


def test_the_1go_areas_are_drawn_around_widening_facilities_only(conn) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 8: the 80 m 1号区域 is a layer of its own, derived from the facilities that widen it."""
    widening = conn.execute("SELECT count(*) FROM facilities WHERE widens_1go").fetchone()[0]
    areas = conn.execute("SELECT count(*) FROM construction_1go_areas").fetchone()[0]
    assert widening > 0 and areas == widening
    # A real hospital's circle: about 80 m in metres, sample flag and source from the facility.
    name, radius, sample, real_source = conn.execute(
        "SELECT a.facility_name, sqrt(ST_Area(a.geom_m) / pi()), a.sample, NOT s.sample FROM construction_1go_areas a "
        "JOIN facilities f ON f.id = a.facility_id JOIN sources s ON s.id = a.source_id "
        "WHERE f.facility_type = '病院' AND NOT f.sample ORDER BY a.id LIMIT 1"
    ).fetchone()
    assert 79 < radius <= 80.5 and not sample and real_source, name
    # 老健 do not widen the 1号区域: no circle around them.
    assert not conn.execute(
        "SELECT count(*) FROM construction_1go_areas a JOIN facilities f ON f.id = a.facility_id "
        "WHERE f.facility_type = '介護老人保健施設'"
    ).fetchone()[0]


def test_the_1go_areas_are_served_as_a_collection(client) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/collections/construction_1go_areas/items", params={"limit": 5}).json()
    assert fc["features"] and fc["features"][0]["properties"]["radius_m"] == 80
    assert client.get("/map/construction_1go_areas", headers={"Accept": "text/html"}).status_code == 200
