"""Vector tiles: XYZ and OGC API Tiles (WebMercatorQuad) MVT, the combined tile, TileJSON and tileset metadata."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from api.compress import accepts_gzip
from api.deps import Rt, get_runtime
from api.respond import cached_response
from gis.cache import Cached
from gis.catalog import layer_or_404
from tiles.meta import tilejson, tileset, tilesets
from tiles.service import ALL, MVT, parse_tile, tile

router = APIRouter(tags=["Vector tiles"])

LayerP = Annotated[str, Path(description="layer (collection) id, e.g. zoning")]
CollectionP = Annotated[str, Path(alias="collectionId", description="collection id, e.g. zoning")]
Z = Annotated[str, Path(description="zoom level, 0–22")]
X = Annotated[str, Path(description="column, 0 … 2^z − 1 from the west")]
Y = Annotated[str, Path(description="row, 0 … 2^z − 1 from the north (XYZ)")]
TILE_RESPONSES: dict[int | str, dict] = {
    200: {"content": {MVT: {}}, "description": "Mapbox vector tile (gzip when the client accepts it)"},
    204: {"description": "empty tile: no feature here, or outside the layer's zoom range"},
    304: {"description": "not modified (If-None-Match)"},
    400: {"description": "z, x or y not a tile of WebMercatorQuad"},
    404: {"description": "unknown layer"},
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(doc: dict) -> Cached:
    return Cached(json.dumps(doc, ensure_ascii=False).encode(), "application/json")


async def _tile(request: Request, name: str, z: str, x: str, y: str) -> Response:
    # The runtime without a dependency: resolving one costs more than a cached tile (see api/params.py).
    answer = await tile(
        get_runtime(request),
        name,
        *parse_tile(z, x, y),
        gzip_ok=accepts_gzip(request.headers),
        if_none_match=request.headers.get("if-none-match"),
    )
    if answer.status != 200:
        return Response(status_code=answer.status, headers=answer.headers)
    return Response(answer.body, media_type=MVT, headers=answer.headers)


@router.get(
    "/tiles/all/{z}/{x}/{y}.mvt", summary="Every layer in one tile", response_class=Response, responses=TILE_RESPONSES
)
async def all_tile(request: Request, z: Z, x: X, y: Y) -> Response:
    """One MVT with each layer that has tiles at this zoom as its own MVT layer."""
    return await _tile(request, ALL, z, x, y)


@router.get("/tiles/all.json", summary="TileJSON of the combined tile")
async def all_tilejson(request: Request, rt: Rt) -> JSONResponse:
    """TileJSON 3.0.0 listing every layer of /tiles/all/{z}/{x}/{y}.mvt with its zoom range and fields."""
    return JSONResponse(await tilejson(rt.catalog, _base(request), None))


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
    summary="Vector tile of one layer (XYZ)",
    response_class=Response,
    responses=TILE_RESPONSES,
)
async def layer_tile(request: Request, layer: LayerP, z: Z, x: X, y: Y) -> Response:
    """One layer's MVT: feature id = the stable integer id, properties = public columns, city_code, sample."""
    layer_or_404(layer)  # an unknown layer is a 404 whatever the numbers
    return await _tile(request, layer, z, x, y)


@router.get("/tiles/{layer}.json", summary="TileJSON 3.0.0 of one layer")
async def layer_tilejson(request: Request, rt: Rt, layer: LayerP) -> Response:
    """Tile URL template, zoom range, bounds, attribution and fields of one layer."""
    lay = layer_or_404(layer)
    base = _base(request)

    async def build() -> Cached:
        return _json(await tilejson(rt.catalog, base, lay))

    return await cached_response(request, lay, ("tilejson", base), build)


@router.get("/collections/{collectionId}/tiles", summary="Tilesets of a collection (OGC API Tiles)")
async def collection_tilesets(request: Request, collection_id: CollectionP) -> JSONResponse:
    """The collection's tilesets: WebMercatorQuad vector tiles."""
    return JSONResponse(tilesets(_base(request), layer_or_404(collection_id)))


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad", summary="The WebMercatorQuad tileset (OGC)")
async def collection_tileset(request: Request, rt: Rt, collection_id: CollectionP) -> Response:
    """Tileset metadata: tile URL template, zoom range and the tiles covering the collection's extent."""
    lay = layer_or_404(collection_id)
    base = _base(request)

    async def build() -> Cached:
        bounds = (await rt.catalog.extents()).get(lay.id)
        return _json(tileset(base, lay, bounds))

    return await cached_response(request, lay, ("tileset", base), build)


@router.get(
    "/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}",
    summary="Vector tile (OGC API Tiles)",
    response_class=Response,
    responses=TILE_RESPONSES,
)
async def collection_tile(request: Request, collection_id: CollectionP, z: Z, x: X, y: Y) -> Response:
    """The same bytes as /tiles/{layer}/{z}/{x}/{y}.mvt (x = column, y = row from the north, as in tipg)."""
    layer_or_404(collection_id)
    return await _tile(request, collection_id, z, x, y)
