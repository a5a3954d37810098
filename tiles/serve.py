"""Tile responses: validation, strong ETags from layer versions + z/x/y, 304s, the tile cache and gzip."""

from __future__ import annotations

import gzip
import hashlib
import re
from functools import lru_cache

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api.deps import public_conn
from api.respond import not_modified
from gis.errors import InvalidParameter
from layers import LAYERS, layer_or_404
from tiles.cache import TileCache
from tiles.sql import MAX_ZOOM, combined_sql, in_zoom, layer_mvt_sql, layers_at

MVT = "application/vnd.mapbox-vector-tile"
ALL = "all"  # the combined tile: every layer with tiles at that zoom
# Part of every ETag: bump it when the tile SQL changes (extent, simplification, properties) so that clients and
# HTTP caches do not keep tiles built by the old rules.
TILE_RULES = "mvt-1"
GZIP_LEVEL = 6
_NUM = re.compile(r"[0-9]{1,9}")


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


def tile_cache(app: FastAPI) -> TileCache:
    """The app's tile cache, created on first use from GIS_TILE_CACHE_MIB (separate from the response cache)."""
    cache = getattr(app.state, "tile_cache", None)
    if cache is None:
        cache = app.state.tile_cache = TileCache(app.state.settings.tile_cache_mib * 1024 * 1024)
    return cache


def tile_etag(name: str, versions: tuple[tuple[str, int], ...], z: int, x: int, y: int) -> str:
    """Strong ETag (without the encoding suffix): the tile rules, every source layer's version and z/x/y."""
    text = f"{TILE_RULES}|{name}|{versions}|{z}/{x}/{y}"
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@lru_cache(maxsize=512)
def _sql(name: str, z: int) -> str:
    if name == ALL:
        return combined_sql(layers_at(z), z)
    return layer_mvt_sql(LAYERS[name], z)


async def tile_response(request: Request, name: str, z: int, x: int, y: int) -> Response:
    """One tile of a layer (or of every layer, name 'all'): 304, cached bytes, or built by PostGIS."""
    if name == ALL:
        layers = layers_at(z)
        seconds = min((la.cache_seconds for la in layers), default=60)
    else:
        layer = layer_or_404(name)
        layers = [layer] if in_zoom(layer, z) else []
        seconds = layer.cache_seconds
    state = request.app.state
    cache = tile_cache(request.app)
    cache.sync(state.versions.versions)
    versions = tuple((la.id, state.versions.get(la.id)) for la in layers)
    # Each encoding is its own representation with its own strong ETag; clients that accept gzip always get gzip.
    gz = "gzip" in request.headers.get("accept-encoding", "")
    base = tile_etag(name, versions, z, x, y)
    etag = f'"{base}-gz"' if gz else f'"{base}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={seconds}, stale-while-revalidate={seconds}",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    if not layers:  # outside the layer's zoom range: empty, not an error (TileJSON gives the range)
        return Response(status_code=204, headers=headers)
    ids = tuple(la.id for la in layers)
    vers = tuple(v for _, v in versions)
    key = f"{base}:{name}/{z}/{x}/{y}"
    body = cache.get(key)
    if body is None:
        async with public_conn(request) as conn:
            body = bytes(await conn.fetchval(_sql(name, z), z, x, y))
        cache.sync(state.versions.versions)  # an import may have committed meanwhile: then the tile is not kept
        cache.put(key, body, ids, vers)
    if not body:
        return Response(status_code=204, headers=headers)
    if gz:
        packed = cache.get(key + ":gz")
        if packed is None:
            packed = gzip.compress(body, GZIP_LEVEL, mtime=0)
            cache.put(key + ":gz", packed, ids, vers)
        # Already compressed: GZipMiddleware passes responses with a Content-Encoding through untouched.
        return Response(packed, media_type=MVT, headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, media_type=MVT, headers=headers)
