"""Coordinate reference systems and bounds used everywhere: storage, metric work, web output, Japan."""

from __future__ import annotations

from functools import cache

from pyproj import Transformer

STORAGE_SRID = 6668  # JGD2011 geographic: every layer's geom
METRIC_SRID = 6670  # JGD2011 平面直角座標系 第II系 (Saga): distances, areas, buffers
WEB_SRID = 4326  # GeoJSON output (within a metre of JGD2011 here: no datum shift needed)
MERCATOR_SRID = 3857  # vector tiles
GEOGRAPHIC_SRIDS = frozenset({WEB_SRID, STORAGE_SRID})
# Japan, generously (lon0, lat0, lon1, lat1): anything outside had the wrong CRS or swapped axes.
JAPAN_BOUNDS = (122.0, 20.0, 154.0, 46.0)
# Degrees per metre, generously (1° of longitude at 33.4°N is ~93 km): index boxes grown by this never miss.
DEG_PER_M = 1 / 80_000


def in_japan(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """True when a lon/lat box lies inside JAPAN_BOUNDS."""
    x0, y0, x1, y1 = JAPAN_BOUNDS
    return x0 <= minx and maxx <= x1 and y0 <= miny and maxy <= y1


@cache
def transformer(source: int | str, target: int | str) -> Transformer:
    """A cached lon/lat-ordered (always_xy) transformer between two CRSs."""
    return Transformer.from_crs(source, target, always_xy=True)
