"""MVT SQL built from the layer declarations: PostGIS clips, quantises and encodes every tile."""

from __future__ import annotations

import math
from collections.abc import Iterable

from gis.geo import MERCATOR_SRID, STORAGE_SRID
from gis.sql import lit, q
from layers import LAYERS
from layers.base import Col, Layer, published_sql

MAX_ZOOM = 22
EXTENT = 4096  # tile units per side from DETAIL_ZOOM on (the MVT default)
# Below DETAIL_ZOOM a tile is drawn at most 1,024 device pixels wide (a 512-px tile on a 2× screen), so 1,024
# units lose nothing visible; ST_AsMVTGeom snaps to the unit grid and simplifies at half a unit, which is what keeps
# low-zoom tiles small.
LOW_EXTENT = 1024
DETAIL_ZOOM = 14
BUFFER_FRACTION = 1 / 64  # clip margin (64 units at 4096), so strokes show no seams at tile edges
# Polygons narrower and lower than 1/256 of the tile (one pixel of a 256-px tile, two CSS pixels in MapLibre's
# 512-px tiles) are dropped before they are transformed and encoded.
MIN_FEATURE_FRACTION = 1 / 256
# Mercator stretches latitude by 1/cos(lat): at the service area's 33.25°N the same pixel is 0.84 degrees-of-
# longitude tall.
LAT_FACTOR = math.cos(math.radians(33.25))

# The feature budget below DETAIL_ZOOM: a tile that would hold more features of one layer keeps the largest ones
# (by bounding box; points by id), like tippecanoe's drop-smallest-as-needed. The bench's 20,000 synthetic zoning
# cells (and the noise/vibration zones derived from them) stay under 160 KiB per tile with it; real zoning (76
# polygons) never reaches it.
LOW_ZOOM_FEATURES = 2000

# Column types MVT has no value type for go out as text (jsonb would be expanded into extra properties).
AS_TEXT = {"date", "timestamptz", "json"}


def zoom_range(layer: Layer) -> tuple[int, int]:
    """The zooms at which the layer is served as tiles (from its declaration)."""
    return max(0, layer.min_zoom), min(MAX_ZOOM, layer.max_zoom)


def in_zoom(layer: Layer, z: int) -> bool:
    """True when the layer has tiles at zoom z."""
    lo, hi = zoom_range(layer)
    return lo <= z <= hi


def tile_properties(layer: Layer) -> list[Col | str]:
    """What a tile feature carries: the layer's tile columns (default every published one), city_code and sample."""
    cols = layer.output_columns
    if layer.tile_columns is not None:
        cols = [c for c in cols if c.name in layer.tile_columns]
    return [*cols, "city_code", "sample"]


def extent_for(z: int) -> int:
    """Tile units per side at zoom z."""
    return EXTENT if z >= DETAIL_ZOOM else LOW_EXTENT


def _prop_sql(c: Col | str) -> str:
    if isinstance(c, str):
        return f"t.{q(c)}"
    if c.type == "timestamptz":
        return f"{published_sql(c, 't')} AS {q(c.name)}"
    if c.type in AS_TEXT:
        return f"t.{q(c.name)}::text AS {q(c.name)}"
    return f"t.{q(c.name)}"


def _box_size(axis: str) -> str:
    return f"(ST_{axis}Max(t.geom::box2d) - ST_{axis}Min(t.geom::box2d))"


def layer_mvt_sql(layer: Layer, z: int) -> str:
    """One layer's MVT for tile ($1, $2, $3) = (z, x, y), y from the north; empty bytea when no feature."""
    extent = extent_for(z)
    buffer = int(extent * BUFFER_FRACTION)
    cols = ", ".join(_prop_sql(c) for c in tile_properties(layer))
    names = ", ".join(f"c.{q(c if isinstance(c, str) else c.name)}" for c in tile_properties(layer))
    # The envelope goes to the storage SRID, never the column, so the GiST index answers `&&`.
    where = f"t.geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => {BUFFER_FRACTION!r}), {STORAGE_SRID})"
    order = "t.id"
    if layer.geom_type != "POINT":
        w = MIN_FEATURE_FRACTION * 360.0 / 2**z
        # Only the box stored with each geometry is read: dropped polygons are never detoasted or transformed.
        where += f" AND ({_box_size('X')} >= {w!r} OR {_box_size('Y')} >= {w * LAT_FACTOR!r})"
        order = f"{_box_size('X')} * {_box_size('Y')} DESC, t.id"
    # Big layers store their geometry in Web Mercator too (layers.base.define_table): no projection per tile.
    rows = f"SELECT t.id, {cols}, t.{layer.mercator_column or 'geom'} AS geom FROM {layer.relation()} t WHERE {where}"
    if z < DETAIL_ZOOM:
        # The feature budget: where a low-zoom tile would hold more, the largest features are kept.
        rows += f" ORDER BY {order} LIMIT {LOW_ZOOM_FEATURES}"
    # ST_AsMVT skips rows whose geometry clipped away (NULL) and returns '' when none is left. (No outer
    # `WHERE geom IS NOT NULL`: the planner would inline the subquery and run ST_AsMVTGeom twice.)
    return (
        f"SELECT COALESCE(ST_AsMVT(m, {lit(layer.id)}, {extent}, 'geom', 'id'), ''::bytea) FROM ("
        f"SELECT c.id, {names}, "
        f"ST_AsMVTGeom({'c.geom' if layer.mercator_column else f'ST_Transform(c.geom, {MERCATOR_SRID})'}, "
        f"ST_TileEnvelope($1, $2, $3), {extent}, {buffer}, true) "
        "AS geom "
        f"FROM ({rows}) c) m"
    )


def combined_sql(layers: Iterable[Layer], z: int) -> str:
    """One tile holding every given layer as its own MVT layer (encoded MVT layers concatenate)."""
    parts = [f"({layer_mvt_sql(layer, z)})" for layer in layers]
    return "SELECT " + (" || ".join(parts) if parts else "''::bytea")


def layers_at(z: int) -> list[Layer]:
    """Every layer with tiles at zoom z, in declaration order (private columns never reach a layer table)."""
    return [layer for layer in LAYERS.values() if in_zoom(layer, z)]
