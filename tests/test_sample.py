"""Tests of the deterministic sample-data generator (gis.sample) and of the committed data/sample files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from gis.sample import FILES, generate
from gis.sample.common import load_inputs, to_metric
from gis.sample.zoning import ZONES

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SAMPLE = DATA / "sample"
CITIES = ("41205", "41206")
TOLERANCE = 1e-7  # degrees: the 7-decimal rounding of the output coordinates
SMALL_FARMLAND = 1200


def _features(name: str, folder: Path = SAMPLE) -> list[dict[str, Any]]:
    return json.loads((folder / FILES[name]).read_text(encoding="utf-8"))["features"]


def _ledger() -> list[dict[str, str]]:
    with (SAMPLE / FILES["farmland_ledger"]).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _geoms(features: list[dict[str, Any]]) -> np.ndarray:
    return np.array([shape(f["geometry"]) for f in features], dtype=object)


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(DATA)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for label, seed in (("a", 41205), ("b", 41205), ("c", 7)):
        folder = tmp_path_factory.mktemp(f"sample_{label}")
        generate(DATA, folder, seed=seed, n_farmland=SMALL_FARMLAND)
        out[label] = folder
    return out


@pytest.fixture(scope="module")
def farmland() -> list[dict[str, Any]]:
    return _features("farmland")


@pytest.fixture(scope="module")
def zoning_all(inputs) -> np.ndarray:
    imari = _geoms(_features("imari_zoning"))
    return np.concatenate([imari, np.array(inputs.takeo_zoning_ll, dtype=object)])


def test_same_seed_gives_identical_files(runs: dict[str, Path]) -> None:
    for file in FILES.values():
        assert (runs["a"] / file).read_bytes() == (runs["b"] / file).read_bytes(), file


def test_other_seed_gives_other_farmland(runs: dict[str, Path]) -> None:
    a = (runs["a"] / FILES["farmland"]).read_bytes()
    c = (runs["c"] / FILES["farmland"]).read_bytes()
    assert a != c
    assert len(_features("farmland", runs["c"])) == SMALL_FARMLAND


def test_committed_files_match_the_generator(runs: dict[str, Path]) -> None:
    # Everything but farmland is independent of n_farmland, so the committed files must be reproducible.
    for name, file in FILES.items():
        if not name.startswith("farmland"):
            assert (SAMPLE / file).read_bytes() == (runs["a"] / file).read_bytes(), file


@pytest.mark.parametrize("name", [n for n, f in FILES.items() if f.endswith(".geojson")])
def test_every_feature_is_sample_and_inside_its_city(name: str, inputs) -> None:
    doc = json.loads((SAMPLE / FILES[name]).read_text(encoding="utf-8"))
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::6668"
    features = doc["features"]
    assert features
    codes = np.array([f["properties"]["city_code"] for f in features])
    assert all(f["properties"]["sample"] is True for f in features)
    assert set(codes) <= set(CITIES)
    geoms = _geoms(features)
    for city in CITIES:
        land = inputs.land_ll[city].buffer(TOLERANCE)
        shapely.prepare(land)
        mine = geoms[codes == city]
        assert shapely.contains(land, mine).all(), f"{name}: a {city} feature is outside the city's land"
    for f in features:
        if "name" in f["properties"]:
            assert f["properties"]["name"].startswith("（サンプル）")


def test_farmland_count_uuid_and_zoning(farmland: list[dict[str, Any]], zoning_all: np.ndarray) -> None:
    assert len(farmland) >= 15000
    uuids = [f["properties"]["polygon_uuid"] for f in farmland]
    assert len(set(uuids)) == len(uuids)
    maff = {"polygon_uuid", "land_type", "issue_year", "edit_year", "history", "last_polygon_uuid",
            "prev_last_polygon_uuid", "local_government_cd", "point_lng", "point_lat"}  # fmt: skip
    assert all(set(f["properties"]) == maff | {"sample", "city_code"} for f in farmland)  # polygons only
    keys = [(r["市区町村コード"], r["所在_大字"], r["地番"]) for r in _ledger()]
    assert len(set(keys)) == len(keys)
    parcels = _geoms(farmland)
    tree = shapely.STRtree(parcels)
    hits = tree.query(zoning_all, predicate="intersects")
    assert hits.shape[1] == 0, "farmland intersects a 用途地域 polygon"
    share = np.mean([f["properties"]["land_type"] == 100 for f in farmland])
    assert 0.6 < share < 0.8


def test_farmland_parcels_do_not_overlap(farmland: list[dict[str, Any]]) -> None:
    parcels = to_metric(_geoms(farmland))
    tree = shapely.STRtree(parcels)
    left, right = tree.query(parcels, predicate="intersects")
    pairs = left < right
    areas = shapely.area(shapely.intersection(parcels[left[pairs]], parcels[right[pairs]]))
    assert (areas < 1.0).all(), f"{int((areas >= 1.0).sum())} overlapping parcel pairs"


def test_imari_zoning_names_and_no_overlap() -> None:
    features = _features("imari_zoning")
    assert 25 <= len(features) <= 40
    assert {f["properties"]["youto_name"] for f in features} <= set(ZONES)
    zones = to_metric(_geoms(features))
    tree = shapely.STRtree(zones)
    left, right = tree.query(zones, predicate="intersects")
    pairs = left < right
    assert (shapely.area(shapely.intersection(zones[left[pairs]], zones[right[pairs]])) < 1.0).all()
    plan = shape(_features("imari_planning_area")[0]["geometry"]).buffer(TOLERANCE)
    assert shapely.contains(plan, _geoms(features)).all()


def test_garbage_points_groups_and_distance(inputs) -> None:
    with (SAMPLE / FILES["garbage_groups"]).open(encoding="utf-8") as f:
        groups = {(r["group_id"], r["city_code"]) for r in csv.DictReader(f)}
    points = _features("garbage_points")
    assert 250 <= len(points) <= 350
    for p in points:
        assert (p["properties"]["group_id"], p["properties"]["city_code"]) in groups
    towns = np.array([[t.x, t.y] for t in inputs.towns])
    xy = shapely.get_coordinates(to_metric(_geoms(points)))
    nearest = np.sqrt(((xy[:, None, :] - towns[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    assert (nearest < 2000).all()


def test_private_columns_are_marked() -> None:
    rows = [(f["properties"], ("manager_name", "manager_address")) for f in _features("cemeteries")]
    rows += [(r, ("所有者氏名", "耕作者氏名", "借受者氏名")) for r in _ledger()]
    seen = 0
    for props, cols in rows:
        for col in cols:
            if props[col]:
                assert "見本" in props[col], (col, props[col])
                seen += 1
    assert seen > 0
