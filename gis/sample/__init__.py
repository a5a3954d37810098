"""Deterministic generator of SAMPLE data for the layers that have no real open data (伊万里市, 武雄市)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape

from gis.sample import (
    cemeteries,
    facilities,
    farmland,
    farmland_attrs,
    farmland_ledger,
    garbage,
    garbage_calendar,
    garbage_items,
    parks,
    sensors,
    zoning,
)
from gis.sample.common import IMARI, TAKEO, Inputs, Town, load_inputs, rng_for, to_metric, write_csv, write_geojson

DEFAULT_SEED = 41205
N_FARMLAND = 20000
IMARI_SHARE = 0.55  # of the farmland parcels
URBAN_M = 500.0  # towns this close to zoning count as urban (denser garbage points, schools, hospitals)
TAKEO_CENTRE = "武雄町大字武雄"
_CLEAR_M = {"cemeteries": 40.0, "facilities": 60.0, "inundation_sensors": 10.0, "garbage_points": 15.0}

FILES = {
    "imari_zoning": "imari_zoning_sample.geojson",
    "imari_planning_area": "imari_planning_area_sample.geojson",
    "imari_parks": "imari_parks_sample.geojson",
    "cemeteries": "cemeteries_sample.geojson",
    "cemetery_ledger": "cemetery_ledger_sample.csv",
    "facilities": "facilities_sample.geojson",
    "garbage_groups": "garbage_groups_sample.csv",
    "garbage_categories": "garbage_categories_sample.csv",
    "garbage_exceptions": "garbage_exceptions_sample.csv",
    "garbage_items": "garbage_items_sample.csv",
    "garbage_notices": "garbage_notices_sample.csv",
    "garbage_points": "garbage_points_sample.geojson",
    "farmland": "farmland_sample.geojson",
    "farmland_ledger": "farmland_ledger_sample.csv",
    "farmland_crops": "farmland_crops_sample.csv",
    "inundation_sensors": "inundation_sensors_sample.geojson",
}


def _urban(inputs: Inputs, zones_m: dict[str, shapely.Geometry]) -> dict[str, list[Town]]:
    """Towns within URBAN_M of their city's zoning."""
    return {
        c: [t for t in inputs.city_towns(c) if zones_m[c].distance(Point(t.x, t.y)) < URBAN_M] for c in (IMARI, TAKEO)
    }


def _write_garbage_calendar(paths: dict[str, Path]) -> None:
    """The garbage tables that need no geography: categories, exceptions, items, notices."""
    write_csv(paths["garbage_categories"], garbage_calendar.CATEGORY_COLUMNS, garbage_calendar.categories())
    exceptions = garbage_calendar.exceptions(garbage.schedules())
    write_csv(paths["garbage_exceptions"], garbage_calendar.EXCEPTION_COLUMNS, exceptions)
    write_csv(paths["garbage_items"], *garbage_items.item_rows())
    write_csv(paths["garbage_notices"], garbage_calendar.NOTICE_COLUMNS, garbage_calendar.notices())


def generate(data_dir: Path, out_dir: Path, seed: int = DEFAULT_SEED, n_farmland: int = N_FARMLAND) -> dict[str, Path]:
    """Write every sample file into out_dir and return {name: path}; same seed → byte-identical files."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / file for name, file in FILES.items()}
    inputs = load_inputs(data_dir)
    towns = {t.oaza + t.koaza: t for t in inputs.towns}
    centre = {IMARI: towns[zoning.CENTRE_TOWN], TAKEO: towns[TAKEO_CENTRE]}

    imari_zones = zoning.imari_zoning(inputs, rng_for(seed, "zoning"))
    write_geojson(paths["imari_zoning"], "imari_zoning_sample", zoning.zoning_features(imari_zones))
    plan = zoning.planning_area(inputs, imari_zones)
    write_geojson(paths["imari_planning_area"], "imari_planning_area_sample", zoning.planning_features(plan))

    zones = {IMARI: imari_zones, TAKEO: list(zip(inputs.takeo_zoning_names, inputs.takeo_zoning_ll, strict=True))}
    zones_m = {c: to_metric(shapely.union_all([g for _, g in z])) for c, z in zones.items()}
    urban = _urban(inputs, zones_m)

    park_rows = parks.imari_parks(inputs, rng_for(seed, "parks"), centre[IMARI])
    write_geojson(paths["imari_parks"], "imari_parks_sample", parks.park_features(park_rows))
    points: dict[str, list[dict[str, Any]]] = {
        "cemeteries": cemeteries.cemeteries(inputs, rng_for(seed, "cemeteries")),
        "facilities": facilities.facilities(inputs, rng_for(seed, "facilities"), zones, urban),
        "inundation_sensors": sensors.sensors(inputs, rng_for(seed, "sensors")),
    }
    rng = rng_for(seed, "garbage")
    group_of = garbage.town_groups(inputs, centre, urban)
    write_csv(paths["garbage_groups"], garbage.GROUP_COLUMNS, garbage.groups(group_of))
    points["garbage_points"] = garbage.points(inputs, rng, group_of, urban)
    _write_garbage_calendar(paths)
    write_csv(paths["cemetery_ledger"], cemeteries.LEDGER_COLUMNS, cemeteries.ledger_rows(points["cemeteries"], inputs))
    for name, features in points.items():
        if name == "facilities":
            features = [f for f in features if f["properties"]["facility_type"] not in facilities.REAL_KINDS]
        write_geojson(paths[name], FILES[name].removesuffix(".geojson"), features)

    # Farmland keeps clear of zoning, parks and the point features (a cemetery is not in a paddy).
    clear = [to_metric(g) for _, g in park_rows]
    clear += [to_metric(shape(f["geometry"])).buffer(_CLEAR_M[name]) for name, fs in points.items() for f in fs]
    rng = rng_for(seed, "farmland")
    n_imari = round(n_farmland * IMARI_SHARE)
    all_zoning_m = shapely.union_all(list(zones_m.values()))
    blocks = farmland.blocks(
        inputs, rng, {IMARI: n_imari, TAKEO: n_farmland - n_imari}, all_zoning_m, shapely.union_all(clear)
    )
    planning = shapely.union_all([plan, inputs.takeo_planning_ll])
    parcels = farmland_attrs.parcels(inputs, rng, blocks, planning)
    write_geojson(paths["farmland"], "farmland_sample", farmland_attrs.features(parcels))
    write_csv(paths["farmland_ledger"], farmland_ledger.LEDGER_COLUMNS, farmland_ledger.ledger_rows(parcels, rng))
    write_csv(paths["farmland_crops"], farmland_ledger.CROP_COLUMNS, farmland_ledger.crop_rows(parcels, rng))
    return paths


__all__ = ["DEFAULT_SEED", "FILES", "N_FARMLAND", "generate"]
