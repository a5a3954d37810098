"""Layer declarations: adding a layer is adding one module and listing it here."""

from __future__ import annotations

from layers import (
    bus_routes,
    bus_stops,
    cemeteries,
    construction_areas,
    facilities,
    farmland,
    fire_districts,
    flood_history,
    flood_risk,
    garbage_points,
    inundation_sensors,
    landslide_zones,
    municipalities,
    noise_zones,
    parks,
    planning_areas,
    shelters,
    special_use_districts,
    towns,
    vibration_zones,
    zoning,
)
from layers.base import Layer

# Order matters for loading (derived layers after their source) and for the landing page.
LAYERS: dict[str, Layer] = {
    m.LAYER.id: m.LAYER
    for m in (
        municipalities,
        towns,
        planning_areas,
        zoning,
        special_use_districts,
        fire_districts,
        noise_zones,
        vibration_zones,
        facilities,
        construction_areas,
        parks,
        cemeteries,
        garbage_points,
        farmland,
        inundation_sensors,
        shelters,
        flood_history,
        flood_risk,
        landslide_zones,
        bus_routes,
        bus_stops,
    )
}


def get_layer(layer_id: str) -> Layer:
    """The declared layer; KeyError when unknown."""
    return LAYERS[layer_id]
