"""Collection metadata documents (OGC API Features /collections), built from the declarations and the database."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import Request

from api.catalog import LayerInfo, layer_infos
from api.crs import CRS84, CRS_LIST
from api.features_sql import q
from layers import LAYERS
from layers.base import Layer

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]


async def extents(request: Request, conn: asyncpg.Connection) -> dict[str, list[float] | None]:
    """Bounding boxes per layer, cached until any layer version changes."""
    versions = request.app.state.versions.versions
    key = tuple(sorted(versions.items()))
    cached = request.app.state.meta_cache.get("extents")
    if cached and cached[0] == key:
        return cached[1]
    union = " UNION ALL ".join(
        f"SELECT '{lid}' AS id, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        f"FROM (SELECT ST_Extent(geom) AS e FROM {q(lid)}) s"
        for lid in LAYERS
    )
    rows = await conn.fetch(union)
    result = {r["id"]: ([round(v, 6) for v in list(r.values())[1:]] if r[1] is not None else None) for r in rows}
    request.app.state.meta_cache["extents"] = (key, result)
    return result


async def sample_flags(request: Request, conn: asyncpg.Connection) -> dict[str, bool]:
    """Which layers hold sample rows, cached until any layer version changes."""
    key = tuple(sorted(request.app.state.versions.versions.items()))
    cached = request.app.state.meta_cache.get("samples")
    if cached and cached[0] == key:
        return cached[1]
    union = " UNION ALL ".join(
        f"SELECT '{lid}' AS id, EXISTS (SELECT 1 FROM {q(lid)} WHERE sample) AS s" for lid in LAYERS
    )
    result = {r["id"]: r["s"] for r in await conn.fetch(union)}
    request.app.state.meta_cache["samples"] = (key, result)
    return result


def collection_doc(base: str, layer: Layer, info: LayerInfo, bbox: list[float] | None) -> dict[str, Any]:
    """One collection's metadata: title, licence, attribution, data date, sample flag, count, extent, links."""
    href = f"{base}/collections/{layer.id}"
    dates = [s["data_date"] for s in info.sources if s.get("data_date")]
    licences = sorted({s["licence"] for s in info.sources})
    attribution = " / ".join(dict.fromkeys(s["attribution"] for s in info.sources))
    links = [
        {"href": href, "rel": "self", "type": "application/json", "title": "this document"},
        {"href": f"{href}?f=html", "rel": "alternate", "type": "text/html", "title": "HTML"},
        {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": "features (GeoJSON)"},
        {"href": f"{href}/items?f=html", "rel": "items", "type": "text/html", "title": "features (HTML)"},
        {"href": f"{href}/items?f=csv", "rel": "items", "type": "text/csv", "title": "features (CSV)"},
        {
            "href": f"{href}/queryables",
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "type": "application/schema+json",
            "title": "queryables",
        },
    ]
    links += [
        {
            "href": f"{href}/tiles",
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
            "type": "application/json",
            "title": "vector tiles (OGC API Tiles)",
        },
        {
            "href": f"{base}/tiles/{layer.id}.json",
            "rel": "describedby",
            "type": "application/json",
            "title": "TileJSON",
        },
        {"href": f"{base}/map/{layer.id}", "rel": "alternate", "type": "text/html", "title": "地図"},
    ]
    for fmt, media in (("gpkg", "application/geopackage+sqlite3"), ("geojson", GEOJSON), ("csv", "text/csv")):
        links.append(
            {
                "href": f"{href}/download?f={fmt}",
                "rel": "enclosure",
                "type": media,
                "title": f"全件ダウンロード ({fmt})",
            }
        )
    for s in info.sources:
        if s.get("licence_url"):
            links.append({"href": s["licence_url"], "rel": "license", "type": "text/html", "title": s["licence"]})
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": CRS_LIST,
        "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/6668",
        "license": ", ".join(licences),
        "attribution": attribution,
        "dataDate": max(dates).isoformat() if dates else None,
        "sample": info.sample,
        "sampleItems": info.sample_rows,
        "itemCount": info.count,
        "version": info.version,
        "links": links,
    }
    if bbox:
        doc["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
        if layer.time_column:
            doc["extent"]["temporal"] = {
                "interval": [[None, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
    return doc


async def collections_docs(request: Request, conn: asyncpg.Connection, base: str) -> list[dict[str, Any]]:
    """Metadata of every collection."""
    infos = await layer_infos(conn)
    boxes = await extents(request, conn)
    return [collection_doc(base, LAYERS[i.id], i, boxes.get(i.id)) for i in infos]
