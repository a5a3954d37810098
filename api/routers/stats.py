"""Access statistics for staff: JSON, a CSV export and SVG charts (admin/editor token), and the staff page.

The page is a shell with no data: it asks for the token once, keeps it in sessionStorage and fetches the JSON, the
charts and the CSV with `Authorization: Bearer`, so the token never appears in a URL, a log or the browser history.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import Rt, Staff, StaffConn, require_role
from gis.stats import read
from gis.stats.charts import CHARTS, render
from gis.stats.counter import JST
from gis.stats.keys import KINDS

router = APIRouter(prefix="/admin", tags=["admin"])
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
templates = Jinja2Templates(directory=FilePath(__file__).resolve().parents[1] / "templates")
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
From = Annotated[str | None, Query(alias="from", description="first JST day, YYYY-MM-DD (default: 29 days before to)")]
To = Annotated[
    str | None, Query(alias="to", description="last JST day, YYYY-MM-DD (default: today, JST); at most 366 days")
]
Kind = Annotated[str | None, Query(description="only this kind: " + ", ".join(KINDS))]
Chart = Literal["daily", "api", "layers", "pages", "towns"]


def _today() -> date:
    return datetime.now(JST).date()


async def _summary(conn: StaffConn, start: str | None, end: str | None, kind: str | None) -> tuple[list, dict]:
    first, last = read.period(start, end, _today())
    kind = read.kind_of(kind)
    found = await read.rows(conn, first, last, kind)
    return found, read.summary(found, first, last, kind)


@router.get("/stats", summary="Access counts per JST day: requests per layer, page, API family and 大字 (staff)")
async def stats_json(
    staff: Editor, conn: StaffConn, rt: Rt, start: From = None, end: To = None, kind: Kind = None
) -> Response:
    """Counts only (no IP, user agent, token, query string, address or coordinates), written every
    GIS_STATS_FLUSH_SECONDS by each worker: the last minute may not be in yet."""
    _, body = await _summary(conn, start, end, kind)
    body["flush_seconds"] = rt.settings.stats_flush_seconds
    return Response(orjson.dumps(body), media_type="application/json", headers=PRIVATE)


@router.get("/stats.csv", summary="The access counts as CSV (UTF-8 with BOM, Japanese column titles; staff)")
async def stats_csv(staff: Editor, conn: StaffConn, start: From = None, end: To = None, kind: Kind = None) -> Response:
    """One row per day × kind × key: 日付, 種別, 種別名, キー, 名称, 件数."""
    found, body = await _summary(conn, start, end, kind)
    name = f"access-stats_{body['from']}_{body['to']}{'_' + kind if kind else ''}.csv"
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(read.to_csv(found), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/stats/chart/{chart}.svg", summary="One chart of the access counts as SVG (staff)")
async def stats_chart(
    staff: Editor,
    conn: StaffConn,
    chart: Annotated[Chart, Path(description="; ".join(f"{k}: {v}" for k, v in CHARTS.items()))],
    start: From = None,
    end: To = None,
) -> Response:
    """Drawn on the server with matplotlib, off the event loop."""
    _, body = await _summary(conn, start, end, None)
    svg = await asyncio.to_thread(render, chart, body)
    return Response(svg, media_type="image/svg+xml", headers=PRIVATE)


@router.get("/stats/page", summary="The staff page of the access statistics (HTML; asks for the token)")
async def stats_page(request: Request) -> HTMLResponse:
    """Charts, totals and the CSV export; the data is fetched with the token the page asks for."""
    html = templates.get_template("stats.html").render(
        request=request, kinds=KINDS, charts=CHARTS, root=request.scope.get("root_path", "")
    )
    return HTMLResponse(html, headers={**PRIVATE, "Referrer-Policy": "no-referrer"})
