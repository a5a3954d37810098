"""Sample farmland geometry: blocks of slightly rotated quadrilateral parcels near rural settlements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import Geometry
from shapely.geometry import MultiPolygon, Point

from gis.sample.common import CITIES, Inputs, Town

PADDY, FIELD = 100, 200
PADDY_BLOCK_SHARE = 0.66  # paddy blocks hold more parcels, so this gives about 70 % 田 by count
INLAND_M = 12.0  # parcels keep this far inside the city's land
CLEAR_M = 20.0  # and this far from zoning
RURAL_M = 800.0  # towns closer than this to zoning are "centre" towns: no blocks are anchored on them


@dataclass(frozen=True)
class Block:
    """One block of parcels: its city, anchor town, parcels (metric) and land types."""

    city: str
    town: Town
    parcels: np.ndarray
    land_types: np.ndarray
    near_zoning: bool


def _candidates(rng: np.random.Generator, cx: float, cy: float, paddy: bool) -> np.ndarray:
    """Candidate parcels of one block: a jittered grid, rotated a little, centred at (cx, cy)."""
    if paddy:
        ncol, nrow = int(rng.integers(4, 11)), int(rng.integers(2, 6))
        w0, l0, var = rng.uniform(20, 40), rng.uniform(50, 100), 0.08
        gap_c, gap_r, jitter, shift = 1.5, 5.0, 0.5, 0.0
    else:
        ncol, nrow = int(rng.integers(3, 9)), int(rng.integers(2, 6))
        w0, l0, var = rng.uniform(12, 25), rng.uniform(18, 45), 0.25
        gap_c, gap_r, jitter, shift = 3.0, 4.0, 1.2, 0.5
    # Jitter stays below half of each gap, so parcels of a block can never overlap.
    widths = w0 * rng.uniform(1 - var, 1 + var, ncol)
    lengths = l0 * rng.uniform(1 - var, 1 + var, nrow)
    x0 = np.concatenate([[0.0], np.cumsum(widths + gap_c)[:-1]])
    y0 = np.concatenate([[0.0], np.cumsum(lengths + gap_r)[:-1]])
    xa, ya = np.meshgrid(x0, y0)
    wa, la = np.meshgrid(widths, lengths)
    xa = xa + (rng.uniform(-shift, shift, nrow) * w0)[:, None]  # 畑 rows do not line up
    xa, ya, wa, la = (a.ravel() for a in (xa, ya, wa, la))
    corners = np.stack(
        [
            np.stack([xa, ya], -1),
            np.stack([xa + wa, ya], -1),
            np.stack([xa + wa, ya + la], -1),
            np.stack([xa, ya + la], -1),
        ],
        axis=1,
    )
    corners = corners + rng.uniform(-jitter, jitter, corners.shape)
    corners -= corners.reshape(-1, 2).mean(axis=0)
    angle = np.radians(rng.normal(0, 12) + (90 if rng.random() < 0.3 else 0))
    rot = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    corners = corners @ rot + np.array([cx, cy])
    rings = np.concatenate([corners, corners[:, :1]], axis=1)
    return shapely.polygons(rings)


def blocks(
    inputs: Inputs, rng: np.random.Generator, targets: dict[str, int], zoning_m: Geometry, clear_m: Geometry
) -> list[Block]:
    """Blocks of parcels per city until each city's target count; parcels avoid zoning and clear_m."""
    out: list[Block] = []
    for city in CITIES:
        allowed = (
            inputs.land_m[city].buffer(-INLAND_M).difference(shapely.union_all([zoning_m.buffer(CLEAR_M), clear_m]))
        )
        shapely.prepare(allowed)
        shapely.prepare(zoning_m)
        rural = [t for t in inputs.city_towns(city) if zoning_m.distance(Point(t.x, t.y)) > RURAL_M]
        footprints: list[Geometry] = []
        tree: shapely.STRtree | None = None
        count, tries = 0, 0
        while count < targets[city]:
            for ti in rng.permutation(len(rural)):
                if count >= targets[city]:
                    break
                tries += 1
                if tries > 200 * (targets[city] // 10 + 10):
                    raise RuntimeError(f"farmland: no room for {targets[city]} parcels in {city}")
                town = rural[int(ti)]
                r, a = rng.uniform(150, 1800), rng.uniform(0, 2 * np.pi)
                cx, cy = town.x + r * np.cos(a), town.y + r * np.sin(a)
                paddy = bool(rng.random() < PADDY_BLOCK_SHARE)
                cand = _candidates(rng, cx, cy, paddy)
                keep = shapely.contains(allowed, cand) & (rng.random(len(cand)) > 0.1)
                if tree is not None and keep.any():
                    idx = np.flatnonzero(keep)
                    hit = tree.query(cand[idx], predicate="intersects")[0]
                    keep[idx[np.unique(hit)]] = False
                if keep.sum() < 3:
                    continue
                kept = cand[keep][: targets[city] - count]
                types = np.where(rng.random(len(kept)) < (0.05 if paddy else 0.9), FIELD, PADDY)
                footprints.append(MultiPolygon(list(kept)).convex_hull.buffer(4))
                tree = shapely.STRtree(footprints)
                near = bool(zoning_m.distance(Point(cx, cy)) < 1000)
                out.append(Block(city, town, kept, types, near))
                count += len(kept)
    return out
