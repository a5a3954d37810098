"""Farmland data (issue 12): the MAFF polygons, the 農地台帳 CSV, the many-to-many link with its confidence, crops,
the layer's public summary, re-imports, refused files and where the names live."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, mapping

from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.farmland.polygons import import_polygons
from gis.farmland.store import import_crops, import_ledger

LEDGER_HEADER = (
    "市区町村コード", "所在_大字", "地番", "地目", "面積", "農振区分", "都市計画区分", "意向", "意向の同意",
    "耕作者整理番号", "権利の種類", "存続期間の満了日", "中間管理権", "遊休農地の措置", "経度", "緯度", "筆形状WKT",
    "所有者氏名", "耕作者氏名", "借受者氏名",
    "所在等の時点", "区分の時点", "意向の時点", "権利の時点", "遊休農地の時点",
)  # fmt: skip
TO_LL = Transformer.from_crs(6670, 6668, always_xy=True)
# A spot in 武雄市 (EPSG:6670 metres); the polygons A..G are 40 m squares 10 m apart along x.
X0, Y0 = Transformer.from_crs(6668, 6670, always_xy=True).transform(130.0500, 33.2200)
NAMES = "ABCDEFG"
SAMPLE_INFO = SourceInfo(title="テスト", sample=True)


def _sq(k: int, dx: float = 0.0) -> Any:
    x = X0 + 50 * k + dx
    return box(x, Y0, x + 40, Y0 + 40)


def _ll(g: Any) -> Any:
    return shapely.transform(g, lambda xy: np.column_stack(TO_LL.transform(xy[:, 0], xy[:, 1])))


def _pt(x: float, y: float) -> tuple[str, str]:
    lon, lat = TO_LL.transform(x, y)
    return f"{lon:.8f}", f"{lat:.8f}"


def _uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"farmland-test/{name}"))


def write_polygons(path: Path) -> Path:
    """Seven MAFF 筆ポリゴン as distributed (no ledger items, no city_code: local_government_cd)."""
    features = []
    for k, name in enumerate(NAMES):
        g = _ll(_sq(k))
        c = g.centroid
        props = {
            "polygon_uuid": _uuid(name), "land_type": 100 if k % 2 == 0 else 200, "issue_year": 2025,
            "edit_year": 2023, "history": "[]", "last_polygon_uuid": _uuid(name + "-2024"),
            "prev_last_polygon_uuid": None, "local_government_cd": "412066", "point_lng": round(c.x, 7),
            "point_lat": round(c.y, 7),
        }  # fmt: skip
        features.append({"type": "Feature", "properties": props, "geometry": mapping(g)})
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6668"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": features}), encoding="utf-8")
    return path


def ledger_row(chiban: str, **kw: str) -> dict[str, str]:
    """One ledger CSV row of 武雄市 大字 見本; keyword arguments by header."""
    row = dict.fromkeys(LEDGER_HEADER, "")
    row |= {"市区町村コード": "41206", "所在_大字": "武雄町大字武雄", "地番": chiban, "地目": "田", "面積": "1000",
            "農振区分": "農用地区域内", "都市計画区分": "都市計画区域外", "所有者氏名": f"見本 所有者{chiban}",
            "所在等の時点": "2025-03-31"}  # fmt: skip
    return row | kw


def base_rows() -> list[dict[str, str]]:
    """The many-to-many cases over A..G (see the module's layout)."""
    a, d, g = _sq(0), _sq(3), _sq(6)
    return [
        # Two 地番 in field A, each with its point: A holds two records (areas summed, 地番 joined).
        ledger_row("10", 面積="800", 意向="貸付希望", 意向の同意="はい", 権利の種類="賃借権",
                   存続期間の満了日="2000-01-01", 耕作者氏名="見本 耕作者", 借受者氏名="見本 借受者",
                   経度=_pt(a.bounds[0] + 10, Y0 + 20)[0], 緯度=_pt(a.bounds[0] + 10, Y0 + 20)[1]),
        ledger_row("11", 面積="700", 意向="貸付希望", 意向の同意="はい",
                   経度=_pt(a.bounds[0] + 30, Y0 + 20)[0], 緯度=_pt(a.bounds[0] + 30, Y0 + 20)[1]),
        # One 登記筆 under fields B and C, known by its shape only; an intention without consent.
        ledger_row("12", 面積="3200", 意向="売渡希望", 意向の同意="いいえ",
                   筆形状WKT=_ll(box(X0 + 50, Y0, X0 + 140, Y0 + 40)).wkt),
        # A point 3 m outside D (clear of E): the 5 m link; a lease running to 2099.
        ledger_row("13", 権利の種類="賃借権", 存続期間の満了日="2099-03-31", 中間管理権="あり",
                   経度=_pt(d.bounds[2] + 3, Y0 + 20)[0], 緯度=_pt(d.bounds[2] + 3, Y0 + 20)[1]),
        # E's shape drawn 8 m off: 80 % of E overlaps it.
        ledger_row("14", 筆形状WKT=_ll(_sq(4, dx=8)).wkt, 所在等の時点="令和3年3月31日"),
        # Neither point nor shape: unlinked (F has no record at all).
        ledger_row("15"),
        # In 市街化区域: G is marked and publishes no ledger item.
        ledger_row("16", 都市計画区分="市街化区域", 意向="貸付希望", 意向の同意="はい",
                   経度=_pt(g.centroid.x, g.centroid.y)[0], 緯度=_pt(g.centroid.x, g.centroid.y)[1]),
    ]  # fmt: skip


def write_ledger(path: Path, rows: list[dict[str, str]], header: tuple[str, ...] = LEDGER_HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def write_crops(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(("polygon_uuid", "年", "作期", "作物", "時点"))
        w.writerows(rows)
    return path


CROPS = [
    (_uuid("A"), 2024, "夏作", "水稲", "2024-07-31"),
    (_uuid("A"), 2024, "冬作", "麦", "2025-01-31"),
    (_uuid("A"), 2025, "夏作", "大豆", "2025-07-31"),
    (_uuid("B-2024"), 2024, "夏作", "水稲", "2024-07-31"),  # last year's uuid of B
    (_uuid("nowhere"), 2025, "夏作", "野菜", "2025-07-31"),  # no such polygon: reported, skipped
]


@pytest.fixture(scope="module")
def farm_template(cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """A migrated database holding only the test polygons, ledger and crops (a template); results by file."""
    from gis.db.migrate import upgrade

    name = "gis_farmland_tpl"
    url = cluster.create(name)
    upgrade(url)
    tmp = tmp_path_factory.mktemp("farm")
    with psycopg.connect(url) as conn:
        out = {
            "polygons": import_polygons(conn, write_polygons(tmp / "fude.geojson"), SAMPLE_INFO),
            "ledger": import_ledger(conn, write_ledger(tmp / "ledger.csv", base_rows()), SAMPLE_INFO),
            "crops": import_crops(conn, write_crops(tmp / "crops.csv", CROPS), SAMPLE_INFO),
        }
    yield name, out
    cluster.drop(name)


@pytest.fixture
def farm(cluster, farm_template) -> Iterator[tuple[psycopg.Connection, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """A fresh copy of the template for one test."""
    template, out = farm_template
    name = f"gis_farm_{uuid.uuid4().hex[:8]}"
    url = cluster.create(name, template=template)
    try:
        with psycopg.connect(url) as conn:
            yield conn, out
    finally:
        cluster.drop(name)


def parcels(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """The farmland rows by test name (A..G)."""
    by_uuid = {_uuid(n): n for n in NAMES}
    cur = conn.execute("SELECT * FROM farmland")
    cols = [c.name for c in cur.description]
    return {by_uuid[r[cols.index("polygon_uuid")]]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def links(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[float, str]]:
    """(polygon name, 地番) → (confidence, method)."""
    by_uuid = {_uuid(n): n for n in NAMES}
    rows = conn.execute(
        "SELECT f.polygon_uuid, r.chiban, l.confidence, l.method FROM farmland_links l "
        "JOIN farmland f ON f.id = l.polygon_id JOIN farmland_ledger r ON r.id = l.ledger_id"
    ).fetchall()
    return {(by_uuid[u], c): (round(conf, 2), m) for u, c, conf, m in rows}


def state(conn: psycopg.Connection) -> tuple:
    """Every id and link of the domain, and the summary (a re-import must leave it equal)."""
    return conn.execute("""
        SELECT (SELECT string_agg(id || polygon_uuid, ',' ORDER BY id) FROM farmland),
               (SELECT string_agg(id || oaza || chiban || coalesce(intention, '-'), ',' ORDER BY id)
                FROM farmland_ledger),
               (SELECT string_agg(polygon_id || ':' || ledger_id || method || confidence, ',' ORDER BY 1)
                FROM farmland_links),
               (SELECT string_agg(id || ':' || polygon_id || crop, ',' ORDER BY id) FROM farmland_crops),
               (SELECT string_agg(concat_ws('|', id, chiban, area_m2, intention, ledger_count, link_confidence, crop),
                                  ',' ORDER BY id) FROM farmland),
               (SELECT string_agg(ledger_id || owner_name, ',' ORDER BY ledger_id) FROM private.farmland_persons)
    """).fetchone()  # fmt: skip


def test_links_are_many_to_many_with_their_confidence(farm) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    assert links(conn) == {
        ("A", "10"): (0.9, "position"),
        ("A", "11"): (0.9, "position"),
        ("B", "12"): (1.0, "overlap"),
        ("C", "12"): (1.0, "overlap"),
        ("D", "13"): (0.6, "position"),
        ("E", "14"): (0.8, "overlap"),
        ("G", "16"): (0.9, "position"),
    }


def test_the_summary_columns(farm) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    p = parcels(conn)
    a = p["A"]
    assert (a["oaza"], a["chiban"], a["area_m2"], a["ledger_count"]) == ("武雄町大字武雄", "10、11", 1500.0, 2)
    assert (a["intention"], a["lend_intention"], a["link_confidence"]) == ("lend", "貸付希望", pytest.approx(0.9))
    assert a["available_from"] is None  # the lease ended in 2000: available now
    assert a["land_type_name"] == "田" and p["B"]["land_type_name"] == "畑"
    # One record over B and C: both show it; its intention had no consent, so it is not published.
    for name in "BC":
        assert (p[name]["chiban"], p[name]["area_m2"], p[name]["ledger_count"]) == ("12", 3200.0, 1)
        assert p[name]["intention"] is None and p[name]["lend_intention"] is None
    d = p["D"]
    assert d["link_confidence"] == pytest.approx(0.6) and str(d["available_from"]) == "2099-04-01"
    assert d["chukan_kanri"] is True and d["lease_type"] == "賃借権"
    assert str(p["E"]["data_date"]) == "2021-03-31" and p["E"]["link_confidence"] == pytest.approx(0.8)
    f = p["F"]  # no record: nothing of the ledger, and no area
    assert (f["ledger_count"], f["area_m2"], f["chiban"], f["link_confidence"], f["urbanised"]) == (
        0, None, None, None, False,
    )  # fmt: skip
    g = p["G"]  # 市街化区域: marked, and no ledger item is published
    assert g["urbanised"] is True and g["ledger_count"] == 1
    assert (g["chiban"], g["oaza"], g["area_m2"], g["intention"], g["lend_intention"]) == (None,) * 5
    assert not any(p[n]["urbanised"] for n in "ABCDEF")


def test_the_import_reports_what_it_did_not_publish(farm) -> None:  # type: ignore[no-untyped-def]
    conn, out = farm
    report = "\n".join(out["ledger"].report)
    assert "意向の同意がない 1 件" in report and "line 4" in report
    assert "対応のない台帳筆 1 件" in report and "代表点も筆形状もない台帳筆 1 件" in report
    assert out["ledger"].counts["farmland_ledger"] == 7
    stored = conn.execute("SELECT intention FROM farmland_ledger WHERE chiban = '12'").fetchone()
    assert stored == (None,)
    saved = conn.execute("SELECT report FROM sources WHERE id = %s", (out["ledger"].source_id,)).fetchone()[0]
    assert any("意向の同意がない" in line for line in saved)


def test_crops_latest_season_and_last_years_uuid(farm) -> None:  # type: ignore[no-untyped-def]
    conn, out = farm
    p = parcels(conn)
    assert (p["A"]["crop"], p["A"]["crop_year"], str(p["A"]["crop_date"])) == ("大豆", 2025, "2025-07-31")
    assert (p["B"]["crop"], p["B"]["crop_year"]) == ("水稲", 2024)  # found through last_polygon_uuid
    assert p["C"]["crop"] is None
    assert out["crops"].counts == {"farmland_crops": 4}
    assert any("筆ポリゴンが見つからない作付 1 件" in line and "line 6" in line for line in out["crops"].report)


def test_reimport_is_idempotent(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    before = state(conn)
    version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'farmland'").fetchone()[0]
    import_polygons(conn, write_polygons(tmp_path / "again.geojson"), SAMPLE_INFO, replace=True)
    import_ledger(conn, write_ledger(tmp_path / "again.csv", base_rows()), SAMPLE_INFO, replace=True)
    import_crops(conn, write_crops(tmp_path / "again_crops.csv", CROPS), SAMPLE_INFO, replace=True)
    assert state(conn) == before
    assert conn.execute("SELECT version FROM layer_state WHERE layer_id = 'farmland'").fetchone()[0] > version


def test_replace_removes_records_not_in_the_file_and_relinks(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    ids = dict(conn.execute("SELECT chiban, id FROM farmland_ledger").fetchall())
    rows = [r for r in base_rows() if r["地番"] != "11"]
    result = import_ledger(conn, write_ledger(tmp_path / "less.csv", rows), SAMPLE_INFO, replace=True)
    assert any("ファイルにない台帳筆 1 件を削除" in line for line in result.report)
    assert dict(conn.execute("SELECT chiban, id FROM farmland_ledger").fetchall()) == {
        k: v for k, v in ids.items() if k != "11"
    }
    a = parcels(conn)["A"]
    assert (a["chiban"], a["area_m2"], a["ledger_count"]) == ("10", 800.0, 1)
    assert (
        conn.execute("SELECT count(*) FROM private.farmland_persons WHERE ledger_id = %s", (ids["11"],)).fetchone()[0]
        == 0
    )
    # Without --replace a file adds and updates: 11 comes back with a new id, the others keep theirs.
    import_ledger(conn, write_ledger(tmp_path / "one.csv", [base_rows()[1]]), SAMPLE_INFO)
    assert parcels(conn)["A"]["chiban"] == "10、11"
    assert conn.execute("SELECT count(*) FROM farmland_ledger").fetchone()[0] == 7


def test_deleting_polygons_cascades_links_and_crops(farm) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    conn.execute("DELETE FROM farmland WHERE polygon_uuid = %s", (_uuid("A"),))
    assert not any(k[0] == "A" for k in links(conn))
    assert conn.execute("SELECT count(*) FROM farmland_crops").fetchone()[0] == 1


BAD_LEDGERS = [
    ({"面積": "-12.5"}, "line 3, column 面積: not a non-negative number of m² ('-12.5')"),
    ({"所在等の時点": "2025-13-01"}, "line 3, column 所在等の時点: not a date"),
    ({"存続期間の満了日": "来年"}, "line 3, column 存続期間の満了日: not a date"),
    ({"地番": "10"}, "line 3, column 地番: 武雄町大字武雄 10 is already on line 2"),
    ({"経度": "33.2200", "緯度": "130.0500"}, "line 3, column 経度: (33.22, 130.05) is outside Japan: swapped?"),
    ({"経度": "-47000", "緯度": "12000"}, "is outside Japan: not JGD2011 degrees (wrong CRS?)"),
    ({"緯度": ""}, "line 3, column 緯度: 経度 and 緯度 go together"),
    (
        {"筆形状WKT": "POLYGON((-47000 12000,-46960 12000,-46960 12040,-47000 12000))"},
        "are not JGD2011 degrees (wrong CRS?): prefix SRID=6670;",
    ),
    ({"筆形状WKT": "POINT(130.05 33.22)"}, "line 3, column 筆形状WKT: not a 登記筆 polygon: a Point, not a polygon"),
    ({"意向": "貸したくない"}, "line 3, column 意向: one of 貸付希望, 売渡希望"),
    ({"農振区分": "A"}, "line 3, column 農振区分: one of"),
    ({"市区町村コード": "41201"}, "line 3, column 市区町村コード: 41201 is not 41205 (伊万里市) or 41206 (武雄市)"),
    ({"所在_大字": ""}, "line 3, column 所在_大字: empty"),
]


@pytest.mark.parametrize(("change", "message"), BAD_LEDGERS)
def test_bad_ledger_rows_are_named_and_nothing_changes(farm, tmp_path: Path, change, message) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    before = state(conn)
    rows = [base_rows()[0], base_rows()[1] | change]
    with pytest.raises(ImportFailed) as e:
        import_ledger(conn, write_ledger(tmp_path / "bad.csv", rows), SAMPLE_INFO, replace=True)
    assert e.value.status == 400 and e.value.code == "ImportFailed"
    assert message in e.value.description and "nothing imported" in e.value.description
    assert state(conn) == before


def test_a_file_without_the_key_columns_is_refused(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    header = tuple(h for h in LEDGER_HEADER if h != "地番")
    with pytest.raises(ImportFailed, match="missing column 地番"):
        import_ledger(conn, write_ledger(tmp_path / "nokey.csv", base_rows(), header), SAMPLE_INFO)
    with pytest.raises(ImportFailed, match="give the column or --city"):
        import_ledger(conn, write_ledger(tmp_path / "nocity.csv", [ledger_row("1", 市区町村コード="")]), SAMPLE_INFO)


def test_bad_crops_are_refused(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    before = state(conn)
    cases = [
        ([(_uuid("A"), 2025, "春作", "水稲", "2025-07-31")], "line 2, column 作期"),
        ([(_uuid("A"), "R7", "夏作", "水稲", "2025-07-31")], "line 2, column 年: not a year"),
        ([(_uuid("A"), 2025, "夏作", "水稲", "7/31")], "line 2, column 時点: not a date"),
        ([(_uuid("A"), 2025, "夏作", "水稲", ""), (_uuid("A"), 2025, "夏", "大豆", "")], "lines 2 and 3"),
        ([(_uuid("nowhere"), 2025, "夏作", "水稲", "")], "no polygon_uuid of the file is a farmland polygon"),
    ]
    for rows, message in cases:
        with pytest.raises(ImportFailed, match=message):
            import_crops(conn, write_crops(tmp_path / "bad_crops.csv", rows), SAMPLE_INFO)
    assert state(conn) == before


def test_polygons_without_polygon_uuid_are_not_maff(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    path = tmp_path / "plain.geojson"
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": mapping(_ll(_sq(0)))}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    with pytest.raises(ImportFailed, match="no polygon_uuid column"):
        import_polygons(conn, path, SAMPLE_INFO, city="41206")


def test_ewkt_in_plane_rectangular_metres_is_accepted(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conn, _ = farm
    row = ledger_row("14", 筆形状WKT="SRID=6670;" + _sq(4, dx=8).wkt, 所在等の時点="令和3年3月31日")
    import_ledger(conn, write_ledger(tmp_path / "ewkt.csv", [row]), SAMPLE_INFO)
    assert links(conn)[("E", "14")] == (0.8, "overlap")


def test_records_outside_their_city_and_unknown_oaza(scratch_url: str, tmp_path: Path) -> None:
    """On the loaded database: a record in 佐賀市 is refused (wrong CRS or city); an unknown 大字 is reported."""
    with psycopg.connect(scratch_url) as conn:
        before = conn.execute("SELECT count(*), max(id) FROM farmland_ledger").fetchone()
        far = ledger_row("1", 所在_大字="見本町", 経度="130.3000", 緯度="33.2500")
        with pytest.raises(ImportFailed, match=r"1 records lie more than 300 m outside their city \(line 2\)"):
            import_ledger(conn, write_ledger(tmp_path / "far.csv", [far]), SAMPLE_INFO)
        assert conn.execute("SELECT count(*), max(id) FROM farmland_ledger").fetchone() == before
        lon, lat = conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM farmland WHERE city_code = '41206' "
            "ORDER BY id LIMIT 1) s"
        ).fetchone()
        near = ledger_row("99999", 所在_大字="見本町", 経度=f"{lon:.8f}", 緯度=f"{lat:.8f}")
        result = import_ledger(conn, write_ledger(tmp_path / "near.csv", [near]), SAMPLE_INFO)
        assert any("住所の参照データにない大字 1 種" in line and "見本町（1件）" in line for line in result.report)
        assert conn.execute("SELECT count(*) FROM farmland_ledger").fetchone()[0] == before[0] + 1


def test_names_only_in_the_private_schema(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        names = conn.execute(
            "SELECT count(owner_name), count(cultivator_name), count(lessee_name), "
            "bool_and(concat(owner_name, cultivator_name, lessee_name) LIKE '%%見本%%') FROM private.farmland_persons"
        ).fetchone()
        assert names[0] > 15000 and names[1] > 10000 and names[2] > 1000 and names[3]
        public = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name IN ('farmland', 'farmland_ledger', 'farmland_links', 'farmland_crops')"
            )
        }
        assert public and not {c for c in public if c.endswith("_name") and c != "land_type_name"}
        conn.execute("SET ROLE gis_public")
        assert conn.execute("SELECT count(*) FROM farmland_ledger").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM farmland_links").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM farmland_crops").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT ledger_id FROM private.farmland_persons LIMIT 1")


def test_the_sample_has_every_case(conn: psycopg.Connection) -> None:
    """The bundled sample: about 1,200 lend / 500 sell, and every many-to-many case, all marked sample."""
    counts = dict(conn.execute("SELECT intention, count(*) FROM farmland WHERE NOT urbanised GROUP BY 1").fetchall())
    assert 1000 < counts["lend"] < 1400 and 400 < counts["sell"] < 650
    two_records = conn.execute("SELECT count(*) FROM farmland WHERE ledger_count >= 2 AND chiban LIKE '%%、%%'")
    assert two_records.fetchone()[0] > 300
    two_polygons = conn.execute(
        "SELECT count(*) FROM (SELECT ledger_id FROM farmland_links GROUP BY 1 HAVING count(*) = 2) s"
    ).fetchone()[0]
    assert two_polygons > 50
    methods = dict(conn.execute("SELECT method, count(*) FROM farmland_links GROUP BY 1").fetchall())
    assert methods["position"] > 15000 and methods["overlap"] > 1000
    near = conn.execute(
        "SELECT count(*) FROM farmland_links WHERE method = 'position' AND confidence < 0.7"
    ).fetchone()[0]
    assert near > 100
    unlinked = conn.execute(
        "SELECT (SELECT count(*) FROM farmland WHERE ledger_count = 0 AND area_m2 IS NULL), "
        "(SELECT count(*) FROM farmland_ledger r WHERE NOT EXISTS (SELECT 1 FROM farmland_links l "
        "WHERE l.ledger_id = r.id))"
    ).fetchone()
    assert unlinked[0] > 100 and unlinked[1] > 100
    urban = conn.execute("SELECT count(*), count(chiban) FROM farmland WHERE urbanised").fetchone()
    assert urban[0] > 20 and urban[1] == 0
    assert conn.execute("SELECT count(*) FROM farmland WHERE crop IS NOT NULL").fetchone()[0] > 15000
    for table in ("farmland", "farmland_ledger", "farmland_crops", "private.farmland_persons"):
        assert conn.execute(f"SELECT bool_and(sample) FROM {table}").fetchone()[0], table


def test_upgrading_moves_the_ledger_items_and_names(cluster) -> None:  # type: ignore[no-untyped-def]
    """0011 on a database with the old layer (ledger items on the polygons, names in farmland_owners)."""
    from gis.db.migrate import upgrade
    from gis.db.provenance import insert_source

    url = cluster.create("gis_upgrade_0011")
    try:
        upgrade(url, "0010")
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            src = insert_source(cur, "farmland", SourceInfo(title="t", sample=True), city_codes=["41206"])
            fid = cur.execute(
                "INSERT INTO farmland (city_code, source_id, sample, polygon_uuid, land_type, oaza, chiban, area_m2, "
                "lend_intention, lease_end, data_date, geom) VALUES ('41206', %s, true, 'u1', 100, '武雄町大字武雄', "
                "'12', 950, '貸付希望', '2099-03-31', '2025-03-31', ST_Multi(ST_GeomFromText(%s, 6668))) RETURNING id",
                (src, _ll(_sq(0)).wkt),
            ).fetchone()[0]
            cur.execute("INSERT INTO private.farmland_owners VALUES (%s, '見本 太郎', '見本 花子', true)", (fid,))
        upgrade(url)
        with psycopg.connect(url) as conn:
            rec = conn.execute("SELECT id, oaza, chiban, intention, area_m2 FROM farmland_ledger").fetchall()
            assert [r[1:] for r in rec] == [("武雄町大字武雄", "12", "lend", 950.0)]
            assert conn.execute("SELECT owner_name, cultivator_name FROM private.farmland_persons").fetchall() == [
                ("見本 太郎", "見本 花子")
            ]
            assert conn.execute("SELECT polygon_id, method FROM farmland_links").fetchall() == [(fid, "position")]
            row = conn.execute(
                "SELECT intention, ledger_count, chiban, urbanised, available_from FROM farmland"
            ).fetchone()
            assert row[:4] == ("lend", 1, "12", False) and str(row[4]) == "2099-04-01"  # no 都市計画区分: not urban
            assert conn.execute("SELECT to_regclass('private.farmland_owners')").fetchone() == (None,)
    finally:
        cluster.drop("gis_upgrade_0011")


def test_cli_refuses_a_bad_ledger_in_one_line(farm_template, cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    from gis.settings import REPO_ROOT

    name = f"gis_farm_cli_{uuid.uuid4().hex[:6]}"
    url = cluster.create(name, template=farm_template[0])
    try:
        bad = write_ledger(tmp_path / "bad.csv", [base_rows()[0] | {"面積": "-1"}])
        env = {**os.environ, "DATABASE_URL": url}
        run = subprocess.run(
            [sys.executable, "-m", "gis", "farmland", "import-ledger", str(bad), "--replace"],
            env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=180,
        )  # fmt: skip
        assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
        assert run.stderr.startswith("error: bad.csv: 1 problems, nothing imported: line 2, column 面積")
        good = write_ledger(tmp_path / "good.csv", base_rows())
        run = subprocess.run(
            [sys.executable, "-m", "gis", "farmland", "import-ledger", str(good), "--city", "41206"],
            env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=180,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "farmland_ledger" in run.stdout and "見本" not in run.stdout
    finally:
        cluster.drop(name)


def test_flatgeobuf_polygons_keep_their_ids(farm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """MAFF also distributes FlatGeobuf: the same polygons read from .fgb replace themselves with the same ids."""
    import geopandas as gpd

    conn, _ = farm
    before = state(conn)
    frame = gpd.read_file(write_polygons(tmp_path / "fude.geojson"))
    frame.to_file(tmp_path / "fude.fgb", driver="FlatGeobuf", engine="pyogrio")
    result = import_polygons(conn, tmp_path / "fude.fgb", SAMPLE_INFO, replace=True)
    assert result.counts["farmland"] == 7 and any("対応づけ" in line for line in result.report)
    assert state(conn) == before


SUMMARY_SQL = (
    "SELECT md5(string_agg(concat_ws('|', id, oaza, chiban, area_m2, intention, lease_end, crop, ledger_count, "
    "link_confidence, available_from, urbanised), ',' ORDER BY id)) FROM farmland"
)


def test_any_writer_of_polygons_keeps_the_summary(scratch_url: str) -> None:
    """The generic `gis import farmland` and a Part 4 edit relink and refresh (the layer's after-write hook)."""
    from gis.ingest.importer import import_file

    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "farmland_sample.geojson"
    with psycopg.connect(scratch_url) as conn:
        before = conn.execute(SUMMARY_SQL).fetchone()[0]
        linked = conn.execute("SELECT count(*) FROM farmland WHERE ledger_count > 0").fetchone()[0]
        result = import_file(conn, "farmland", sample, SAMPLE_INFO, replace=True)
        assert any(line.startswith("対応づけ") for line in result.report), result.report
        assert conn.execute(SUMMARY_SQL).fetchone()[0] == before
        assert linked > 10_000
