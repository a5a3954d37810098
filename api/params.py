"""The items parameters, declared once: the table is both the OpenAPI documentation and the parser.

FastAPI's per-parameter validation (a Query() per name, resolved as a dependency) cost 0.1 ms of the 0.5 ms a
cached W1 request takes on the bench machine (measured with the server's CPU time per request), for values that
are text anyway and are validated by gis.ogc.params. So the declarations below feed the OpenAPI document through
`openapi_extra` and `items_request` reads exactly the declared names; every other name is an equality filter,
checked against the layer's queryables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Query, Request

from gis.ogc.params import ItemsRequest


@dataclass(frozen=True)
class Param:
    """One documented query parameter: its name on the wire, its description, its JSON schema."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": self.schema,
        }


FORMAT = Param("f", "output format: json (GeoJSON), html or csv", {"type": "string", "enum": ["json", "html", "csv"]})
NUMBER_MATCHED = Param("numberMatched", "true: also count every match (one COUNT); else only on the last page")
ITEMS = (
    Param("bbox", "minx,miny,maxx,maxy in bbox-crs (default CRS84 lon/lat)"),
    Param("bbox-crs", "CRS of bbox: CRS84, EPSG:4326, EPSG:6668, EPSG:6670, EPSG:3857"),
    Param("limit", "page size, 1–10000 (default 100)", {"type": "integer", "minimum": 1, "maximum": 10000}),
    Param("offset", "items to skip (follow the next/prev links)", {"type": "integer", "minimum": 0}),
    Param("properties", "comma-separated properties to return"),
    Param("sortby", "e.g. +youto_name,-id (default id ascending)"),
    Param("datetime", "RFC 3339 instant or interval (layers with time)"),
    Param("filter", "CQL2 filter, e.g. youto_name = '商業地域'"),
    Param("filter-lang", "cql2-text (default) or cql2-json"),
    Param("filter-crs", "CRS of filter geometries (default CRS84)"),
    Param("crs", "output CRS: CRS84 (default), EPSG:4326, 6668, 6670, 3857"),
)
ITEMS_OPENAPI = {"parameters": [p.openapi() for p in (FORMAT, *ITEMS, NUMBER_MATCHED)]}
DEFINED = {p.name for p in (FORMAT, *ITEMS, NUMBER_MATCHED)}


def items_request(request: Request) -> ItemsRequest:
    """The declared items parameters as sent; any other name becomes an equality filter (validated per layer)."""
    qp = request.query_params
    values = {p.name.replace("-", "_"): qp.get(p.name) for p in ITEMS}
    equals = tuple((k, v) for k, v in qp.multi_items() if k not in DEFINED)
    return ItemsRequest(**values, equals=equals)


# Other routes take `f` as an ordinary documented parameter.
F = Annotated[str | None, Query(description=FORMAT.description)]
