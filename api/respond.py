"""Conditional responses: strong ETags from layer version + request, 304s, Cache-Control, the response cache."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response

from api.cache import ByteLRU, Cached
from layers.base import Layer


def canonical_query(request: Request, drop: tuple[str, ...] = ()) -> str:
    """The query string with parameters sorted, so equivalent requests share a cache entry and ETag."""
    items = sorted((k, v) for k, v in request.query_params.multi_items() if k not in drop)
    return "&".join(f"{k}={v}" for k, v in items)


def make_etag(layer_id: str, version: int, key: str) -> str:
    """Strong ETag: changes with the layer version and with the request."""
    digest = hashlib.blake2b(f"{layer_id}:{version}:{key}".encode(), digest_size=12).hexdigest()
    return f'"{version}-{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    """True when If-None-Match names this ETag (or *)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def cache_headers(layer: Layer, etag: str) -> dict[str, str]:
    """ETag and per-layer Cache-Control."""
    return {
        "ETag": etag,
        "Cache-Control": f"public, max-age={layer.cache_seconds}, stale-while-revalidate={layer.cache_seconds}",
        "Vary": "Accept, Accept-Encoding",
    }


async def cached_response(
    request: Request,
    layer: Layer,
    key: str,
    build: Callable[[], Awaitable[Cached]],
    *,
    status: int = 200,
) -> Response:
    """Answer 304 or a cached body when possible, else build, cache and send."""
    version = request.app.state.versions.get(layer.id)
    etag = make_etag(layer.id, version, key)
    headers = cache_headers(layer, etag)
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    cache: ByteLRU = request.app.state.response_cache
    ck = f"{layer.id}:{version}:{key}"
    item = cache.get(ck)
    if item is None:
        item = await build()
        cache.put(ck, item)
    headers.update(item.headers)
    return Response(item.body, status_code=status, media_type=item.media_type, headers=headers)
