"""CRS for OGC API Features Part 2: the supported URIs, their SRIDs and axis order."""

from __future__ import annotations

from dataclasses import dataclass

from gis.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class OutCrs:
    """A supported CRS: URI, SRID, whether its first axis is northing/latitude, output decimals."""

    uri: str
    srid: int
    north_first: bool
    decimals: int


def _epsg(code: int, north_first: bool, decimals: int) -> OutCrs:
    return OutCrs(f"http://www.opengis.net/def/crs/EPSG/0/{code}", code, north_first, decimals)


# EPSG:4326/6668 are lat,lon and EPSG:6670 is X(northing),Y(easting) in the EPSG axis order that Part 2 follows.
SUPPORTED: dict[str, OutCrs] = {
    c.uri: c
    for c in (
        OutCrs(CRS84, 4326, False, 7),
        _epsg(4326, True, 7),
        _epsg(6668, True, 7),
        _epsg(6670, True, 3),
        _epsg(3857, False, 2),
    )
}
ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84}
ALIASES.update({f"EPSG:{c.srid}": c.uri for c in SUPPORTED.values() if c.uri != CRS84})
CRS_LIST = list(SUPPORTED)


def parse_crs(value: str | None, param: str) -> OutCrs:
    """The CRS named by a crs/bbox-crs/filter-crs parameter (URI, URN, EPSG:n or CRS84)."""
    if value is None or value == "":
        return SUPPORTED[CRS84]
    v = value.strip().strip("<>")
    if v.startswith("urn:ogc:def:crs:"):
        tail = v.split(":")
        v = CRS84 if tail[-1] == "CRS84" else f"EPSG:{tail[-1]}"
    uri = ALIASES.get(v, v).replace("https://", "http://")
    if uri not in SUPPORTED:
        raise InvalidParameter(f"{param}: unsupported CRS '{value}'; use one of {', '.join(CRS_LIST)}")
    return SUPPORTED[uri]
