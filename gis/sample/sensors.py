"""Sample inundation sensors (浸水センサ) in Takeo's low land and along Imari's 伊万里川, with a current state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point

from gis.sample.common import IMARI, PREFIX, TAKEO, Inputs, feature, lonlat_of, point_near, to_metric

JST = timezone(timedelta(hours=9))
AS_OF = datetime(2026, 11, 1, 9, 0, tzinfo=JST)  # the fixed "now" of the sample states
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


def _iso(t: datetime) -> str:
    """ISO 8601 with the +09:00 offset."""
    return t.isoformat()


def sensors(inputs: Inputs, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Sample sensor features: mostly dry, 2 wet (Takeo), 2 unknown (one per city)."""
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
    states = ["dry"] * n
    takeo_idx = [i for i, (c, _) in enumerate(spots) if c == TAKEO]
    imari_idx = [i for i, (c, _) in enumerate(spots) if c == IMARI]
    wet = rng.choice(takeo_idx, size=2, replace=False)
    for i in wet:
        states[int(i)] = "wet"
    unknown = [int(rng.choice([i for i in takeo_idx if states[i] == "dry"])), int(rng.choice(imari_idx))]
    for i in unknown:
        states[i] = "unknown"

    out = []
    counters: dict[str, int] = {}
    labels: dict[str, int] = {}
    all_towns = inputs.towns
    for i, (city, p) in enumerate(spots):
        counters[city] = counters.get(city, 0) + 1
        near = min((t for t in all_towns if t.city_code == city), key=lambda t: (t.x - p.x) ** 2 + (t.y - p.y) ** 2)
        labels[near.label] = labels.get(near.label, 0) + 1
        state, kind = states[i], kinds[i]
        depth = None
        if state == "wet":
            kind = TYPES[2] if kind == TYPES[1] else kind  # a wet 40 cm float would need 40 cm of water
            depth = 10 if kind == TYPES[0] else int(rng.choice([10, 20, 30]))
            since = AS_OF - timedelta(minutes=int(rng.integers(25, 91)))
            last = AS_OF - timedelta(minutes=int(rng.integers(0, 10)))
        elif state == "unknown":
            last = AS_OF - timedelta(days=1, hours=int(rng.integers(2, 31)), minutes=int(rng.integers(0, 60)))
            since = last + timedelta(minutes=HEARTBEAT)
        else:
            last = AS_OF - timedelta(minutes=int(rng.integers(0, HEARTBEAT)))
            since = AS_OF - timedelta(days=int(rng.integers(2, 40)), minutes=int(rng.integers(0, 1440)))
        battery = rng.uniform(3.0, 3.12) if state == "unknown" else rng.uniform(3.1, 3.6)
        props = {
            "sensor_id": f"S-{city}-{counters[city]:03d}",
            "name": f"{PREFIX}{near.label} 浸水センサ{labels[near.label]}",
            "vendor": "サンプル",
            "sensor_type": kind,
            "heartbeat_minutes": HEARTBEAT,
            "state": state,
            "state_since": _iso(since),
            "last_seen": _iso(last),
            "depth_cm": depth,
            "battery_v": round(float(battery), 2),
            "sample": True,
            "city_code": city,
        }
        out.append(feature(props, Point(*lonlat_of(p.x, p.y))))
    return sorted(out, key=lambda f: f["properties"]["sensor_id"])
