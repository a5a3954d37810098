"""GET /: the landing page (Japanese HTML, or JSON for clients)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import Rt
from gis.catalog import jsonable
from gis.errors import InvalidParameter
from gis.lookup.contacts import city_contacts
from gis.maps.assets import FAVICON, STATIC_DIR, SWAGGER_CSS, SWAGGER_JS, check_local_assets, static_url

router = APIRouter(tags=["pages"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")


def wants_json(request: Request, f: str | None) -> bool:
    """Format negotiation: ?f= wins; browsers (Accept: text/html) get HTML, every other client JSON."""
    if f:
        if f.lower() not in ("json", "html"):
            raise InvalidParameter(f"f: unsupported format '{f}'; use json or html")
        return f.lower() == "json"
    return "text/html" not in request.headers.get("accept", "")


@router.get("/", summary="Landing page: every layer with counts, sources and sample labels")
async def landing(
    request: Request,
    rt: Rt,
    f: Annotated[str | None, Query(description="output format: html or json")] = None,
) -> Response:
    """List every layer with its row count, sources, licence and sample label."""
    infos = await rt.catalog.infos()
    if wants_json(request, f):
        return JSONResponse(
            {
                "title": request.app.title,
                "description": request.app.description,
                "links": [
                    {"href": str(request.url_for("landing")), "rel": "self", "type": "application/json"},
                    {"href": "/api", "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0"},
                    {"href": "/api.html", "rel": "service-doc", "type": "text/html"},
                    {"href": "/conformance", "rel": "conformance", "type": "application/json"},
                    {"href": "/collections", "rel": "data", "type": "application/json"},
                    {"href": "/health", "rel": "status", "type": "application/json"},
                ],
                "layers": [
                    {
                        "id": i.id,
                        "title": i.title,
                        "count": i.count,
                        "sample": i.sample,
                        "sample_rows": i.sample_rows,
                        "version": i.version,
                        "sources": [jsonable(s) for s in i.sources],
                    }
                    for i in infos
                ],
            }
        )
    html = templates.get_template("index.html").render(
        request=request,
        layers=infos,
        any_sample=any(i.sample for i in infos),
        contacts=city_contacts(rt.settings.data_dir),
    )
    return HTMLResponse(html)


@router.get("/api.html", include_in_schema=False)
async def api_docs(request: Request) -> HTMLResponse:
    """The interactive API docs (Swagger UI served by this service, so they render with no internet)."""
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}/api",
        title=f"{request.app.title} — API",
        swagger_js_url=static_url(SWAGGER_JS, root),
        swagger_css_url=static_url(SWAGGER_CSS, root),
        swagger_favicon_url=static_url(FAVICON, root),
    )
    html = check_local_assets(bytes(page.body).decode().replace("<html>", '<html lang="ja">', 1))
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=300"})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """The site icon where browsers look for it by default (an SVG; every browser in use accepts one)."""
    return Response(
        (STATIC_DIR / FAVICON).read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
