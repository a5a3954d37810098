"""The staff page: GET /admin (HTML). It holds no data; its scripts sign in with a pasted token."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.respond import not_modified
from gis.maps.admin import CSP, build_admin_html

router = APIRouter(tags=["admin"])
Basemap = Annotated[
    Literal["pale", "std", "none"],
    Query(description="base map of the map editor: pale (地理院タイル 淡色, default), std (標準) or none"),
]


@lru_cache(maxsize=16)
def _page(root: str, basemap: str) -> tuple[bytes, str]:
    html = build_admin_html(root=root, basemap=basemap).encode()
    return html, '"' + hashlib.sha256(html).hexdigest()[:32] + '"'


@router.get("/admin", summary="職員ページ (HTML): layers, upload with preview, history and rollback, audit, map editor")
async def admin_page(request: Request, basemap: Basemap = "pale") -> Response:
    """The staff page; the same for everyone (no data in it), so it is built once per process."""
    body, etag = _page(request.scope.get("root_path", ""), basemap)
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(body, headers=headers)
