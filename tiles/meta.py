"""Tile metadata: TileJSON 3.0.0 and the OGC API Tiles tileset documents, built from the layer declarations."""

from __future__ import annotations

import math
from typing import Any

from gis.catalog import Catalog
from gis.ogc.crs import CRS84
from layers import LAYERS
from layers.base import Col, Layer
from tiles.sql import DETAIL_ZOOM, LOW_ZOOM_FEATURES, tile_properties, zoom_range

MVT = "application/vnd.mapbox-vector-tile"
WEB_MERCATOR_QUAD = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
WORLD = [-180.0, -85.0511, 180.0, 85.0511]
MVT_TYPES = {"int": "Number", "float": "Number", "bool": "Boolean"}
COMMON_FIELDS = {"city_code": "市区町村コード (String)", "sample": "サンプルデータ (Boolean)"}
ALL_NAME = "伊万里市・武雄市 全レイヤ"
ALL_DESCRIPTION = "公開している全レイヤを1枚のタイルに重ねたもの（各レイヤは表示できるズームの範囲内のみ）。"


def fields(layer: Layer) -> dict[str, str]:
    """TileJSON fields: every property a tile feature carries, with its Japanese title and MVT value type."""
    out: dict[str, str] = {}
    for c in tile_properties(layer):
        if isinstance(c, Col):
            out[c.name] = f"{c.title or c.name} ({MVT_TYPES.get(c.type, 'String')})"
        else:
            out[c] = COMMON_FIELDS[c]
    return out


def vector_layer(layer: Layer) -> dict[str, Any]:
    """One TileJSON vector_layers entry (the feature id is the layer's stable integer id, not a field)."""
    lo, hi = zoom_range(layer)
    description = layer.description
    if lo < DETAIL_ZOOM:
        budget = f"z{max(lo, 0)}〜z{DETAIL_ZOOM - 1}のタイルは1枚{LOW_ZOOM_FEATURES:,}件まで（大きい順）。"
        description += f"（{budget}z{DETAIL_ZOOM}以上は全件。）"
    return {"id": layer.id, "description": description, "minzoom": lo, "maxzoom": hi, "fields": fields(layer)}


async def attributions(catalog: Catalog, layers: list[Layer]) -> str:
    """The attribution of the sources behind the rows there now, each once."""
    wanted = {la.id for la in layers}
    rows = sorted((s for i in await catalog.infos() if i.id in wanted for s in i.sources), key=lambda s: s["id"])
    return " / ".join(dict.fromkeys(s["attribution"] for s in rows if s["attribution"]))


def _union(boxes: list[list[float] | None]) -> list[float]:
    found = [b for b in boxes if b]
    if not found:
        return WORLD
    return [min(b[0] for b in found), min(b[1] for b in found), max(b[2] for b in found), max(b[3] for b in found)]


def _center(bounds: list[float], lo: int, hi: int) -> list[float]:
    return [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), min(max(13, lo), hi)]


async def tilejson(catalog: Catalog, base: str, layer: Layer | None) -> dict[str, Any]:
    """TileJSON 3.0.0 for one layer, or for the combined tile when layer is None."""
    boxes = await catalog.extents()
    if layer is not None:
        name, description, path, members = layer.title, layer.description, layer.id, [layer]
    else:
        name, description, path = ALL_NAME, ALL_DESCRIPTION, "all"
        members = [la for la in LAYERS.values() if zoom_range(la)[0] <= zoom_range(la)[1]]
    ranges = [zoom_range(la) for la in members]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    bounds = _union([boxes.get(la.id) for la in members])
    return {
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "attribution": await attributions(catalog, members),
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{path}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": lo,
        "maxzoom": hi,
        "bounds": bounds,
        "center": _center(bounds, lo, hi),
        "vector_layers": [vector_layer(la) for la in members],
    }


def _tile_limits(bounds: list[float], lo: int, hi: int) -> list[dict[str, Any]]:
    """OGC tileMatrixSetLimits: the tile rows and columns covering the bounds at every zoom served."""
    out = []
    for z in range(lo, hi + 1):
        n = 2**z

        def col(lon: float, n: int = n) -> int:
            return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

        def row(lat: float, n: int = n) -> int:
            lat = max(-85.0511, min(85.0511, lat))
            return min(n - 1, max(0, int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)))

        out.append(
            {
                "tileMatrix": str(z),
                "minTileRow": row(bounds[3]),
                "maxTileRow": row(bounds[1]),
                "minTileCol": col(bounds[0]),
                "maxTileCol": col(bounds[2]),
            }
        )
    return out


def tileset(base: str, layer: Layer, bounds: list[float] | None = None) -> dict[str, Any]:
    """The WebMercatorQuad tileset of a collection (with its limits when the extent is given)."""
    href = f"{base}/collections/{layer.id}/tiles/WebMercatorQuad"
    lo, hi = zoom_range(layer)
    doc: dict[str, Any] = {
        "title": f"{layer.title}（ベクタタイル）",
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD,
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": "this tileset"},
            {
                "href": WEB_MERCATOR_QUAD,
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "title": "WebMercatorQuad",
            },
            # Column (x) before row (y), counted from the north: the XYZ order of tipg and of /tiles/{layer}.
            {
                "href": f"{href}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}",
                "rel": "item",
                "type": MVT,
                "templated": True,
                "title": "Mapbox vector tile",
            },
            {
                "href": f"{base}/tiles/{layer.id}.json",
                "rel": "describedby",
                "type": "application/json",
                "title": "TileJSON",
            },
            {"href": f"{base}/collections/{layer.id}", "rel": "collection", "type": "application/json"},
        ],
        "layers": [
            {
                "id": layer.id,
                "title": layer.title,
                "dataType": "vector",
                "geometryDimension": {"POINT": 0, "MULTILINESTRING": 1}.get(layer.geom_type, 2),
                "minTileMatrix": str(lo),
                "maxTileMatrix": str(hi),
            }
        ],
    }
    if bounds:
        doc["boundingBox"] = {"lowerLeft": bounds[:2], "upperRight": bounds[2:], "crs": CRS84}
        doc["tileMatrixSetLimits"] = _tile_limits(bounds, lo, hi)
    return doc


def tilesets(base: str, layer: Layer) -> dict[str, Any]:
    """The OGC API Tiles tileset list of a collection: WebMercatorQuad only."""
    entry = tileset(base, layer)
    entry.pop("layers")
    return {
        "links": [
            {"href": f"{base}/collections/{layer.id}/tiles", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{layer.id}", "rel": "collection", "type": "application/json"},
        ],
        "tilesets": [entry],
    }
