"""Whole-layer open-data downloads: GeoPackage, GeoJSON and CSV, each carrying licence and attribution."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from api.deps import Rt
from api.formats import csv_columns, csv_sql
from api.respond import cache_headers, layer_etag, not_modified
from gis.catalog import layer_or_404
from gis.errors import InvalidParameter
from gis.etag import live_bucket
from gis.geo import STORAGE_SRID
from gis.ogc.crs import CRS84, SUPPORTED
from gis.ogc.items import feature_sql, property_columns
from gis.runtime import Runtime
from gis.sql import q
from layers.base import Layer

router = APIRouter(tags=["open data downloads"])


@dataclass(frozen=True)
class Built:
    """A finished download file (the cache holds its path, not its bytes)."""

    path: FsPath
    nbytes: int = 200


MEDIA = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/collections/{collectionId}/download",
    summary="The whole layer as GeoPackage, GeoJSON or CSV, with licence and attribution",
    response_class=Response,
)
async def download(
    request: Request,
    rt: Rt,
    collection_id: Annotated[str, Path(alias="collectionId", description="collection id")],
    f: Annotated[str, Query(description="gpkg, geojson or csv")] = "geojson",
) -> Response:
    """Stream (GeoJSON, CSV) or send (GeoPackage, built once per layer version) the whole layer."""
    layer = layer_or_404(collection_id)
    fmt = f.lower()
    if fmt not in MEDIA:
        raise InvalidParameter(f"f: unsupported download format '{f}'; use gpkg, geojson or csv")
    etag, version = layer_etag(request, layer, ("download", fmt))
    headers = {
        **cache_headers(layer, etag),
        "Content-Disposition": f'attachment; filename="{layer.id}-v{version}.{fmt}"',
        "Link": f'<{str(request.base_url).rstrip("/")}/collections/{layer.id}>; rel="describedby"',
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    sources = await rt.catalog.layer_sources(layer.id)
    if fmt == "gpkg":
        # A live layer's file holds the state of one time bucket (the ETag names the same bucket).
        stamp = f"{version}-t{live_bucket(layer.cache_seconds)[0]}" if layer.live else str(version)
        path = await _geopackage(rt, layer, stamp, sources)
        return FileResponse(path, media_type=MEDIA[fmt], headers=headers)
    pool = rt.public_pool
    body = _geojson_stream(pool, layer, sources) if fmt == "geojson" else _csv_stream(pool, layer)
    return StreamingResponse(body, media_type=MEDIA[fmt], headers=headers)


async def _geojson_stream(pool: Any, layer: Layer, sources: list[dict]) -> AsyncIterator[bytes]:
    head = {
        "type": "FeatureCollection",
        "name": layer.id,
        "title": layer.title,
        "license": ", ".join(dict.fromkeys(s["licence"] for s in sources)),
        "attribution": " / ".join(dict.fromkeys(s["attribution"] for s in sources)),
        "sources": sources,
        "sample": any(s["sample"] for s in sources),
    }
    yield json.dumps(head, ensure_ascii=False)[:-1].encode() + b',"features":['
    sql = f"SELECT {feature_sql(layer, SUPPORTED[CRS84], compact=False)} FROM {layer.relation()} t ORDER BY t.id"
    first = True
    async with pool.acquire() as conn, conn.transaction():
        async for row in conn.cursor(sql, prefetch=1000):
            yield (row[0] if first else "," + row[0]).encode()
            first = False
    yield b"]}"


async def _csv_stream(pool: Any, layer: Layer) -> AsyncIterator[bytes]:
    import csv
    import io

    sql, _ = csv_sql(layer, None)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([h for h, _ in csv_columns(layer)])
    yield ("\ufeff" + buf.getvalue()).encode()
    async with pool.acquire() as conn, conn.transaction():
        async for row in conn.cursor(sql, prefetch=1000):
            buf.seek(0)
            buf.truncate()
            writer.writerow(tuple(row))
            yield buf.getvalue().encode()


async def _geopackage(rt: Runtime, layer: Layer, stamp: str, sources: list[dict]) -> FsPath:
    """Build the layer's GeoPackage once per version (in a worker thread), reuse it, delete older versions' files."""
    cache_dir = rt.settings.var_dir / "cache" / "downloads"
    path = cache_dir / f"{layer.id}-v{stamp}.gpkg"

    async def build() -> Built:
        if not path.exists():
            names = [c if isinstance(c, str) else c.name for c in property_columns(layer)]
            cols = ", ".join(q(n) for n in names)
            async with rt.public_conn() as conn:
                rows = await conn.fetch(
                    f"SELECT id, {cols}, ST_AsBinary(geom) AS wkb FROM {layer.relation()} t ORDER BY id"
                )
            await asyncio.to_thread(_write_gpkg, path, layer, names, rows, sources)
        for old in cache_dir.glob(f"{layer.id}-v*.gpkg"):
            if old != path:
                old.unlink(missing_ok=True)
        return Built(path)

    tag = ((layer.id, rt.versions.get(layer.id)),)
    # One build for concurrent first downloads of a version (the file is written once, then renamed into place).
    return (await rt.cache.get_or_build(("meta", "gpkg", layer.id, stamp), build, tag=tag)).path


def _write_gpkg(path: FsPath, layer: Layer, names: list[str], rows: list, sources: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([dict(r) for r in rows], columns=["id", *names, "wkb"])
    geoms = shapely.from_wkb(frame.pop("wkb").to_numpy())
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_SRID)
    licence = ", ".join(dict.fromkeys(s["licence"] for s in sources))
    attribution = " / ".join(dict.fromkeys(s["attribution"] for s in sources))
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    pyogrio.write_dataframe(
        gdf,
        tmp,
        layer=layer.id,
        driver="GPKG",
        layer_options={
            "IDENTIFIER": layer.title,
            "DESCRIPTION": f"{layer.description} 出典: {attribution} ライセンス: {licence}",
        },
    )
    # The licence travels inside the file as a table of its own.
    meta = pd.DataFrame(sources or [{"title": layer.title}]).astype(str)
    pyogrio.write_dataframe(meta, tmp, layer="sources_and_licence", driver="GPKG", append=True)
    os.replace(tmp, path)
