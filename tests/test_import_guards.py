"""Import guards: features must lie in their city, a wrong CRS is named, a shrinking --replace needs --force."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest

from gis.errors import ImportFailed
from gis.ingest.importer import import_file
from gis.settings import REPO_ROOT

FARMLAND = REPO_ROOT / "data/sample/farmland_sample.geojson"
CODE_COLUMNS = ["city_code", "local_government_cd"]


@pytest.fixture(scope="module")
def imari_parcels() -> gpd.GeoDataFrame:
    """50 real-looking Imari parcels (lon/lat, EPSG:6668) from the bundled sample, spread over the city."""
    frame = gpd.read_file(FARMLAND, engine="pyogrio")
    imari = frame[frame["city_code"] == "41205"]
    return imari.iloc[:: len(imari) // 50].iloc[:50].reset_index(drop=True)


def _state(conn: psycopg.Connection, city: str = "41205") -> tuple:
    """Count and checksum of a city's farmland ids and keys, the layer version and the number of sources."""
    rows = conn.execute(
        "SELECT count(*), md5(string_agg(id::text || ':' || feature_key, ',' ORDER BY id)) FROM farmland "
        "WHERE city_code = %s",
        (city,),
    ).fetchone()
    version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'farmland'").fetchone()
    sources = conn.execute("SELECT count(*) FROM sources").fetchone()
    return (*rows, version, sources)


def _refused(url: str, path: Path, **kwargs: object) -> str:
    """Import, expect a refusal that changes nothing, and return its one-line message."""
    with psycopg.connect(url) as conn:
        before = {c: _state(conn, c) for c in ("41205", "41206")}
        with pytest.raises(ImportFailed) as err:
            import_file(conn, "farmland", path, **kwargs)
        conn.rollback()
        assert {c: _state(conn, c) for c in before} == before
    message = err.value.description
    assert message and "\n" not in message
    return message


def test_lon_lat_file_declared_zone_ii_is_refused(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    """The fault run: lon/lat parcels declared EPSG:6670 land near 131.00 E 33.00 N and would replace 11,000."""
    path = tmp_path / "lonlat.geojson"
    imari_parcels.to_file(path, driver="GeoJSON", engine="pyogrio")
    with psycopg.connect(scratch_url) as conn:
        assert _state(conn)[0] == 11_000
    message = _refused(scratch_url, path, crs="EPSG:6670", replace=True)
    assert message.startswith("the coordinates fall outside 伊万里市 (41205) when read as EPSG:6670")
    assert "pass --crs EPSG:6668" in message


def test_zone_ii_file_declared_zone_iii_is_refused(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    path = tmp_path / "zone2.gpkg"
    imari_parcels.to_crs(6670).to_file(path, driver="GPKG", engine="pyogrio")
    message = _refused(scratch_url, path, crs="EPSG:6671", replace=True)
    assert "outside 伊万里市 (41205) when read as EPSG:6671" in message
    assert "pass --crs EPSG:6670" in message


def test_tokyo_datum_file_declared_zone_iii_names_both_datums(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    """Tokyo-datum zone II and JGD2011 zone II differ by ~440 m here: both fit, so the hint names both.

    A Tokyo-datum file declared as EPSG:6670 lands only ~440 m off: inland parcels stay inside the city (within
    the 300 m tolerance of its boundary), so that mix-up cannot be told from real data and is not tested.
    """
    path = tmp_path / "tokyo.geojson"
    imari_parcels.to_crs(30162).to_file(path, driver="GeoJSON", engine="pyogrio")
    message = _refused(scratch_url, path, crs="EPSG:6671")
    assert "EPSG:6670" in message and "EPSG:30162" in message and "pass --crs EPSG:" in message


def test_replace_with_few_parcels_needs_force(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    path = tmp_path / "fifty.geojson"
    imari_parcels.to_file(path, driver="GeoJSON", engine="pyogrio")
    message = _refused(scratch_url, path, replace=True)
    assert message.startswith("--replace would change 伊万里市's farmland from 11,000 to 50 features (−99.5 %)")
    assert message.endswith("pass --force")
    with psycopg.connect(scratch_url) as conn:
        takeo = _state(conn, "41206")[:2]
        result = import_file(conn, "farmland", path, replace=True, force=True)
        assert (result.rows, result.replaced) == (50, 11_000)
        assert any(line.startswith("--force で置換: 伊万里市 11,000 件 → 50 件") for line in result.report)
        assert _state(conn, "41205")[0] == 50 and _state(conn, "41206")[:2] == takeo


def test_replace_with_the_same_file_needs_no_force(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    """Re-importing what is there (or adding to it) is not a risky replace."""
    path = tmp_path / "fifty.geojson"
    imari_parcels.to_file(path, driver="GeoJSON", engine="pyogrio")
    with psycopg.connect(scratch_url) as conn:
        import_file(conn, "farmland", path, replace=True, force=True)
        result = import_file(conn, "farmland", path, replace=True)
        assert result.replaced == 50
        assert not any("--force" in line for line in result.report)


def test_features_assigned_to_the_wrong_city_are_refused(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    path = tmp_path / "nocode.geojson"
    imari_parcels.drop(columns=CODE_COLUMNS).to_file(path, driver="GeoJSON", engine="pyogrio")
    message = _refused(scratch_url, path, city="41206")
    assert message.startswith("farmland: 50 of 50 features assigned to 武雄市 (41206) lie more than 300 m outside it")
    assert "50 of them in 伊万里市 (41205)" in message and "--allow-outside" in message
    with psycopg.connect(scratch_url) as conn:
        result = import_file(conn, "farmland", path, city="41206", allow_outside=True)
        assert result.outside == 50
        assert any("市域外" in line and "50 件を保持" in line for line in result.report)
        stored = conn.execute("SELECT report FROM sources WHERE id = %s", (result.source_id,)).fetchone()[0]
        assert any("--allow-outside" in line for line in (json.loads(stored) if isinstance(stored, str) else stored))


def test_a_wrong_crs_is_refused_even_with_allow_outside(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    path = tmp_path / "lonlat.geojson"
    imari_parcels.to_file(path, driver="GeoJSON", engine="pyogrio")
    message = _refused(scratch_url, path, crs="EPSG:6670", allow_outside=True)
    assert "pass --crs EPSG:6668" in message


def test_no_crs_and_not_lon_lat_names_the_fitting_crs(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    points = imari_parcels.to_crs(6670).representative_point()
    path = tmp_path / "points.csv"
    frame = imari_parcels.drop(columns="geometry").assign(x=points.x, y=points.y)
    frame.to_csv(path, index=False)
    message = _refused(scratch_url, path)
    assert message.startswith("points.csv declares no CRS and is not lon/lat; read as EPSG:6670")
    assert "pass --crs EPSG:6670" in message


def test_outside_japan_names_the_fitting_crs(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    path = tmp_path / "zone2.geojson"
    imari_parcels.to_crs(6670).to_file(path, driver="GeoJSON", engine="pyogrio")
    message = _refused(scratch_url, path, crs="EPSG:4326")
    assert message.startswith("coordinates fall outside Japan") and "pass --crs EPSG:6670" in message


def test_check_is_reported_and_skipped_where_it_cannot_run(db_url: str, empty_url: str, tmp_path: Path) -> None:
    """The bundled load checked every file; the boundaries themselves and an empty database are skipped."""
    with psycopg.connect(db_url) as conn:
        reports = dict(
            conn.execute(
                "SELECT DISTINCT ON (layer_id) layer_id, report::text FROM sources "
                "WHERE layer_id IN ('municipalities', 'farmland') ORDER BY layer_id, id DESC"
            ).fetchall()
        )
    assert "行政区域レイヤ自体の取込" in reports["municipalities"]
    assert "全 20,000 件が市域内" in reports["farmland"]
    frame = gpd.GeoDataFrame({"名称": ["遠い施設"], "種別": ["小学校"]}, geometry=gpd.points_from_xy([131.0], [33.0]))
    path = tmp_path / "far.geojson"
    frame.set_crs(6668).to_file(path, driver="GeoJSON", engine="pyogrio")
    with psycopg.connect(empty_url) as conn:
        result = import_file(conn, "facilities", path, city="41205")
    assert "市域内の確認を省略: 行政区域（municipalities）が未登録" in result.report


def _gis(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "gis", *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=180
    )


def test_cli_prints_one_error_line_and_force_works(scratch_url: str, tmp_path: Path, imari_parcels) -> None:
    path = tmp_path / "lonlat.geojson"
    imari_parcels.to_file(path, driver="GeoJSON", engine="pyogrio")
    wrong = _gis(scratch_url, "import", "farmland", str(path), "--crs", "EPSG:6670", "--replace")
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1
    assert wrong.stderr.startswith("error: the coordinates fall outside 伊万里市 (41205) when read as EPSG:6670")
    shrink = _gis(scratch_url, "import", "farmland", str(path), "--replace")
    assert shrink.returncode == 2 and len(shrink.stderr.strip().splitlines()) == 1
    assert shrink.stderr.startswith("error: --replace would change 伊万里市's farmland from 11,000 to 50")
    forced = _gis(scratch_url, "import", "farmland", str(path), "--replace", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "replaced 11000 rows with 50 rows" in forced.stdout and "--force で置換" in forced.stdout


def test_read_file_hints_from_the_bundled_boundaries(tmp_path: Path, imari_parcels) -> None:
    """Without a database the hint uses data/boundaries (the database is used when the importer has one)."""
    from gis.ingest.readers import read_file

    points = imari_parcels.to_crs(6671).representative_point()
    path = tmp_path / "zone3.csv"
    pd_frame = imari_parcels.drop(columns="geometry").assign(x=points.x, y=points.y)
    pd_frame.to_csv(path, index=False)
    with pytest.raises(ImportFailed) as err:
        read_file(path)
    assert "pass --crs EPSG:6671" in err.value.description
    frame, _ = read_file(path, crs="EPSG:6671")
    assert len(frame) == 50
