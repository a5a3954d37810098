"""The cemetery ledger (墓地台帳): schema and import rules, `GET /cemeteries` by name / point / address, the report's
cemetery section, and that no individual's name or address reaches any public output.

Runs on the bundled sample (30 cemeteries, some 個人 with the person only in private, some found by the survey).
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.cemeteries.search import build_index, strip_label
from gis.ingest.importer import import_file
from gis.settings import REPO_ROOT
from layers.cemeteries import CITY_COUNTER, LAYER, OPERATOR_TYPES, operator_type
from tests.conftest import get_when_changed, make_client

LEDGER_CSV = REPO_ROOT / "data" / "sample" / "cemetery_ledger_sample.csv"
PRIVATE_MARKER = "見本"  # every fake person of the sample carries it


def _rows(conn: psycopg.Connection, where: str = "true") -> list[dict[str, Any]]:
    cur = conn.execute(
        f"SELECT c.*, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, m.manager_name, m.manager_address "
        f"FROM cemeteries c LEFT JOIN private.cemetery_managers m ON m.cemetery_id = c.id WHERE {where} ORDER BY c.id"
    )
    names = [d.name for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _published(conn: psycopg.Connection) -> dict[str, tuple]:
    """Takeo's rows by feature key: every published column and the point."""
    cols = ", ".join(f'"{c.name}"' for c in LAYER.public_columns)
    cur = conn.execute(
        f"SELECT feature_key, {cols}, ST_AsText(geom) FROM cemeteries WHERE city_code = '41206' ORDER BY feature_key"
    )
    return {r[0]: tuple(r[1:]) for r in cur.fetchall()}


def _private_values(conn: psycopg.Connection) -> list[str]:
    values = conn.execute(
        "SELECT manager_name FROM private.cemetery_managers WHERE manager_name IS NOT NULL "
        "UNION SELECT manager_address FROM private.cemetery_managers WHERE manager_address IS NOT NULL"
    ).fetchall()
    return [v[0] for v in values]


def _assert_private_free(text: str, secrets: list[str], where: str) -> None:
    assert PRIVATE_MARKER not in text, where
    assert "manager_name" not in text and "manager_address" not in text, where
    leaked = [s for s in secrets if s in text]
    assert not leaked, (where, leaked[:3])


# -- the declaration and the import rules (no database) ------------------------------------------------------------


def test_operator_type_spellings_become_the_ledger_words() -> None:
    assert operator_type("市") == "地方公共団体"
    assert operator_type(" 宗教法人 ") == "宗教法人"
    assert operator_type("公益財団法人") == "公益法人"
    assert operator_type("集落") == "共同墓地（集落）"
    assert operator_type("共同墓地(集落)") == "共同墓地（集落）"
    assert operator_type("個人") == "個人"
    assert operator_type("その他") == "その他" and operator_type(None) is None
    assert set(OPERATOR_TYPES) >= {"地方公共団体", "宗教法人", "公益法人", "個人", "共同墓地（集落）"}


def test_city_counter_follows_the_city_contacts() -> None:
    """The contact of a 個人 cemetery is the city's counter as data/rules/city_contacts.toml names it."""
    raw = tomllib.loads((REPO_ROOT / "data" / "rules" / "city_contacts.toml").read_text(encoding="utf-8"))
    department = raw["topics"]["墓地"]
    for city in raw["city"]:
        counter = CITY_COUNTER[city["city_code"]]
        assert counter.startswith(city["name"]) and department in counter and city["phone"] in counter


def test_published_columns_hold_every_ledger_item_and_no_person() -> None:
    titles = {c.title for c in LAYER.public_columns}
    for item in ("名称", "名称_カナ", "所在地", "経営主体区分", "経営者名称（団体）", "経営許可年月日", "区画数",
                 "面積（m²）", "台帳記載の有無", "確認状況", "連絡窓口", "データ時点"):  # fmt: skip
        assert item in titles, item
    assert {c.name for c in LAYER.columns if not c.public} == {"manager_name", "manager_address"}


def test_index_finds_kana_kanji_typos_and_romaji() -> None:
    rows = [
        {"id": 1, "city_code": "41205", "name": "（サンプル）中山寺墓地", "name_kana": "ナカヤマデラボチ",
         "operator_name": "（サンプル）宗教法人中山寺", "_source": 7, "sample": True},
        {"id": 2, "city_code": "41206", "name": "武雄市営大崎墓地", "name_kana": "タケオシエイオオサキボチ",
         "operator_name": "武雄市", "_source": 8, "sample": False},
        {"id": 3, "city_code": "41206", "name": "片白共同墓地", "name_kana": None, "operator_name": None,
         "_source": 8, "sample": False},
    ]  # fmt: skip
    index = build_index(rows)

    def first(q: str, city: str | None = None) -> int | None:
        hits = index.search(q, city, 3)
        return hits[0]["id"] if hits else None

    assert strip_label("（サンプル）中山寺墓地") == "中山寺墓地"
    assert first("中山寺墓地") == 1 and index.search("中山寺墓地", None, 1)[0]["score"] == 100
    assert first("なかやまでらぼち") == 1  # hiragana against 名称_カナ
    assert first("ﾅｶﾔﾏﾃﾞﾗ") == 1  # half-width katakana, a prefix
    assert first("中山時墓地") == 1  # one wrong kanji
    assert first("おおさきぼち") == 2  # the reading
    assert first("なかやまてらぼち") == 1  # a reading without its voicing (で → て)
    assert first("oosaki bochi") == 2 and first("Ōsaki") == 2  # romaji, with or without the long vowel
    assert first("かたしろきょうどうぼち") == 3  # pykakasi's reading of a name without 名称_カナ (片白 かたしろ)
    assert first("中山寺", city="41206") is None
    assert index.search("宇宙ステーション", None, 3) == []
    assert index.provenance("41206") == ([8], False) and index.provenance(None) == ([7, 8], True)


# -- schema, import ------------------------------------------------------------------------------------------------


def test_the_table_refuses_a_named_individual_operator(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        src = conn.execute("SELECT source_id FROM cemeteries LIMIT 1").fetchone()[0]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO cemeteries (city_code, source_id, name, operator_type, operator_name, geom) "
                "VALUES ('41206', %s, '試験墓地', '個人', '武雄 太郎', ST_SetSRID(ST_Point(130.02, 33.19), 6668))",
                (src,),
            )


def test_upgrading_rewrites_old_operator_types_and_hides_named_individuals(cluster) -> None:  # type: ignore[no-untyped-def]
    """0014 on a database with cemeteries: 市 → 地方公共団体, a 個人 row's operator name moves to the private table."""
    from gis.db.migrate import upgrade
    from gis.db.provenance import SourceInfo, insert_source

    url = cluster.create("gis_upgrade_0014")
    try:
        upgrade(url, "0010")
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            src = insert_source(cur, "cemeteries", SourceInfo(title="t", publisher="p", licence="l", attribution="a"))
            cur.execute(
                "INSERT INTO cemeteries (city_code, source_id, name, operator_type, operator_name, geom) VALUES "
                "('41206', %(s)s, '市営A墓地', '市', '武雄市', ST_SetSRID(ST_Point(130.02, 33.19), 6668)), "
                "('41206', %(s)s, 'B墓地', '個人', '武雄 花子', ST_SetSRID(ST_Point(130.03, 33.19), 6668)), "
                "('41206', %(s)s, 'C墓地', 'みなし墓地・地元管理', NULL, ST_SetSRID(ST_Point(130.04, 33.19), 6668))",
                {"s": src},
            )
        upgrade(url)
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT c.name, c.operator_type, c.operator_name, m.manager_name FROM cemeteries c "
                "LEFT JOIN private.cemetery_managers m ON m.cemetery_id = c.id ORDER BY c.name"
            ).fetchall()
            assert rows == [
                ("B墓地", "個人", None, "武雄 花子"),
                ("C墓地", "共同墓地（集落）", None, None),
                ("市営A墓地", "地方公共団体", "武雄市", None),
            ]
            assert conn.execute("SELECT version FROM layer_state WHERE layer_id = 'cemeteries'").fetchone()
    finally:
        cluster.drop("gis_upgrade_0014")


def test_ledger_csv_import_keeps_individuals_private(scratch_url: str) -> None:
    with LEDGER_CSV.open(encoding="utf-8") as f:
        ledger = list(csv.DictReader(f))
    individuals = {r["名称"]: r["経営者名称"] for r in ledger if r["経営主体区分"] == "個人"}
    assert individuals and all(PRIVATE_MARKER in name for name in individuals.values())
    with psycopg.connect(scratch_url) as conn:
        before = _published(conn)
        result = import_file(conn, "cemeteries", LEDGER_CSV, replace=True, city="41206")
        after = _published(conn)
        # As the sample README says: the survey's finding and one correction change two rows, one row is new.
        assert set(before) <= set(after) and len(set(after) - set(before)) == 1
        assert sum(before[k] != after[k] for k in before) == 2
        assert result.rows == len(ledger) and any("個人経営" in line for line in result.report)
        rows = {r["name"]: r for r in _rows(conn, "c.city_code = '41206'")}
        assert set(rows) == {r["名称"] for r in ledger}
        for name, person in individuals.items():
            row = rows[name]
            assert row["operator_name"] is None and row["contact"] == CITY_COUNTER["41206"]
            assert row["manager_name"] == person  # kept, privately
        survey = [r for r in ledger if r["確認状況"] == "調査で確認"]
        assert survey and all(rows[r["名称"]]["ledger_listed"] is False for r in survey)
        listed = [r for r in ledger if r["台帳記載の有無"] == "有"]
        assert all(rows[r["名称"]]["ledger_listed"] is True for r in listed)
        assert {r["name"]: r["data_date"].isoformat() for r in rows.values()} == {
            r["名称"]: r["データ時点"] for r in ledger
        }
        assert {r["operator_type"] for r in rows.values()} <= set(OPERATOR_TYPES)
        # Re-importing the same ledger keeps the feature ids (its ID column is the feature key).
        ids = {n: r["id"] for n, r in rows.items()}
        import_file(conn, "cemeteries", LEDGER_CSV, replace=True, city="41206")
        assert {r["name"]: r["id"] for r in _rows(conn, "c.city_code = '41206'")} == ids


# -- GET /cemeteries -----------------------------------------------------------------------------------------------


def _one(conn: psycopg.Connection, where: str) -> dict[str, Any]:
    rows = _rows(conn, where)
    assert rows, where
    return rows[0]


def test_find_by_name_reading_and_typo(client: TestClient, conn: psycopg.Connection) -> None:
    temple = _one(conn, "c.operator_type = '宗教法人'")
    name = strip_label(temple["name"])
    for q in (name, temple["name"], temple["name_kana"], name[:-1] + ("時" if name[-1] != "時" else "寺")):
        body = client.get("/cemeteries", params={"q": q}).json()
        assert body["cemeteries"], q
        assert body["cemeteries"][0]["id"] == temple["id"], (q, body["cemeteries"][0]["name"])
    typo = name[0] + "時" + name[2:] if len(name) > 2 else name
    body = client.get("/cemeteries", params={"q": typo, "limit": 3}).json()
    assert temple["id"] in [c["id"] for c in body["cemeteries"]], typo
    hit = client.get("/cemeteries", params={"q": name}).json()
    first = hit["cemeteries"][0]
    assert first["match"].startswith("exact") and first["score"] == 100
    for key in ("name", "name_kana", "address", "operator_type", "operator_name", "contact", "permit_date", "plots",
                "area_m2", "ledger_listed", "status", "data_date", "lat", "lon", "sample", "city_code"):  # fmt: skip
        assert key in first, key
    assert abs(first["lat"] - temple["lat"]) < 1e-6 and abs(first["lon"] - temple["lon"]) < 1e-6
    assert hit["sources"] and hit["data_date"] and hit["sample"] is True
    assert hit["precision"]["match_level"] == "name"
    other = "41206" if temple["city_code"] == "41205" else "41205"
    assert all(c["city_code"] == other for c in client.get("/cemeteries", params={"q": name, "city": other}).json()[
        "cemeteries"
    ])  # fmt: skip


def test_nearest_to_a_point_with_distances(client: TestClient, conn: psycopg.Connection) -> None:
    lon, lat = 130.0200, 33.1950  # 武雄町
    body = client.get("/cemeteries", params={"lat": lat, "lon": lon, "limit": 4}).json()
    got = [(c["id"], c["distance_m"]) for c in body["cemeteries"]]
    expect = conn.execute(
        "SELECT id, round(ST_Distance(geom_m, ST_Transform(ST_SetSRID(ST_Point(%s, %s), 6668), 6670))::numeric, 1) "
        "FROM cemeteries ORDER BY 2, id LIMIT 4",
        (lon, lat),
    ).fetchall()
    assert got == [(i, float(d)) for i, d in expect]
    assert body["precision"]["match_level"] == "point" and body["sources"] and body["sample"] is True
    at = _one(conn, "c.operator_type = '個人'")
    body = client.get("/cemeteries", params={"lat": at["lat"], "lon": at["lon"], "limit": 1}).json()
    first = body["cemeteries"][0]
    assert first["id"] == at["id"] and first["distance_m"] < 0.5
    assert first["operator_name"] is None and first["contact"] == CITY_COUNTER[at["city_code"]]


def test_nearest_to_an_address_states_its_precision(client: TestClient) -> None:
    body = client.get("/cemeteries", params={"address": "武雄市武雄町大字昭和", "limit": 2}).json()
    assert len(body["cemeteries"]) == 2 and body["cemeteries"][0]["distance_m"] <= body["cemeteries"][1]["distance_m"]
    p = body["precision"]
    assert p["approximate"] is True and "大字" in p["message"] and p["uncertainty_m"] > 0
    assert body["query"]["geocode"]["town"] and body["sources"] and body["data_date"]
    nowhere = client.get("/cemeteries", params={"address": "どこでもない場所"}).json()
    assert nowhere["cemeteries"] == [] and nowhere["precision"]["approximate"] is True


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, "q"),
        ({"q": "墓地", "lat": "33.2", "lon": "130.0"}, "q"),
        ({"q": "墓地", "address": "武雄市武雄町"}, "q"),
        ({"lat": "33.2"}, "lon"),
        ({"lat": "abc", "lon": "130"}, "lat"),
        ({"lat": "10", "lon": "130"}, "lat"),
        ({"q": "墓地", "limit": "0"}, "limit"),
        ({"q": "墓地", "limit": "x"}, "limit"),
        ({"q": "   "}, "q"),
        ({"q": "墓" * 101}, "q"),
        ({"q": "墓\x00地"}, "q"),
        ({"q": "墓地", "city": "13101"}, "city"),
        ({"lat": "33.2", "lon": "130.0", "city": "41206"}, "city"),
        ({"q": "墓地", "sort": "name"}, "sort"),
        ({"address": "東京都千代田区千代田1-1"}, "address"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client: TestClient, params: dict[str, str], names: str) -> None:
    r = client.get("/cemeteries", params=params)
    assert r.status_code == 400, (params, r.text)
    body = r.json()
    assert set(body) == {"code", "description"} and body["description"].startswith(names), body


def test_etag_revalidates_and_follows_the_layer_version(scratch_url: str, tmp_path: Path) -> None:
    with make_client(scratch_url, tmp_path) as c:
        r = c.get("/cemeteries", params={"q": "墓地"})
        etag = r.headers["etag"]
        assert c.get("/cemeteries", params={"q": "墓地"}, headers={"If-None-Match": etag}).status_code == 304
        with psycopg.connect(scratch_url) as conn:
            import_file(conn, "cemeteries", LEDGER_CSV, replace=True, city="41206")
        # The new version arrives through LISTEN: the same question then has a new ETag and the new rows.
        path = "/cemeteries?q=%E5%A2%93%E5%9C%B0"  # q=墓地
        assert get_when_changed(c, path, etag, timeout=15).status_code == 200
        r2 = c.get("/cemeteries", params={"q": "北方芦原共同墓地"})
        first = r2.json()["cemeteries"][0]
        assert first["name"].endswith("北方芦原共同墓地") and first["status"] == "調査で確認"
        assert r2.json()["data_date"]


# -- the report, the map, and privacy everywhere --------------------------------------------------------------------


def test_report_has_the_cemetery_section(client: TestClient, conn: psycopg.Connection) -> None:
    row = _one(conn, "c.operator_type = '宗教法人'")
    body = client.get("/lookup", params={"lat": row["lat"], "lon": row["lon"]}).json()
    sec = body["cemeteries"]
    first = sec["within_500m"][0]
    assert first["id"] == row["id"] and first["distance_m"] < 0.5
    assert first["operator_name"] == row["operator_name"] and first["contact"] == row["contact"]
    assert sec["sources"] and sec["sample"] is True


def test_no_individual_reaches_any_public_output(client: TestClient, conn: psycopg.Connection) -> None:
    secrets = _private_values(conn)
    individuals = _rows(conn, "c.operator_type = '個人'")
    assert secrets and individuals and all(r["manager_name"] for r in individuals)
    assert all(r["operator_name"] is None for r in individuals)
    outputs = {
        "q": client.get("/cemeteries", params={"q": "墓地", "limit": 20}).text,
        "items": client.get("/collections/cemeteries/items", params={"limit": 100}).text,
        "items.csv": client.get("/collections/cemeteries/items", params={"f": "csv", "limit": 100}).text,
        "items.html": client.get("/collections/cemeteries/items", params={"f": "html", "limit": 100}).text,
        "download.geojson": client.get("/collections/cemeteries/download", params={"f": "geojson"}).text,
        "download.csv": client.get("/collections/cemeteries/download", params={"f": "csv"}).text,
        "queryables": client.get("/collections/cemeteries/queryables").text,
        "page": client.get("/map/cemeteries").text,
        "map": client.get("/map").text,
    }
    for r in individuals:
        outputs[f"q {r['name']}"] = client.get("/cemeteries", params={"q": r["name"]}).text
        outputs[f"near {r['name']}"] = client.get("/cemeteries", params={"lat": r["lat"], "lon": r["lon"]}).text
        outputs[f"lookup {r['name']}"] = client.get("/lookup", params={"lat": r["lat"], "lon": r["lon"]}).text
        outputs[f"item {r['name']}"] = client.get(f"/collections/cemeteries/items/{r['id']}").text
        outputs[f"geocode {r['name']}"] = client.get("/geocode", params={"q": r["name"]}).text
    # Searching by a person's name finds nothing that shows it (the answer echoes only the query itself).
    for s in secrets[:5]:
        body = client.get("/cemeteries", params={"q": s}).json()
        assert body.pop("query")["q"] == s and body["cemeteries"] == []
        outputs[f"q {s}"] = json.dumps(body, ensure_ascii=False)
    for where, text in outputs.items():
        _assert_private_free(text, secrets, where)
    for r in individuals:
        for z in (10, 14):
            x, y = _tile(r["lon"], r["lat"], z)
            for path in (f"/tiles/cemeteries/{z}/{x}/{y}.mvt", f"/tiles/all/{z}/{x}/{y}.mvt"):
                tile = client.get(path)
                assert tile.status_code == 200 and tile.content, path
                assert not any(s.encode() in tile.content for s in secrets), path
                assert PRIVATE_MARKER.encode() not in tile.content, path


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_the_cemetery_page_and_the_api_document(client: TestClient) -> None:
    doc = client.get("/api").json()
    op = doc["paths"]["/cemeteries"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"q", "address", "lat", "lon", "city", "limit"}
    assert "400" in op["responses"]
