"""The items parameters as one documented dependency (titiler's pattern): the descriptions are the OpenAPI docs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from gis.ogc.params import ItemsRequest

Opt = str | None
# Every name the items endpoint defines; any other parameter is an equality filter on a queryable.
DEFINED = {
    "f",
    "bbox",
    "bbox-crs",
    "limit",
    "offset",
    "properties",
    "sortby",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "crs",
    "numberMatched",
}


def items_request(
    request: Request,
    bbox: Annotated[Opt, Query(description="minx,miny,maxx,maxy in bbox-crs (default CRS84 lon/lat)")] = None,
    bbox_crs: Annotated[
        Opt, Query(alias="bbox-crs", description="CRS of bbox: CRS84, EPSG:4326, EPSG:6668, EPSG:6670, EPSG:3857")
    ] = None,
    limit: Annotated[Opt, Query(description="page size, 1–10000 (default 100)")] = None,
    offset: Annotated[Opt, Query(description="items to skip (follow the next/prev links)")] = None,
    properties: Annotated[Opt, Query(description="comma-separated properties to return")] = None,
    sortby: Annotated[Opt, Query(description="e.g. +youto_name,-id (default id ascending)")] = None,
    datetime_: Annotated[
        Opt, Query(alias="datetime", description="RFC 3339 instant or interval (layers with time)")
    ] = None,
    filter_: Annotated[Opt, Query(alias="filter", description="CQL2 filter, e.g. youto_name = '商業地域'")] = None,
    filter_lang: Annotated[Opt, Query(alias="filter-lang", description="cql2-text (default) or cql2-json")] = None,
    filter_crs: Annotated[
        Opt, Query(alias="filter-crs", description="CRS of filter geometries (default CRS84)")
    ] = None,
    crs: Annotated[Opt, Query(description="output CRS: CRS84 (default), EPSG:4326, 6668, 6670, 3857")] = None,
) -> ItemsRequest:
    """The items parameters; names outside the documented ones become equality filters (validated per layer)."""
    equals = tuple((k, v) for k, v in request.query_params.multi_items() if k not in DEFINED)
    return ItemsRequest(
        bbox=bbox,
        bbox_crs=bbox_crs,
        limit=limit,
        offset=offset,
        properties=properties,
        sortby=sortby,
        datetime=datetime_,
        filter=filter_,
        filter_lang=filter_lang,
        filter_crs=filter_crs,
        crs=crs,
        equals=equals,
    )


ItemsParams = Annotated[ItemsRequest, Depends(items_request)]
F = Annotated[Opt, Query(description="output format: json (GeoJSON), html or csv")]
NumberMatched = Annotated[Opt, Query(alias="numberMatched", description="true: also count every match")]
