"""The OpenAPI document (/api): FastAPI's, plus one items path per collection listing its queryables.

GDAL's OAPIF driver reads the parameters of `/collections/<id>/items` to decide which attribute filters it can
send to the server, and the `filter-lang` enum to choose the filter language.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gis.ogc.params import queryable_types
from layers import LAYERS

SCHEMA_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamptz": {"type": "string", "format": "date-time"},
}
FILTER_LANGS = ["cql2-text", "cql2-json", "cql-text"]


def install_openapi(app: FastAPI) -> None:
    """Replace app.openapi with the extended document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        items = doc["paths"].get("/collections/{collectionId}/items")
        if items:
            for p in items["get"]["parameters"]:
                if p["name"] == "filter-lang":
                    p["schema"] = {"type": "string", "enum": FILTER_LANGS, "default": "cql2-text"}
            for layer in LAYERS.values():
                path = copy.deepcopy(items)
                get = path["get"]
                get["operationId"] = f"items_{layer.id}"
                get["summary"] = f"{layer.title} ({layer.id}) の地物"
                get["parameters"] = [p for p in get["parameters"] if p["name"] != "collectionId"]
                for name, kind in queryable_types(layer).items():
                    get["parameters"].append(
                        {
                            "name": name,
                            "in": "query",
                            "required": False,
                            "description": f"equality filter on {name}",
                            "schema": SCHEMA_TYPES.get(kind, {"type": "string"}),
                        }
                    )
                doc["paths"][f"/collections/{layer.id}/items"] = path
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
