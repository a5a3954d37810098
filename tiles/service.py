"""The tile service: validation, strong ETags from layer versions + z/x/y, 304s, the cache and gzip (no web types)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from gis.catalog import layer_or_404
from gis.errors import InvalidParameter
from gis.etag import live_bucket, matches
from gis.packing import pack
from gis.runtime import Runtime
from layers import LAYERS
from tiles.sql import MAX_ZOOM, combined_sql, in_zoom, layer_mvt_sql, layers_at

MVT = "application/vnd.mapbox-vector-tile"
ALL = "all"  # the combined tile: every layer with tiles at that zoom
# Part of every ETag: bump it when the tile SQL changes (extent, simplification, properties) so that clients and
# HTTP caches do not keep tiles built by the old rules.
TILE_RULES = "mvt-2"
_NUM = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class TileAnswer:
    """What to send: 200 with bytes, 204 for an empty tile, 304 for a matching ETag."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    """z/x/y as integers; InvalidParameter (400) for anything that is not a tile of WebMercatorQuad."""
    for name, value in (("z", z), ("x", x), ("y", y)):
        if not _NUM.fullmatch(value):
            raise InvalidParameter(f"{name} must be a non-negative integer, got '{value[:40]}'")
    zi, xi, yi = int(z), int(x), int(y)
    if zi > MAX_ZOOM:
        raise InvalidParameter(f"z must be between 0 and {MAX_ZOOM}, got {zi}")
    n = 1 << zi
    if xi >= n or yi >= n:
        raise InvalidParameter(f"x and y must be between 0 and {n - 1} at zoom {zi}, got x={xi}, y={yi}")
    return zi, xi, yi


def tile_etag(name: str, tag: tuple[tuple[str, int], ...], z: int, x: int, y: int) -> str:
    """The tile's ETag value (unquoted, without the encoding suffix): tile rules, layer versions, z/x/y."""
    # Every part is a declared layer id or an integer, so plain text is unambiguous (and 3x cheaper than JSON).
    return hashlib.blake2b(f"{TILE_RULES}|{name}|{tag}|{z}/{x}/{y}".encode(), digest_size=12).hexdigest()


@lru_cache(maxsize=512)
def _sql(name: str, z: int) -> str:
    if name == ALL:
        return combined_sql(layers_at(z), z)
    return layer_mvt_sql(LAYERS[name], z)


async def tile(
    rt: Runtime, name: str, z: int, x: int, y: int, *, gzip_ok: bool, if_none_match: str | None
) -> TileAnswer:
    """One tile of a layer (or of every layer, name 'all'): 304, cached bytes, or built by PostGIS."""
    if name == ALL:
        layers = layers_at(z)
        seconds = min((la.cache_seconds for la in layers), default=60)
    else:
        layer = layer_or_404(name)
        layers = [layer] if in_zoom(layer, z) else []
        seconds = layer.cache_seconds
    tag = rt.versions.snapshot(tuple(la.id for la in layers))
    control = f"public, max-age={seconds}, stale-while-revalidate={seconds}"
    live = [la for la in layers if la.live]
    if live:
        # Live state changes without a new version: the tile is keyed on a time bucket and kept only to its end.
        bucket, left = live_bucket(seconds)
        tag += tuple(rt.cache.clock(f"{la.id}:{seconds}", bucket) for la in live)
        control = f"public, max-age={left}"
    # Each encoding is its own representation with its own strong ETag; clients that accept gzip always get gzip.
    base = tile_etag(name, tag, z, x, y)
    etag = f'"{base}-gz"' if gzip_ok else f'"{base}"'
    headers = {
        "ETag": etag,
        "Cache-Control": control,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    if matches(if_none_match, etag):
        return TileAnswer(304, headers)
    if not layers:  # outside the layer's zoom range: empty, not an error (TileJSON gives the range)
        return TileAnswer(204, headers)

    async def build() -> bytes:
        async with rt.public_conn() as conn:
            return bytes(await conn.fetchval(_sql(name, z), z, x, y))

    key = ("tile", name, tag, z, x, y)
    body = await rt.cache.get_or_build(key, build, tag=tag)
    if not body:
        return TileAnswer(204, headers)
    if not gzip_ok:
        return TileAnswer(200, headers, body)

    async def gzipped() -> bytes:
        return pack(body)

    packed = await rt.cache.get_or_build((*key, "gz"), gzipped, tag=tag)
    # Already compressed: GZipMiddleware passes responses with a Content-Encoding through untouched.
    return TileAnswer(200, {**headers, "Content-Encoding": "gzip"}, packed)
