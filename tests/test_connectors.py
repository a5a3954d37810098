"""Connectors: each national format is recognised from its columns, mapped through the importer's guards, and a file
of the wrong format (or of none) changes nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from gis.cli.data import pick_connector
from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.ingest.connectors import CONNECTORS, by_name
from gis.settings import REPO_ROOT

FIX = REPO_ROOT / "tests/data/connectors"
INFO = SourceInfo(title="fixture", publisher="test", licence="test")
EXPECTED = {
    "A31a-20_41_fixture.geojson": "ksj_a31",
    "A33-23_41_fixture.geojson": "ksj_a33",
    "P29-23_41_fixture.geojson": "ksj_p29",
    "P04-20_41_fixture.geojson": "ksj_p04",
    "gsi_emergency_sites_fixture.csv": "gsi_emergency_sites",
    "gsi_designated_shelters_fixture.geojson": "gsi_designated_shelters",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_is_recognised_by_its_connector_only(name: str) -> None:
    assert [c.name for c in CONNECTORS if c.detect(FIX / name)] == [EXPECTED[name]]
    assert pick_connector(FIX / name, None).name == EXPECTED[name]


def test_an_unknown_file_without_a_layer_is_refused_naming_the_connectors() -> None:
    with pytest.raises(ImportFailed) as e:
        pick_connector(FIX / "not_a_known_format.csv", None)
    assert "ksj_a31" in e.value.description and "gsi_emergency_sites" in e.value.description
    # With a layer it is a plain layer import, as before.
    assert pick_connector(FIX / "not_a_known_format.csv", "facilities") is None


def _run(url: str, connector: str, file: str, **options):  # noqa: ANN202
    with psycopg.connect(url) as conn:
        return by_name(connector).run(conn, FIX / file, INFO, **options)


def test_a31_depth_ranks_become_classes_cut_to_the_cities(scratch_url: str) -> None:
    result = _run(scratch_url, "ksj_a31", "A31a-20_41_fixture.geojson")
    assert result.layer == "flood_risk" and result.rows == 2  # the third polygon lies outside both cities
    with psycopg.connect(scratch_url) as conn:
        rows = conn.execute(
            "SELECT depth_rank, depth_class, depth_min_m, depth_max_m, scenario, river_name, city_code "
            "FROM flood_risk ORDER BY depth_rank"
        ).fetchall()
    assert rows == [
        (2, "0.5〜3.0m", 0.5, 3.0, "想定最大規模", "六角川", "41206"),
        (3, "3.0〜5.0m", 3.0, 5.0, "想定最大規模", "六角川", "41206"),
    ]
    assert any("両市の外" in line for line in result.report)


def test_a33_codes_become_zone_types_and_phenomena(scratch_url: str) -> None:
    result = _run(scratch_url, "ksj_a33", "A33-23_41_fixture.geojson")
    assert result.rows == 3 and sorted(result.cities) == ["41205", "41206"]
    with psycopg.connect(scratch_url) as conn:
        rows = conn.execute(
            "SELECT zone_type, phenomenon, designated, zone_name, red_zone_pending FROM landslide_zones "
            "ORDER BY city_code, zone_type"
        ).fetchall()
    assert sorted(rows) == sorted(
        [
            ("土砂災害警戒区域", "土石流", False, "大川内川", True),
            ("土砂災害特別警戒区域", "急傾斜地の崩壊", True, "永島１", False),
            ("土砂災害警戒区域", "急傾斜地の崩壊", True, "永島１", False),
        ]
    )


def test_p29_schools_replace_only_schools_and_widen(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        hospitals = conn.execute("SELECT count(*) FROM facilities WHERE facility_type = '病院'").fetchone()[0]
    result = _run(scratch_url, "ksj_p29", "P29-23_41_fixture.geojson", replace=True, force=True)
    assert result.rows == 3
    with psycopg.connect(scratch_url) as conn:
        rows = conn.execute(
            "SELECT name, facility_type, widens_1go, sample, completeness FROM facilities "
            "WHERE facility_type IN ('小学校', '中学校', '高等学校', '幼稚園') ORDER BY name"
        ).fetchall()
        after = conn.execute("SELECT count(*) FROM facilities WHERE facility_type = '病院'").fetchone()[0]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("伊万里幼稚園", "幼稚園", True, False),
        ("佐賀県立武雄高等学校", "高等学校", True, False),
        ("武雄小学校", "小学校", True, False),
    ]  # the partial shelter-list schools and the sample 高等学校 are replaced by the complete list
    assert all("P29" in r[4] for r in rows)
    assert after == hospitals == 13  # the hospitals are another part of the layer: untouched


def test_p04_places_points_by_location_and_beds_decide(scratch_url: str) -> None:
    result = _run(scratch_url, "ksj_p04", "P04-20_41_fixture.geojson", replace=True, force=True)
    assert result.rows == 2 and any("外の 1 件を除外" in line for line in result.report)
    with psycopg.connect(scratch_url) as conn:
        rows = conn.execute(
            "SELECT name, facility_type, beds, widens_1go, city_code FROM facilities "
            "WHERE facility_type IN ('病院', '診療所') ORDER BY name"
        ).fetchall()
    assert rows == [
        ("伊万里有床診療所", "診療所", 19, True, "41205"),
        ("武雄こどもクリニック", "診療所", 0, False, "41206"),
    ]


def test_gsi_csv_and_geojson_link_flags_only_on_an_exact_address(scratch_url: str) -> None:
    first = _run(scratch_url, "gsi_emergency_sites", "gsi_emergency_sites_fixture.csv", replace=True, force=True)
    assert first.rows == 3 and any("対象外の市町村" in line for line in first.report)
    _run(scratch_url, "gsi_designated_shelters", "gsi_designated_shelters_fixture.geojson", replace=True, force=True)
    with psycopg.connect(scratch_url) as conn:
        rows = conn.execute(
            "SELECT name, kind, flood, landslide, earthquake, linked_id FROM shelters WHERE city_code = '41206' "
            "ORDER BY kind, name"
        ).fetchall()
    assert rows == [
        ("テスト公民館", "指定緊急避難場所", False, True, True, None),
        ("テスト運動公園", "指定緊急避難場所", True, False, True, None),
        ("テスト体育館", "指定避難所", None, None, None, None),  # not the same address: unknown, never "unfit"
        # Full-width digits in the address still match exactly once normalised (NFKC): the flags are copied.
        ("テスト公民館", "指定避難所", False, True, True, "E4120690000201"),
    ]


@pytest.mark.parametrize(
    ("connector", "file"),
    [("ksj_a31", "P29-23_41_fixture.geojson"), ("ksj_p29", "A33-23_41_fixture.geojson")],
)
def test_a_file_of_the_wrong_format_changes_nothing(scratch_url: str, connector: str, file: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        before = conn.execute("SELECT (SELECT count(*) FROM facilities), (SELECT count(*) FROM flood_risk)").fetchone()
    with pytest.raises(ImportFailed, match="is not a"):
        _run(scratch_url, connector, file, replace=True)
    with psycopg.connect(scratch_url) as conn:
        after = conn.execute("SELECT (SELECT count(*) FROM facilities), (SELECT count(*) FROM flood_risk)").fetchone()
    assert after == before


def test_an_unknown_code_is_refused(tmp_path: Path, scratch_url: str) -> None:
    bad = (FIX / "A33-23_41_fixture.geojson").read_text(encoding="utf-8").replace('"A33_001": 2', '"A33_001": 9')
    (tmp_path / "A33-bad.geojson").write_text(bad, encoding="utf-8")
    with psycopg.connect(scratch_url) as conn, pytest.raises(ImportFailed) as e:
        by_name("ksj_a33").run(conn, tmp_path / "A33-bad.geojson", INFO)
    assert "9" in e.value.description and "急傾斜地の崩壊" in e.value.description
