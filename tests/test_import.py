"""`gis import`: every format and CRS round-trips; a bad file changes nothing; --replace swaps atomically."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from gis.errors import ImportFailed
from gis.ingest.importer import import_file

# A spot inside Takeo's 商業地域 area, and its plane-rectangular (zone II) coordinates.
LON, LAT = 130.0195, 33.1935
TO_6670 = Transformer.from_crs(6668, 6670, always_xy=True)
TO_6668 = Transformer.from_crs(6670, 6668, always_xy=True)


def _facility_frame(crs: int = 6668) -> gpd.GeoDataFrame:
    x, y = (LON, LAT) if crs == 6668 else TO_6670.transform(LON, LAT)
    return gpd.GeoDataFrame(
        {"名称": ["試験小学校"], "種別": ["小学校"], "city_code": ["41206"]}, geometry=[Point(x, y)], crs=crs
    )


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        out = frame.drop(columns="geometry").assign(x=frame.geometry.x, y=frame.geometry.y)
        out.to_csv(path, index=False)
    elif suffix == ".zip":
        shp_dir = path.with_suffix("")
        shp_dir.mkdir()
        frame.to_file(shp_dir / "layer.shp", engine="pyogrio", encoding="utf-8")
        with zipfile.ZipFile(path, "w") as z:
            for f in shp_dir.iterdir():
                z.write(f, f.name)
    else:
        driver = {".geojson": "GeoJSON", ".shp": "ESRI Shapefile", ".gpkg": "GPKG"}[suffix]
        frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def _point(conn: psycopg.Connection, name: str) -> tuple[float, float]:
    return conn.execute(
        "SELECT ST_X(geom), ST_Y(geom) FROM facilities WHERE name = %s ORDER BY id DESC LIMIT 1", (name,)
    ).fetchone()


def _snapshot(conn: psycopg.Connection, table: str) -> tuple:
    """Count, checksum and version of a table: what a failed import must leave untouched."""
    row = conn.execute(
        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t"
    ).fetchone()
    version = conn.execute("SELECT version FROM layer_state WHERE layer_id = %s", (table,)).fetchone()
    return (*row, version)


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".zip", ".gpkg", ".csv"])
@pytest.mark.parametrize("crs", [6668, 6670])
def test_formats_and_crs_round_trip(scratch_url: str, tmp_path: Path, suffix: str, crs: int) -> None:
    path = _write(_facility_frame(crs), tmp_path / f"f{suffix}")
    with psycopg.connect(scratch_url) as conn:
        # CSV carries no CRS: the projected case must be declared, the lon/lat case is recognised.
        declared = f"EPSG:{crs}" if suffix == ".csv" and crs != 6668 else None
        result = import_file(conn, "facilities", path, crs=declared)
        assert result.rows == 1 and result.cities == ["41206"]
        x, y = _point(conn, "試験小学校")
    # Within 1 mm: compare in metres in the plane-rectangular system.
    ex, ey = TO_6670.transform(LON, LAT)
    gx, gy = TO_6670.transform(x, y)
    assert abs(gx - ex) < 0.001 and abs(gy - ey) < 0.001


def test_6670_zoning_shapefile_replace(scratch_url: str, tmp_path: Path) -> None:
    """A zoning Shapefile in EPSG:6670 with MLIT column names replaces Takeo's zoning in one swap."""
    x, y = TO_6670.transform(LON, LAT)
    frame = gpd.GeoDataFrame(
        {
            "YoutoName": ["商業地域", "第１種住居地域"],
            "BCR": [80, 60],
            "FAR": [400, 200],
            "Citycode": ["41206", "41206"],
        },
        geometry=[box(x - 100, y - 100, x + 100, y + 100), box(x + 100, y - 100, x + 300, y + 100)],
        crs=6670,
    )
    path = _write(frame, tmp_path / "youto.shp")
    with psycopg.connect(scratch_url) as conn:
        imari_before = _snapshot_city(conn, "zoning", "41205")
        # 2 polygons for Takeo's 40: a shrinking --replace, so it is forced.
        result = import_file(conn, "zoning", path, replace=True, force=True)
        assert result.rows == 2 and result.replaced == 40
        rows = conn.execute(
            "SELECT youto_name, youto_code, kenpei, yoseki, ST_Area(ST_Transform(geom, 6670)) FROM zoning "
            "WHERE city_code = '41206' ORDER BY youto_code"
        ).fetchall()
        assert [r[:4] for r in rows] == [("第1種住居地域", 5, 60, 200), ("商業地域", 9, 80, 400)]
        assert all(abs(r[4] - 40000) < 1 for r in rows)
        assert _snapshot_city(conn, "zoning", "41205") == imari_before
        # Derived noise zones follow in the same transaction.
        noise = conn.execute(
            "SELECT youto_name, zone_class FROM noise_zones WHERE city_code = '41206' ORDER BY zone_class"
        ).fetchall()
        assert noise == [("第1種住居地域", "第2種"), ("商業地域", "第3種")]


def _snapshot_city(conn: psycopg.Connection, table: str, city: str) -> tuple:
    return conn.execute(
        f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM {table} t WHERE city_code = %s", (city,)
    ).fetchone()


def _bad_files(tmp: Path) -> dict[str, tuple[str, Path, dict]]:
    """Each bad input: (layer, file, extra kwargs)."""
    good = _facility_frame()
    cases: dict[str, tuple[str, Path, dict]] = {}
    cases["unknown layer"] = ("roads", _write(good, tmp / "a.geojson"), {})
    cases["missing required column"] = (
        "zoning",
        _write(
            gpd.GeoDataFrame({"BCR": [60], "city_code": ["41206"]}, geometry=[box(130, 33.19, 130.01, 33.2)], crs=6668),
            tmp / "b.geojson",
        ),
        {"replace": True},
    )
    cases["unknown CRS"] = ("facilities", _write(good, tmp / "c.geojson"), {"crs": "EPSG:999999", "replace": True})
    broken = tmp / "d.geojson"
    broken.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": '
        '"Polygon", "coordinates": [[1, 2]]}, "properties": {}}]}'
    )
    cases["unreadable geometry"] = ("zoning", broken, {"replace": True})
    nogeom = tmp / "e.geojson"
    nogeom.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": None,
                        "properties": {"youto_name": "商業地域", "city_code": "41206"},
                    }
                ],
            }
        )
    )
    cases["missing geometry"] = ("zoning", nogeom, {"replace": True})
    cases["wrong type"] = (
        "zoning",
        _write(
            gpd.GeoDataFrame(
                {"youto_name": ["商業地域"], "kenpei": ["八十"], "city_code": ["41206"]},
                geometry=[box(130, 33.19, 130.01, 33.2)],
                crs=6668,
            ),
            tmp / "f.geojson",
        ),
        {"replace": True},
    )
    swapped = _facility_frame()
    swapped.geometry = [Point(LAT, LON)]
    cases["swapped lat/lon"] = ("facilities", _write(swapped, tmp / "g.geojson"), {"replace": True})
    point_zone = _facility_frame().assign(youto_name="商業地域")
    cases["wrong geometry type"] = ("zoning", _write(point_zone, tmp / "h.geojson"), {"replace": True})
    cases["unknown city"] = (
        "facilities",
        _write(good.drop(columns="city_code"), tmp / "i.geojson"),
        {"city": "13101", "replace": True},
    )
    not_geo = tmp / "j.geojson"
    not_geo.write_text("this is not JSON")
    cases["not a geo file"] = ("zoning", not_geo, {"replace": True})
    cases["missing file"] = ("zoning", tmp / "nope.gpkg", {"replace": True})
    cases["unsupported type"] = ("zoning", tmp / "k.xlsx", {"replace": True})
    return cases


@pytest.mark.parametrize(
    "case",
    [
        "unknown layer",
        "missing required column",
        "unknown CRS",
        "unreadable geometry",
        "missing geometry",
        "wrong type",
        "swapped lat/lon",
        "wrong geometry type",
        "unknown city",
        "not a geo file",
        "missing file",
        "unsupported type",
    ],
)
def test_bad_import_changes_nothing(scratch_url: str, tmp_path: Path, case: str) -> None:
    layer, path, kwargs = _bad_files(tmp_path)[case]
    with psycopg.connect(scratch_url) as conn:
        before = {t: _snapshot(conn, t) for t in ("zoning", "facilities", "noise_zones")}
        sources = conn.execute("SELECT count(*) FROM sources").fetchone()
        with pytest.raises(ImportFailed) as err:
            import_file(conn, layer, path, **kwargs)
        assert err.value.description and "\n" not in err.value.description
        assert "psycopg" not in err.value.description and "SQL" not in err.value.description
        assert {t: _snapshot(conn, t) for t in before} == before
        assert conn.execute("SELECT count(*) FROM sources").fetchone() == sources


def test_error_mid_transaction_rolls_back(scratch_url: str, tmp_path: Path) -> None:
    """A failure after the old rows were deleted (here: a constraint at insert) restores them."""
    frame = gpd.GeoDataFrame(
        {"youto_name": ["商業地域"], "city_code": ["41206"]}, geometry=[box(130.0, 33.19, 130.01, 33.2)], crs=6668
    )
    path = _write(frame, tmp_path / "z.geojson")
    with psycopg.connect(scratch_url) as conn:
        before = _snapshot(conn, "zoning")
        conn.execute("ALTER TABLE zoning ADD CONSTRAINT no_commerce CHECK (youto_name <> '商業地域') NOT VALID")
        conn.commit()
        with pytest.raises(psycopg.errors.CheckViolation):
            import_file(conn, "zoning", path, replace=True, force=True)
        conn.rollback()
        assert _snapshot(conn, "zoning") == before


def test_invalid_geometry_is_repaired_and_reported(scratch_url: str, tmp_path: Path) -> None:
    bowtie = Polygon([(130.0, 33.19), (130.01, 33.2), (130.01, 33.19), (130.0, 33.2), (130.0, 33.19)])
    frame = gpd.GeoDataFrame({"youto_name": ["準工業地域"], "city_code": ["41206"]}, geometry=[bowtie], crs=6668)
    path = _write(frame, tmp_path / "bowtie.geojson")
    with psycopg.connect(scratch_url) as conn:
        result = import_file(conn, "zoning", path)
        assert any("修復" in line for line in result.report)
        valid, parts = conn.execute(
            "SELECT bool_and(ST_IsValid(geom)), max(ST_NumGeometries(geom)) FROM zoning WHERE source_id = %s",
            (result.source_id,),
        ).fetchone()
        assert valid and parts == 2


def test_private_columns_go_to_private_schema(scratch_url: str, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"名称": ["試験墓地"], "経営主体区分": ["宗教法人"], "管理者": ["見本 次郎"], "city_code": ["41206"]},
        geometry=[Point(LON, LAT)],
        crs=6668,
    )
    path = _write(frame, tmp_path / "cem.geojson")
    with psycopg.connect(scratch_url) as conn:
        result = import_file(conn, "cemeteries", path)
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'cemeteries'"
            ).fetchall()
        ]
        assert "manager_name" not in cols
        name = conn.execute(
            "SELECT m.manager_name FROM private.cemetery_managers m JOIN cemeteries c ON c.id = m.cemetery_id "
            "WHERE c.source_id = %s",
            (result.source_id,),
        ).fetchone()
        assert name == ("見本 次郎",)


def test_plateau_fractions_and_unknown_dates(empty_url: str, tmp_path: Path) -> None:
    """PLATEAU rates are fractions (0.6 → 60 %); validFrom 0001-01-01 and height 0 mean unknown/none."""
    frame = gpd.GeoDataFrame(
        {
            "function_name": ["第一種低層住居専用地域"],
            "buildingCoverageRate": [0.5],
            "floorAreaRate": [0.8],
            "buildingHeightLimits": [0.0],
            "validFrom": ["0001-01-01"],
            "city": ["41206"],
        },
        geometry=[box(130.0, 33.19, 130.01, 33.2)],
        crs=6668,
    )
    path = _write(frame, tmp_path / "p.geojson")
    with psycopg.connect(empty_url) as conn:
        import_file(conn, "zoning", path)
        row = conn.execute("SELECT youto_name, kenpei, yoseki, height_limit_m, decision_date FROM zoning").fetchone()
    assert row == ("第1種低層住居専用地域", 50, 80, None, None)


def test_swapped_bcr_far_is_fixed_and_logged(empty_url: str, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"YoutoName": ["商業地域"], "BCR": [400], "FAR": [80], "Citycode": ["41206"]},
        geometry=[box(130.0, 33.19, 130.01, 33.2)],
        crs=6668,
    )
    path = _write(frame, tmp_path / "s.geojson")
    with psycopg.connect(empty_url) as conn:
        result = import_file(conn, "zoning", path)
        assert conn.execute("SELECT kenpei, yoseki FROM zoning").fetchone() == (80, 400)
    assert any("入れ替え" in line for line in result.report)


def test_progress_is_reported(empty_url: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    path = _write(_facility_frame(), tmp_path / "p.gpkg")
    with psycopg.connect(empty_url) as conn:
        import_file(conn, "facilities", path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (1, 1)


def test_shift_jis_shapefile_without_cpg(empty_url: str, tmp_path: Path) -> None:
    """Japanese Shapefiles often come in Shift_JIS with no .cpg file."""
    frame = gpd.GeoDataFrame(
        {"YoutoName": ["近隣商業地域"], "BCR": [80], "FAR": [200]}, geometry=[box(130.0, 33.19, 130.01, 33.2)], crs=6668
    )
    frame.to_file(tmp_path / "sjis.shp", engine="pyogrio", encoding="cp932")
    (tmp_path / "sjis.cpg").unlink(missing_ok=True)
    with psycopg.connect(empty_url) as conn:
        import_file(conn, "zoning", tmp_path / "sjis.shp", city="41206")
        assert conn.execute("SELECT youto_name FROM zoning").fetchone() == ("近隣商業地域",)


def test_legal_low_far_is_not_swapped(empty_url: str, tmp_path: Path) -> None:
    """建ぺい率 60 % with 容積率 50 % is legal in 第1種低層: reported, not changed."""
    frame = gpd.GeoDataFrame(
        {"YoutoName": ["第1種低層住居専用地域"], "BCR": [60], "FAR": [50], "Citycode": ["41206"]},
        geometry=[box(130.0, 33.19, 130.01, 33.2)],
        crs=6668,
    )
    path = _write(frame, tmp_path / "low.geojson")
    with psycopg.connect(empty_url) as conn:
        result = import_file(conn, "zoning", path)
        assert conn.execute("SELECT kenpei, yoseki FROM zoning").fetchone() == (60, 50)
    assert any("要確認" in line for line in result.report)
