"""Map pages: GET /map (every layer), GET /map/{layer} (one layer), and the static assets they load (/static)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from api.catalog import layer_infos
from api.collections import extents
from api.deps import public_conn
from gis.maps import PageLayer, build_map_html
from gis.maps.assets import STATIC_DIR
from gis.maps.styles import DEFAULT_VISIBLE
from layers import LAYERS, layer_or_404
from tiles.sql import zoom_range

router = APIRouter(tags=["maps"])
_static = StaticFiles(directory=STATIC_DIR)
Basemap = Annotated[
    Literal["pale", "std", "none"],
    Query(description="base map at load: pale (地理院タイル 淡色, default), std (標準) or none (背景地図なし)"),
]


async def _page(request: Request, layer_id: str | None, basemap: str) -> Response:
    """The rendered page, from the cache while the versions of its layers are unchanged (ETag → 304)."""
    ids = [layer_id] if layer_id else list(LAYERS)
    versions = request.app.state.versions
    root = request.scope.get("root_path", "")
    key = ("map", layer_id or "*", basemap, root)
    stamp = tuple(versions.get(i) for i in ids)
    cache = request.app.state.meta_cache
    hit = cache.get(key)
    if not hit or hit[0] != stamp:
        async with public_conn(request) as conn:
            infos = {i.id: i for i in await layer_infos(conn)}
            boxes = await extents(request, conn)
        page_layers = [
            PageLayer(
                LAYERS[i],
                count=infos[i].count,
                sample_rows=infos[i].sample_rows,
                sources=infos[i].sources,
                visible=bool(layer_id) or i in DEFAULT_VISIBLE,
                tile_zooms=zoom_range(LAYERS[i]) if LAYERS[i].big else None,
            )
            for i in ids
        ]
        # The whole service area for /map; a layer's own extent for /map/{layer}.
        bounds = boxes.get(layer_id) if layer_id else boxes.get("municipalities")
        html = build_map_html(
            page_layers,
            title=LAYERS[layer_id].title if layer_id else "すべてのレイヤ",
            basemap=basemap,
            bounds=bounds,
            single=bool(layer_id),
            root=root,
        ).encode()
        hit = (stamp, html, '"' + hashlib.sha256(html).hexdigest()[:32] + '"')
        cache[key] = hit
    _, html, etag = hit
    # The page embeds the sample banner and sources: revalidate every time (cheap, thanks to the ETag).
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(html, headers=headers)


@router.get("/map", summary="Map of every layer (HTML): layer control, legend, sources, address search, click report")
async def map_all(request: Request, basemap: Basemap = "pale") -> Response:
    """Every layer on one map; the ones drawn at load are listed in gis.maps.styles.DEFAULT_VISIBLE."""
    return await _page(request, None, basemap)


@router.get("/map/{layer}", summary="Map of one layer (HTML)")
async def map_layer(
    request: Request,
    layer: Annotated[str, Path(description="collection id, e.g. zoning")],
    basemap: Basemap = "pale",
) -> Response:
    """One layer on its own map, framed on its extent."""
    layer_or_404(layer)
    return await _page(request, layer, basemap)


@router.get("/static/{path:path}", include_in_schema=False)
async def static(request: Request, path: str) -> Response:
    """Vendored and own JS/CSS/images; versioned URLs are cached for a year."""
    response = await _static.get_response(path, request.scope)
    versioned = path.startswith("vendor/") or "v" in request.query_params
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if versioned else "public, max-age=300"
    return response
