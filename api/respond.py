"""Conditional responses: strong ETags from layer version + request, 304s, Cache-Control, the response cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

from fastapi import Request
from fastapi.responses import Response

from api.compress import accepts_gzip
from api.deps import get_runtime
from gis.cache import Cached
from gis.etag import live_bucket, make_etag, matches
from gis.packing import MIN_BYTES, pack
from layers.base import Layer

Key = tuple[Hashable, ...]


def canonical_query(request: Request, drop: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The raw (name, value) pairs, sorted: equivalent requests share a key; different ones never do."""
    return tuple(sorted((k, v) for k, v in request.query_params.multi_items() if k not in drop))


def not_modified(request: Request, etag: str) -> bool:
    """True when If-None-Match names this ETag (or *)."""
    return matches(request.headers.get("if-none-match"), etag)


def cache_headers(layer: Layer, etag: str) -> dict[str, str]:
    """ETag and per-layer Cache-Control (a live layer's answers may be kept only to the end of their time bucket)."""
    seconds = layer.cache_seconds
    if layer.live:
        control = f"public, max-age={live_bucket(seconds)[1]}"
    else:
        control = f"public, max-age={seconds}, stale-while-revalidate={seconds}"
    return {"ETag": etag, "Cache-Control": control, "Vary": "Accept, Accept-Encoding"}


def live_key(layer: Layer, key: Key) -> Key:
    """A representation's key; a live layer's also names the time bucket (its state changes with no new version)."""
    return (*key, ("live", live_bucket(layer.cache_seconds)[0])) if layer.live else key


def layer_etag(request: Request, layer: Layer, key: Key) -> tuple[str, int]:
    """The strong ETag of a representation of this layer, and the version it stands for."""
    version = get_runtime(request).versions.get(layer.id)
    return make_etag(layer.id, version, live_key(layer, key)), version


async def cached_response(
    request: Request,
    layer: Layer,
    key: Key,
    build: Callable[[], Awaitable[Cached]],
    *,
    status: int = 200,
) -> Response:
    """Answer 304 or a cached body when possible, else build (once for concurrent callers), cache and send."""
    rt = get_runtime(request)
    key = live_key(layer, key)  # once: the ETag and the cache entry name the same bucket
    version = rt.versions.get(layer.id)
    etag = make_etag(layer.id, version, key)
    headers = cache_headers(layer, etag)
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    tag: tuple[tuple[str, int], ...] = ((layer.id, version),)
    if layer.live:
        tag += (rt.cache.clock(f"{layer.id}:{layer.cache_seconds}", key[-1][1]),)
    name = ("response", layer.id, version, key)
    item = await rt.cache.get_or_build(name, build, tag=tag)
    headers.update(item.headers)
    if len(item.body) >= MIN_BYTES and accepts_gzip(request.headers):
        # Compressed once per cached body, not once per request (the middleware passes Content-Encoding through).
        async def gzipped() -> Cached:
            return Cached(pack(item.body), item.media_type, item.headers)

        packed = await rt.cache.get_or_build((*name, "gz"), gzipped, tag=tag)
        headers["Content-Encoding"] = "gzip"
        return Response(packed.body, status_code=status, media_type=item.media_type, headers=headers)
    return Response(item.body, status_code=status, media_type=item.media_type, headers=headers)
