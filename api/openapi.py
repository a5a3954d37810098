"""The OpenAPI document (/api): FastAPI's, plus one items path per collection listing its queryables.

GDAL's OAPIF driver reads the parameters of `/collections/<id>/items` to decide which attribute filters it can
send to the server, and the `filter-lang` enum to choose the filter language.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.deps import uses_database
from api.routers.edit import feature_schema
from gis.ogc.params import queryable_types
from layers import LAYERS
from layers.base import JSON_SCHEMA_TYPES, Layer

FILTER_LANGS = ["cql2-text", "cql2-json", "cql-text"]
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {
        "code": {"type": "string", "description": "OGC-style exception code, e.g. InvalidParameterValue, NotFound"},
        "description": {"type": "string", "description": "what was wrong, naming the parameter"},
    },
}
ERRORS = {
    "400": "a parameter is unknown, repeated or has a bad value (the description names it)",
    "401": "a staff token is missing or unknown",
    "403": "the token's role may not do this",
    "404": "no such collection, feature or resource",
    "413": "the request body is over the limit",
    "414": "the query string is too long",
    "503": "the database is not reachable",
}
# Answers that are not the {code, description} shape: /health reports an outage in its own body.
OWN_SHAPE = {
    ("/health", "get", "503"): {
        "description": "the database is not reachable: status 'error' with the listener's state",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["error"]},
                        "database": {"type": "string", "enum": ["unreachable"]},
                        "listener": {"type": "object"},
                    },
                }
            }
        },
    }
}


def install_openapi(app: FastAPI) -> None:
    """Replace app.openapi with the extended document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _document_errors(doc, app)
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
                get["responses"].pop("404", None)  # this collection exists
                for name, kind in queryable_types(layer).items():
                    get["parameters"].append(
                        {
                            "name": name,
                            "in": "query",
                            "required": False,
                            "description": f"equality filter on {name}",
                            "schema": JSON_SCHEMA_TYPES.get(kind, {"type": "string"}),
                        }
                    )
                _collection_post(path, layer)
                doc["paths"][f"/collections/{layer.id}/items"] = path
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _collection_post(path: dict[str, Any], layer: Layer) -> None:
    """A collection's own POST (Part 4 create) with its properties' schema; none on derived layers."""
    post = path.pop("post", None)
    if post is None or layer.derived_from:
        return
    post["operationId"] = f"create_{layer.id}"
    post["summary"] = f"{layer.title} ({layer.id}) に地物を追加（職員）"
    post["parameters"] = [p for p in post.get("parameters", []) if p["name"] != "collectionId"]
    post["responses"].pop("404", None)  # this collection exists
    schema = feature_schema(layer)
    for content in post["requestBody"]["content"].values():
        content["schema"] = schema
    path["post"] = post


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every API route, through included routers (FastAPI ≥ 0.16x keeps them lazy)."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:
        yield from ((r.path_format, r.methods, r) for r in app.routes if isinstance(r, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.path_format, set(context.methods or ()), context.original_route


def _errors_of(path: str, operation: dict, route: APIRoute | None) -> list[str]:
    """The error statuses an operation can answer: what its path, body and dependencies make possible."""
    calls = list(_calls(route.dependant)) if route else []
    staff = any(getattr(c, "__qualname__", "").startswith("require_role.") for c in calls)
    found = {
        "400": True,  # every endpoint checks its query string (api.limits.QueryHygiene)
        "401": staff,
        "403": staff,
        "404": "{" in path,
        "413": "requestBody" in operation,
        "414": True,
        "503": route is not None and uses_database(route.endpoint, calls),
    }
    return [status for status, applies in found.items() if applies]


def _document_errors(doc: dict[str, Any], app: FastAPI) -> None:
    """Every operation lists the errors it answers with the {code, description} schema; none lists FastAPI's 422."""
    routes = {(path, method.lower()): route for path, methods, route in _api_routes(app) for method in methods}
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # request validation errors are answered as 400 (api.errors)
            for status in _errors_of(path, operation, routes.get((path, method))):
                responses.setdefault(status, {"description": ERRORS[status]})
            for status, response in responses.items():
                if (path, method, status) in OWN_SHAPE:
                    response.update(copy.deepcopy(OWN_SHAPE[path, method, status]))
                elif str(status)[0] in "45":  # a route's own error description keeps its words, gains the schema
                    response["content"] = copy.deepcopy(content)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    if "HTTPValidationError" not in json.dumps(doc.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)  # referenced only by HTTPValidationError
