"""Sample inundation sensors (浸水センサ) in Takeo's low land and along Imari's 伊万里川: the installations only.

Readings are live data: `gis load` gives every sensor its datastreams and a state row with no message yet, so each
shows `unknown` until a reading arrives (`gis sensors simulate` posts realistic ones to a running service).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely.geometry import LineString, Point

from gis.sample.common import IMARI, PREFIX, TAKEO, Inputs, feature, lonlat_of, point_near, to_metric

HEARTBEAT = 60
TYPES = ["フロート式10cm", "フロート式40cm", "段階式10-20-30cm"]

# Takeo: town → sensors; the 武雄川/六角川 low land around the centre and 朝日町/北方町/橘町 to the east.
_TAKEO_TOWNS = {
    "武雄町大字武雄": 3,
    "武雄町大字昭和": 2,
    "武雄町大字永島": 2,
    "武雄町大字富岡": 1,
    "朝日町大字甘久": 1,
    "朝日町大字芦原": 1,
    "朝日町大字中野": 1,
    "北方町大字大崎": 1,
    "北方町大字志久": 1,
    "北方町大字芦原": 1,
    "北方町大字大渡": 1,
    "橘町大字片白": 1,
}
# Imari: an approximate course of the 伊万里川 from 大川内 through 立花 and the centre to the bay (lon, lat).
_IMARI_RIVER = [
    (129.8936, 33.2520),
    (129.8818, 33.2612),
    (129.8790, 33.2680),
    (129.8770, 33.2740),
    (129.8650, 33.2830),
    (129.8560, 33.2900),
]
_IMARI_COUNT = 8


def sensors(inputs: Inputs, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Sample sensor features (Things): place, name, vendor, type (10/40 cm float or step sensor), heartbeat."""
    spots: list[tuple[str, Point]] = []
    land = {c: inputs.land_m[c].buffer(-10) for c in (IMARI, TAKEO)}
    towns = {t.oaza: t for t in inputs.city_towns(TAKEO)}
    for oaza, n in _TAKEO_TOWNS.items():
        t = towns[oaza]
        spots += [(TAKEO, point_near(rng, t.x, t.y, 60, 700, land[TAKEO])) for _ in range(n)]
    river = to_metric(LineString(_IMARI_RIVER))
    for k in range(_IMARI_COUNT):
        p = river.interpolate((k + rng.uniform(0.2, 0.8)) / _IMARI_COUNT, normalized=True)
        spots.append((IMARI, point_near(rng, p.x, p.y, 10, 60, land[IMARI])))

    n = len(spots)
    kinds = [TYPES[int(i)] for i in rng.choice(3, size=n, p=[0.4, 0.3, 0.3])]
    # In two of Takeo's lowest spots a 40 cm float would miss shallow water: a step sensor stands there instead.
    takeo_idx = [i for i, (c, _) in enumerate(spots) if c == TAKEO]
    for i in rng.choice(takeo_idx, size=2, replace=False):
        if kinds[int(i)] == TYPES[1]:
            kinds[int(i)] = TYPES[2]

    out = []
    counters: dict[str, int] = {}
    labels: dict[str, int] = {}
    all_towns = inputs.towns
    for i, (city, p) in enumerate(spots):
        counters[city] = counters.get(city, 0) + 1
        near = min((t for t in all_towns if t.city_code == city), key=lambda t: (t.x - p.x) ** 2 + (t.y - p.y) ** 2)
        labels[near.label] = labels.get(near.label, 0) + 1
        props = {
            "sensor_id": f"S-{city}-{counters[city]:03d}",
            "name": f"{PREFIX}{near.label} 浸水センサ{labels[near.label]}",
            "vendor": "サンプル",
            "sensor_type": kinds[i],
            "heartbeat_minutes": HEARTBEAT,
            "sample": True,
            "city_code": city,
        }
        out.append(feature(props, Point(*lonlat_of(p.x, p.y))))
    return sorted(out, key=lambda f: f["properties"]["sensor_id"])
