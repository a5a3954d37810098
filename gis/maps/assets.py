"""The JS/CSS the map pages load: all served by this service from gis/maps/static (vendored, no CDN)."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"

# Vendored from the npm registry (`npm pack`), unmodified; licences next to each file (static/vendor/README.md).
LEAFLET = "vendor/leaflet-1.9.4"
VECTORGRID = "vendor/leaflet.vectorgrid-1.3.0"
LEAFLET_JS = f"{LEAFLET}/leaflet.js"
LEAFLET_CSS = f"{LEAFLET}/leaflet.css"
VECTORGRID_JS = f"{VECTORGRID}/Leaflet.VectorGrid.bundled.min.js"
SWAGGER = "vendor/swagger-ui-dist-5.35.0"  # /api.html, so the API docs render offline too
SWAGGER_JS = f"{SWAGGER}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{SWAGGER}/swagger-ui.css"
# Our own page code and style.
MAP_JS = "map/map.js"
REPORT_JS = "map/report.js"
SEARCH_JS = "map/search.js"
MAP_CSS = "map/map.css"
GARBAGE_JS = "map/garbage.js"
GARBAGE_CSS = "map/garbage.css"
SENSORS_JS = "map/sensors.js"
SENSORS_CSS = "map/sensors.css"
FAVICON = "map/favicon.svg"

GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>'
GSI_TILES = {
    "pale": ("地理院タイル（淡色）", "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"),
    "std": ("地理院タイル（標準）", "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"),
}
BASEMAPS = ("pale", "std", "none")
NO_BASEMAP = "背景地図なし"


@cache
def _digest(path: str) -> str:
    """Short content hash of a static file, for cache-busting URLs of our own (unversioned) files."""
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]


def static_url(path: str, root: str = "") -> str:
    """URL of a static file; vendored files carry their version in the path, ours get ?v=<hash>."""
    url = f"{root}{STATIC_PREFIX}/{path}"
    return url if path.startswith("vendor/") else f"{url}?v={_digest(path)}"


# <script src>, <link href>, <img src> and CSS url(): every asset reference a page makes on its own.
_ASSET_RE = re.compile(
    r"""<script[^>]*\bsrc\s*=\s*["']([^"']+)["']|<link[^>]*\bhref\s*=\s*["']([^"']+)["']"""
    r"""|<img[^>]*\bsrc\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""",
    re.IGNORECASE,
)


def external_assets(html: str) -> list[str]:
    """Asset URLs in the page that do not point at this service (absolute or protocol-relative URLs)."""
    found = []
    for m in _ASSET_RE.finditer(html):
        url = next(g for g in m.groups() if g)
        if re.match(r"^([a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE) and not url.startswith("data:"):
            found.append(url)
    return found


def check_local_assets(html: str) -> str:
    """The page unchanged, or an error if any script/style would come from another host (e.g. a folium CDN)."""
    bad = external_assets(html)
    if bad:
        raise RuntimeError(f"map page references assets outside this service: {bad}")
    return html
