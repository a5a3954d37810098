"""Collection metadata documents (OGC API Features /collections), built from the declarations and the database."""

from __future__ import annotations

from typing import Any

from gis.catalog import Catalog, LayerInfo
from gis.ogc.crs import CRS84, CRS_LIST
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
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
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
        # The features' JSON Schema: a client that builds its fields from it sees the properties a page leaves out
        # because they are null there. GDAL's OAPIF driver (3.6) looks for the relation spelt "describedBy".
        *(
            {"href": f"{href}/schema", "rel": rel, "type": "application/schema+json", "title": "schema"}
            for rel in ("describedby", "describedBy")
        ),
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


async def collections_docs(catalog: Catalog, base: str) -> list[dict[str, Any]]:
    """Metadata of every collection (from the catalog: built once per set of layer versions)."""
    infos = await catalog.infos()
    boxes = await catalog.extents()
    return [collection_doc(base, LAYERS[i.id], i, boxes.get(i.id)) for i in infos]
