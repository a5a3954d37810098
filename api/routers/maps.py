"""Map pages: GET /map (every layer), GET /map/{layer} (one layer), and the static assets they load (/static)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from api.deps import Rt
from api.respond import not_modified
from gis.cache import Cached
from gis.catalog import layer_or_404
from gis.lookup.contacts import city_contacts
from gis.maps import PageLayer, build_map_html
from gis.maps.assets import STATIC_DIR
from gis.maps.bousai import LAYERS as BOUSAI_LAYERS
from gis.maps.bousai import build_bousai_html
from gis.maps.farmland import build_farmland_html
from gis.maps.garbage import build_garbage_html
from gis.maps.sensors import build_sensors_html, context_layers
from gis.maps.styles import DEFAULT_VISIBLE
from gis.maps.transit import build_transit_html
from layers import LAYERS
from tiles.sql import zoom_range

router = APIRouter(tags=["maps"])
# What the garbage page shows: the calendar data (version id "garbage"), the groups and the points.
GARBAGE_LAYERS = ("garbage", "garbage_groups", "garbage_points")
# What the sensor page embeds: the sensors' sources and sample flag (their live state comes from GET /sensors).
SENSOR_LAYERS = ("inundation_sensors",)
# What the 交通マップ embeds: the timetables' and the two bus layers' sources (departures come from /transit).
TRANSIT_LAYERS = ("transit", "bus_stops", "bus_routes")
# What the farmland page embeds: the parcels' sources and sample flag (the parcels come from /farmland and the tiles).
FARMLAND_LAYERS = ("farmland",)
_static = StaticFiles(directory=STATIC_DIR)
Basemap = Annotated[
    Literal["pale", "std", "none"],
    Query(description="base map at load: pale (地理院タイル 淡色, default), std (標準) or none (背景地図なし)"),
]


async def _page(request: Request, rt: Rt, layer_id: str | None, basemap: str) -> Response:
    """The rendered page, built once per set of versions of its layers (ETag → 304)."""
    ids = tuple([layer_id] if layer_id else LAYERS)
    root = request.scope.get("root_path", "")
    tag = rt.versions.snapshot(ids)

    async def build() -> Cached:
        infos = {i.id: i for i in await rt.catalog.infos()}
        boxes = await rt.catalog.extents()
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
        etag = '"' + hashlib.sha256(html).hexdigest()[:32] + '"'
        return Cached(html, "text/html; charset=utf-8", (("ETag", etag),))

    page = await rt.cache.get_or_build(("meta", "map", layer_id or "*", basemap, root, tag), build, tag=tag)
    # The page embeds the sample banner and sources: revalidate every time (cheap, thanks to the ETag).
    headers = {**dict(page.headers), "Cache-Control": "no-cache"}
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(page.body, headers=headers)


async def _domain_page(
    request: Request, rt: Rt, name: str, basemap: str, tag: object, render: Callable[[], Awaitable[bytes]]
) -> Response:
    """A domain page built once per version tag of its layers, revalidated by its ETag on every visit."""
    root = request.scope.get("root_path", "")

    async def build() -> Cached:
        html = await render()
        etag = '"' + hashlib.sha256(html).hexdigest()[:32] + '"'
        return Cached(html, "text/html; charset=utf-8", (("ETag", etag),))

    page = await rt.cache.get_or_build(("meta", name, basemap, root, tag), build, tag=tag)
    headers = {**dict(page.headers), "Cache-Control": "no-cache"}
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(page.body, headers=headers)


@router.get("/map", summary="Map of every layer (HTML): layer control, legend, sources, address search, click report")
async def map_all(request: Request, rt: Rt, basemap: Basemap = "pale") -> Response:
    """Every layer on one map; the ones drawn at load are listed in gis.maps.styles.DEFAULT_VISIBLE."""
    return await _page(request, rt, None, basemap)


@router.get("/map/garbage", summary="ごみ出しナビ: my collection point, next days, calendar, reminders, item search")
async def map_garbage(request: Request, rt: Rt, basemap: Basemap = "pale") -> Response:
    """The garbage page (phone first); built once per version of the garbage data and points."""
    root = request.scope.get("root_path", "")
    tag = rt.versions.snapshot(GARBAGE_LAYERS)

    async def render() -> bytes:
        _, per_layer = await rt.catalog.sources()
        sources = [s for lid in GARBAGE_LAYERS for s in per_layer.get(lid, [])]
        infos = {i.id: i for i in await rt.catalog.infos()}
        sample = infos["garbage_points"].sample or any(s.get("sample") for s in sources)
        bounds = (await rt.catalog.extents()).get("municipalities")
        html = build_garbage_html(sample=sample, sources=sources, root=root, basemap=basemap, bounds=bounds).encode()
        return html

    return await _domain_page(request, rt, "map-garbage", basemap, tag, render)


@router.get("/map/sensors", summary="浸水センサ（ライブ）: every sensor by state, refreshed by polling GET /sensors")
async def map_sensors(request: Request, rt: Rt, basemap: Basemap = "pale") -> Response:
    """The live sensor page (phone first); the page itself changes only with the sensors' and context layers'
    versions, the states are polled by the page (GET /sensors with If-None-Match)."""
    root = request.scope.get("root_path", "")
    context = context_layers(LAYERS, root)
    ids = SENSOR_LAYERS + tuple(c["id"] for c in context)
    tag = rt.versions.snapshot(ids)

    async def render() -> bytes:
        sources = [s for lid in ids for s in await rt.catalog.layer_sources(lid)]  # of the rows held now
        infos = {i.id: i for i in await rt.catalog.infos()}
        sample = infos["inundation_sensors"].sample
        bounds = (await rt.catalog.extents()).get("municipalities")
        html = build_sensors_html(
            sample=sample, sources=sources, context=context, root=root, basemap=basemap, bounds=bounds
        ).encode()
        return html

    return await _domain_page(request, rt, "map-sensors", basemap, tag, render)


@router.get("/map/transit", summary="交通マップ: bus routes in their colours, stops, next departures in JST")
async def map_transit(request: Request, rt: Rt, basemap: Basemap = "pale") -> Response:
    """The bus page (phone first); built once per version of the timetables and bus layers."""
    root = request.scope.get("root_path", "")
    tag = rt.versions.snapshot(TRANSIT_LAYERS)

    async def render() -> bytes:
        sources = await rt.catalog.layer_sources("bus_stops")  # the source of the rows held now
        bounds = (await rt.catalog.extents()).get("municipalities")
        html = build_transit_html(sources=sources, root=root, basemap=basemap, bounds=bounds).encode()
        return html

    return await _domain_page(request, rt, "map-transit", basemap, tag, render)


@router.get("/map/bousai", summary="防災マップ: shelters by hazard, the 2021 flood extent, flood/土砂 zones, sensors")
async def map_bousai(request: Request, rt: Rt, basemap: Basemap = "pale") -> Response:
    """The 防災 page (phone first); built once per version of its layers (sensor states come from GET /sensors)."""
    root = request.scope.get("root_path", "")
    ids = tuple(lid for lid, _ in BOUSAI_LAYERS if lid in LAYERS)
    tag = rt.versions.snapshot(ids)

    async def render() -> bytes:
        infos = {i.id: i for i in await rt.catalog.infos() if i.id in ids}
        sources = [s for lid in ids for s in await rt.catalog.layer_sources(lid)]  # of the rows held now
        bounds = (await rt.catalog.extents()).get("municipalities")
        html = build_bousai_html(
            counts={i: infos[i].count for i in infos},
            samples={i: bool(infos[i].sample_rows) for i in infos},
            sources=sources,
            root=root,
            basemap=basemap,
            bounds=bounds,
        ).encode()
        return html

    return await _domain_page(request, rt, "map-bousai", basemap, tag, render)


@router.get("/map/farmland", summary="農地をさがす: filter parcels to lend or sell, the map, favourites, inquiries")
async def map_farmland(request: Request, rt: Rt, basemap: Basemap = "pale") -> Response:
    """The farmland page (phone first); built once per version of the parcels (results come from /farmland)."""
    root = request.scope.get("root_path", "")
    tag = rt.versions.snapshot(FARMLAND_LAYERS)

    async def render() -> bytes:
        sources = await rt.catalog.layer_sources("farmland")  # of the rows held now
        infos = {i.id: i for i in await rt.catalog.infos()}
        sample = infos["farmland"].sample or any(s.get("sample") for s in sources)
        bounds = (await rt.catalog.extents()).get("municipalities")
        html = build_farmland_html(
            sample=sample,
            sources=sources,
            tile_zooms=zoom_range(LAYERS["farmland"]),
            contacts=city_contacts(rt.settings.data_dir),
            root=root,
            basemap=basemap,
            bounds=bounds,
        ).encode()
        return html

    return await _domain_page(request, rt, "map-farmland", basemap, tag, render)


@router.get("/map/{layer}", summary="Map of one layer (HTML)")
async def map_layer(
    request: Request,
    rt: Rt,
    layer: Annotated[str, Path(description="collection id, e.g. zoning")],
    basemap: Basemap = "pale",
) -> Response:
    """One layer on its own map, framed on its extent."""
    layer_or_404(layer)
    return await _page(request, rt, layer, basemap)


@router.get("/static/{path:path}", include_in_schema=False)
async def static(request: Request, path: str) -> Response:
    """Vendored and own JS/CSS/images; versioned URLs are cached for a year."""
    response = await _static.get_response(path, request.scope)
    versioned = path.startswith("vendor/") or "v" in request.query_params
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if versioned else "public, max-age=300"
    return response
