"""`import_addresses`: ABR 町字/地番 and MLIT 位置参照情報 → address_points; the geocoder reference from the DB."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from gis.errors import ImportFailed
from gis.geocode import Geocoder, load_reference
from gis.geocode.addresses import import_addresses, reference_from_db
from gis.settings import REPO_ROOT

FIX = Path(__file__).parent / "data" / "addresses"
DATA = REPO_ROOT / "data"
TOWN, TOWN_POS = FIX / "mt_town_pref41_sample.csv", FIX / "mt_town_pos_pref41_sample.csv"
PARCEL, PARCEL_POS = FIX / "mt_parcel_city412058_sample.csv", FIX / "mt_parcel_pos_city412058_sample.csv"
TAKEO_PARCELS = FIX / "parcel_city412066_by_machiaza_id.csv"
EPS = 1e-7


def _points(conn: psycopg.Connection) -> list[tuple]:
    """(city, town, koaza, chiban, level, machiaza_id, lon, lat) of every address point, in a stable order."""
    return conn.execute(
        "SELECT city_code, town, koaza, chiban, level, machiaza_id, ST_X(geom), ST_Y(geom) FROM address_points "
        "ORDER BY city_code, town, koaza NULLS FIRST, chiban NULLS FIRST"
    ).fetchall()


def _assert_points(actual: list[tuple], expected: list[tuple]) -> None:
    assert [a[:6] for a in actual] == [e[:6] for e in expected]
    for a, e in zip(actual, expected, strict=True):
        assert abs(a[6] - e[6]) < EPS and abs(a[7] - e[7]) < EPS, (a, e)


def _state(conn: psycopg.Connection) -> tuple:
    """What a refused import must leave untouched: the rows, the provenance and the layer version."""
    rows = conn.execute(
        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM address_points t"
    ).fetchone()
    sources = conn.execute("SELECT count(*), max(id) FROM sources").fetchone()
    version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'address_points'").fetchone()
    return (*rows, *sources, version)


TOWN_ROWS = [
    ("41205", "山代町楠久", None, None, "machiaza", "0089000", 129.823901, 33.292905),
    ("41205", "立花町", None, None, "machiaza", "0030000", 129.881810, 33.261190),
    ("41205", "立花町", "通谷", None, "machiaza_detail", "0030101", 129.881815, 33.265350),
    ("41206", "山内町大字三間坂", None, None, "machiaza", "0024000", 129.957930, 33.190220),
    ("41206", "武雄町大字武雄", None, None, "machiaza", "0030000", 130.008310, 33.186140),
]
PARCEL_ROWS = [
    ("41205", "山代町楠久", None, f"360-{n}", "parcel", "0089000", x, y)
    for n, x, y in ((1, 129.824512, 33.293384), (2, 129.824598, 33.293301), (3, 129.824677, 33.293229))
]
TAKEO_PARCEL_ROWS = [
    ("41206", "山内町大字三間坂", None, "甲13350-1", "parcel", "0024000", 129.958412, 33.190871),
    ("41206", "武雄町大字武雄", None, "5304-1", "parcel", "0030000", 130.016105, 33.199302),
]


def test_abr_town_master_joined_with_its_position_file(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        before = conn.execute("SELECT coalesce(max(version), 0) FROM layer_state").fetchone()[0]
        result = import_addresses(conn, TOWN, pos_path=TOWN_POS)
        assert (result.layout, result.rows, result.cities) == ("abr-town", 5, ["41205", "41206"])
        assert result.levels == {"machiaza": 4, "machiaza_detail": 1}
        report = "\n".join(result.report)
        assert "対象外の市町村の 1 行" in report  # 有田町
        assert "廃止日（ablt_date）のある 1 行" in report
        assert "座標のない 1 行" in report  # 大坪町甲 has no position row
        # ABR spells 山内町三間坂; the row takes the towns table's spelling so names and parcels line up.
        _assert_points(_points(conn), TOWN_ROWS)
        source = conn.execute(
            "SELECT layer_id, publisher, licence, file_name, row_count, city_codes FROM sources WHERE id = %s",
            (result.source_id,),
        ).fetchone()
        assert source == (
            "address_points",
            "デジタル庁 アドレス・ベース・レジストリ",
            "アドレス・ベース・レジストリ利用規約",
            TOWN.name,
            5,
            ["41205", "41206"],
        )
        version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'address_points'").fetchone()[0]
        assert version > before


def test_abr_town_file_with_positions_utf8_bom_and_jgd2000(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        result = import_addresses(conn, FIX / "mt_town_with_pos_bom.csv")
        assert (result.layout, result.rows) == ("abr-town", 2)
        assert any("EPSG:6668 に変換" in line for line in result.report)
        _assert_points(
            _points(conn),
            [
                ("41205", "二里町大里甲", None, None, "machiaza", "0061000", 129.865070, 33.260890),
                ("41206", "武雄町大字永島", None, None, "machiaza", "0031000", 130.035830, 33.186200),
            ],
        )


def test_abr_parcel_master_with_position_file(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        result = import_addresses(conn, PARCEL, pos_path=PARCEL_POS)
        assert (result.layout, result.rows, result.cities, result.levels) == (
            "abr-parcel",
            3,
            ["41205"],
            {"parcel": 3},
        )
        assert any("座標のない 1 行" in line and "行 5" in line for line in result.report)  # 360-4
        _assert_points(_points(conn), PARCEL_ROWS)


def test_abr_parcels_named_through_imported_machiaza_ids(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_addresses(conn, TOWN, pos_path=TOWN_POS)
        result = import_addresses(conn, TAKEO_PARCELS)
        assert (result.rows, result.cities) == (2, ["41206"])
        parcels = [p for p in _points(conn) if p[4] == "parcel"]
        _assert_points(parcels, TAKEO_PARCEL_ROWS)  # keeps the 甲 prefix: 甲13350-1


def test_abr_parcels_named_through_a_town_file(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_addresses(conn, TAKEO_PARCELS, town_path=TOWN)
        _assert_points(_points(conn), TAKEO_PARCEL_ROWS)


def test_mlit_oaza_level_shift_jis(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        result = import_addresses(conn, FIX / "mlit_oaza_41_sample.csv")
        assert (result.layout, result.rows, result.levels) == ("mlit-oaza", 3, {"machiaza": 3})
        source = conn.execute("SELECT publisher FROM sources WHERE id = %s", (result.source_id,)).fetchone()
        assert source == ("国土交通省 位置参照情報",)
        _assert_points(
            _points(conn),
            [
                ("41205", "山代町楠久", None, None, "machiaza", None, 129.823880, 33.292920),
                ("41206", "山内町大字三間坂", None, None, "machiaza", None, 129.957910, 33.190200),
                ("41206", "武雄町大字武雄", None, None, "machiaza", None, 130.008290, 33.186120),
            ],
        )


def test_mlit_gaiku_level_chiban_rows(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        result = import_addresses(conn, FIX / "mlit_gaiku_41_sample.csv")
        assert (result.layout, result.rows, result.levels) == ("mlit-gaiku", 4, {"parcel": 4})
        report = "\n".join(result.report)
        for expected in ("住居表示（住居表示フラグ 1）の 1 行", "履歴フラグ 3（削除）の 1 行", "対象外の市町村の 1 行"):
            assert expected in report
        _assert_points(
            _points(conn),
            [
                ("41205", "山代町楠久", None, "361", "parcel", None, 129.824950, 33.293050),
                ("41205", "山代町楠久", None, "362", "parcel", None, 129.825320, 33.293520),  # the 代表 point
                ("41205", "立花町", "通谷", "1356", "parcel", None, 129.881500, 33.265000),
                ("41206", "山内町大字三間坂", None, "甲13351", "parcel", None, 129.958500, 33.190950),
            ],
        )


def test_replace_is_idempotent_and_limited_to_the_layouts_levels(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_addresses(conn, TOWN, pos_path=TOWN_POS)
        import_addresses(conn, PARCEL, pos_path=PARCEL_POS)
        first = _points(conn)
        again = import_addresses(conn, PARCEL, pos_path=PARCEL_POS)
        assert again.replaced == 3
        assert _points(conn) == first
        # Parcels of another layout replace the parcels of the same cities, never the 町字 rows.
        import_addresses(conn, FIX / "mlit_gaiku_41_sample.csv")
        rows = _points(conn)
        assert [r for r in rows if r[4] != "parcel"] == [r for r in first if r[4] != "parcel"]
        assert sorted(r[3] for r in rows if r[4] == "parcel") == ["1356", "361", "362", "甲13351"]
        import_addresses(conn, FIX / "mlit_gaiku_41_sample.csv", replace=False)
        assert len(_points(conn)) == len(rows) + 4


def test_city_option_keeps_one_city(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        result = import_addresses(conn, FIX / "mlit_oaza_41_sample.csv", city="41206")
        assert (result.rows, result.cities) == (2, ["41206"])
        assert any("対象外の市町村の 2 行" in line for line in result.report)


BAD = [
    (FIX / "bad_unknown_layout.csv", {}, "unknown address layout"),
    (FIX / "bad_missing_column.csv", {}, "lacks required column(s): oaza_cho"),
    (FIX / "bad_coordinates.csv", {}, "out-of-Japan coordinates in 2 rows (line 3, 4)"),
    (FIX / "bad_empty.csv", {}, "is empty"),
    (FIX / "bad_header_only.csv", {}, "no rows"),
    (FIX / "bad_other_cities.csv", {}, "no usable rows of 41205, 41206 (2 rows of other municipalities)"),
    (FIX / "bad_srid.csv", {}, "EPSG:6670"),
    (TAKEO_PARCELS, {}, "町字ID 41206/0024000, 41206/0030000 cannot be resolved"),
    (TOWN_POS, {}, "位置参照拡張"),
    (PARCEL, {}, "--pos"),
    (TOWN, {"layout": "abr-parcel", "pos_path": TOWN_POS}, "lacks required column(s): prc_id"),
    (TOWN, {"layout": "nonsense"}, "unknown address layout 'nonsense'"),
    (TOWN, {"city": "41201", "pos_path": TOWN_POS}, "unknown city '41201'"),
    (FIX / "missing.csv", {}, "file not found"),
]


def test_bad_files_are_refused_and_change_nothing(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_addresses(conn, PARCEL, pos_path=PARCEL_POS)
        before = _state(conn)
        for path, kwargs, message in BAD:
            with pytest.raises(ImportFailed) as err:
                import_addresses(conn, path, **kwargs)
            assert message in err.value.description, (path.name, err.value.description)
            assert _state(conn) == before, path.name


def test_reference_from_db_equals_the_bundled_reference_without_address_points(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        towns, cities, others, readings = reference_from_db(conn, DATA)
    bundled = load_reference(DATA)
    assert (set(towns), cities, others) == (set(bundled[0]), bundled[1], bundled[2])
    assert readings == bundled[3]
    assert len(towns) == len(bundled[0])


def test_geocoder_reaches_parcel_level_once_parcels_are_imported(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        plain = Geocoder(*reference_from_db(conn, DATA))
        assert plain.geocode("伊万里市山代町楠久360-1").match_level == "machiaza"
        import_addresses(conn, TOWN, pos_path=TOWN_POS)
        import_addresses(conn, PARCEL, pos_path=PARCEL_POS)
        import_addresses(conn, TAKEO_PARCELS)
        g = Geocoder(*reference_from_db(conn, DATA))
    hit = g.geocode("伊万里市山代町楠久360-1")
    assert (hit.match_level, hit.coordinates_level, hit.chiban) == ("parcel", "parcel", "360-1")
    assert abs(hit.lon - 129.824512) < EPS and abs(hit.lat - 33.293384) < EPS
    assert g.geocode("佐賀県伊万里市山代町楠久360番地3").lat == pytest.approx(33.293229, abs=EPS)
    for text in ("伊万里市山代町楠久360番地ロ", "伊万里市山代町楠久360-4", "伊万里市山代町楠久360"):
        miss = g.geocode(text)
        assert (miss.match_level, miss.coordinates_level) == ("machiaza", "machiaza"), text
        # The imported ABR 町字 point replaced the bundled one instead of making the name ambiguous.
        assert (miss.lon, miss.lat) == pytest.approx((129.823901, 33.292905), abs=EPS)
    for text, lat in (("武雄市山内町三間坂甲13350-1", 33.190871), ("武雄市武雄町武雄5304番地1", 33.199302)):
        hit = g.geocode(text)
        assert (hit.match_level, hit.coordinates_level) == ("parcel", "parcel"), text
        assert hit.lat == pytest.approx(lat, abs=EPS)


def test_public_role_can_read_address_points(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_addresses(conn, PARCEL, pos_path=PARCEL_POS)
        conn.execute("SET ROLE gis_public")
        assert conn.execute("SELECT count(*) FROM address_points").fetchone() == (3,)


def test_towns_missing_from_the_reference_are_reported(empty_url: str) -> None:
    with psycopg.connect(empty_url) as conn:  # no towns rows at all: every 町字 is new
        parcels = import_addresses(conn, FIX / "mlit_gaiku_41_sample.csv")
        assert any("取り込むまで照合されない" in line and "41206 山内町大字三間坂" in line for line in parcels.report)
        towns = import_addresses(conn, TOWN, pos_path=TOWN_POS)
        assert any("新しい町字として取り込んだ" in line and "41206 山内町三間坂" in line for line in towns.report)
        g = Geocoder(*reference_from_db(conn, DATA))
    # Parcels stored as 山内町大字三間坂 still hang under the 町字 imported later as 山内町三間坂.
    hit = g.geocode("武雄市山内町三間坂甲13351")
    assert (hit.match_level, hit.town, hit.chiban) == ("parcel", "山内町三間坂", "甲13351")


def test_separate_oaza_part_and_swapped_coordinates(scratch_url: str, tmp_path: Path) -> None:
    path = tmp_path / "mt_town_variant.csv"
    path.write_text(
        "lg_code,machiaza_id,machiaza_type,oaza_cho,chome,koaza,rep_lon,rep_lat,rep_srid\n"
        "412066,0030000,3,武雄町,,大字武雄,33.186140,130.008310,EPSG:6668\n",
        encoding="utf-8",
    )
    with psycopg.connect(scratch_url) as conn:
        result = import_addresses(conn, path)
        assert any("入れ替わっていた 1 行" in line for line in result.report)
        _assert_points(
            _points(conn), [("41206", "武雄町大字武雄", None, None, "machiaza", "0030000", 130.00831, 33.18614)]
        )
