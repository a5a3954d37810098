"""Real clients read the service: GDAL's OGR (OAPIF driver, Debian's gdal-bin) and OWSLib."""

from __future__ import annotations

import subprocess
from urllib.parse import quote

from owslib.ogcapi.features import Features

from layers import LAYERS


def ogrinfo(*args: str) -> str:
    """Run ogrinfo and return its output (fails the test on a non-zero exit)."""
    r = subprocess.run(
        ["ogrinfo", "-ro", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_ogrinfo_lists_every_collection(live_url: str) -> None:
    out = ogrinfo("-so", f"OAPIF:{live_url}")
    for layer_id in LAYERS:
        assert f": {layer_id} " in out or f": {layer_id}\n" in out or f" {layer_id} (" in out, (layer_id, out)


def _values(out: str, field: str) -> list[str]:
    return [line.split("=", 1)[1].strip() for line in out.splitlines() if f"  {field} (" in line]


def test_ogrinfo_reads_features_with_a_spatial_filter(live_url: str) -> None:
    """-spat becomes a bbox request; the features around Takeo's 商業地域 come back."""
    out = ogrinfo("-spat", "130.0190", "33.1950", "130.0200", "33.1960", f"OAPIF:{live_url}", "zoning")
    names = _values(out, "youto_name")
    assert "商業地域" in names and len(names) < 10


def test_ogrinfo_pushes_a_where_clause_to_the_server_as_cql2(live_url: str) -> None:
    """GDAL translates -where into a server-side filter (it reads the queryables from /api)."""
    r = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "--debug",
            "on",
            f"OAPIF:{live_url}/collections/zoning",
            "-where",
            "youto_name = '商業地域'",
            "zoning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    assert "filter=" in r.stderr and "client side" not in r.stderr
    assert set(_values(r.stdout, "youto_name")) == {"商業地域"}
    assert set(_values(r.stdout, "city_code")) == {"41205", "41206"}


def test_ogrinfo_cql2_s_intersects_finds_the_takeo_polygon(live_url: str) -> None:
    """The issue's query through GDAL: a CQL2 filter passed with the dataset URL."""
    cql = quote("youto_name = '商業地域' AND S_INTERSECTS(geom, POINT(130.0195 33.1955))")
    out = ogrinfo(f"OAPIF:{live_url}/collections/zoning?filter={cql}&filter-lang=cql2-text", "zoning")
    assert _values(out, "youto_name") == ["商業地域"]
    assert _values(out, "city_code") == ["41206"]
    assert _values(out, "kenpei") == ["80"] and _values(out, "yoseki") == ["400"]


def test_owslib_lists_collections_and_pages_farmland(live_url: str) -> None:
    api = Features(live_url)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == set(LAYERS)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    seen: list[int] = []
    offset = 0
    while True:
        page = api.collection_items("farmland", limit=5000, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 5000
    assert len(seen) == len(set(seen)) == 20000


def test_ogrinfo_sees_every_property_a_page_leaves_out(live_url: str) -> None:
    """Pages leave null properties out; GDAL builds its fields from the collection's JSON Schema, so none is lost."""
    out = ogrinfo("-so", "-spat", "130.0190", "33.1950", "130.0200", "33.1960", f"OAPIF:{live_url}", "farmland")
    fields = {line.split(":")[0] for line in out.splitlines() if ": " in line and "(" in line.split(": ", 1)[1]}
    declared = {c.name for c in LAYERS["farmland"].output_columns} | {"city_code", "sample"}
    assert declared <= fields, declared - fields
    assert "lease_end: Date" in out and "urbanised: Integer(Boolean)" in out  # types from the schema
