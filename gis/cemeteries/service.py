"""The cemetery service: by name (the in-memory index), nearest to a point or an address (SQL), with provenance.

Used by the API router; no web types. Every answer states its sources, the newest data date among them (and the
ledger's own データ時点 on each row) and whether any of it is sample data. Only published columns ever leave the
database: an individual operator's or manager's name lives in the private schema, which the public role cannot read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from gis.cemeteries.search import cached_index
from gis.cemeteries.sql import nearest_sql
from gis.errors import InvalidParameter
from gis.lookup.service import geocode
from gis.runtime import Runtime
from layers.cemeteries import LAYER

APPROXIMATE_LEVELS = ("machiaza", "machiaza_detail")
UNPLACED_LEVELS = ("none", "pref", "city")
POINT_PRECISION = {
    "match_level": "point",
    "coordinates_level": "point",
    "uncertainty_m": 0,
    "approximate": False,
    "message": "指定した地点から近い順に示しています（距離は直線距離）。",
}
NAME_PRECISION = {
    "match_level": "name",
    "approximate": False,
    "message": "名称・読みが近い順に示しています（score 100 が完全一致）。位置は墓地の代表点です。",
}


async def provenance(rt: Runtime, ids: Iterable[int | None], *, sample: bool = False) -> dict[str, Any]:
    """sources (by id, from the catalog), data_date (the newest) and sample (any row or source)."""
    by_id, _ = await rt.catalog.sources()
    sources = [by_id[i] for i in sorted({i for i in ids if i is not None}) if i in by_id]
    dates = [str(s["data_date"]) for s in sources if s.get("data_date")]
    return {
        "sources": sources,
        "data_date": max(dates) if dates else None,
        "sample": sample or any(s.get("sample") for s in sources),
    }


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A row without its bookkeeping (the source id travels in `sources`)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


async def by_name(rt: Runtime, q: str, city: str | None, limit: int) -> dict[str, Any]:
    """Cemeteries matching q by name or reading, kanji or kana, with small typos; best first."""
    index = await cached_index(rt, rt.versions.get(LAYER.id))
    found = index.search(q, city, limit)
    ids, sample = index.provenance(city)
    body = {"query": {"q": q, "city": city, "limit": limit}, "precision": NAME_PRECISION}
    return body | {"cemeteries": [_public(r) for r in found]} | await provenance(rt, ids, sample=sample)


async def nearest(
    rt: Runtime, lat: float, lon: float, limit: int, query: dict[str, Any], precision: dict[str, Any]
) -> dict[str, Any]:
    """The nearest cemeteries to a point with their distance (one SQL statement)."""
    async with rt.public_conn() as conn:
        found = orjson.loads(await conn.fetchval(nearest_sql(), lon, lat, limit))
    ids = [r["_source"] for r in found]
    sample = any(r["sample"] for r in found)
    body = {"query": query, "precision": precision, "cemeteries": [_public(r) for r in found]}
    return body | await provenance(rt, ids, sample=sample)


def address_point(rt: Runtime, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Geocode an address: (the geocoder's answer, the precision stated with the cemeteries)."""
    g = geocode(rt, address)
    if g["outside_service_area"]:
        raise InvalidParameter(f"address: '{address}' is outside 伊万里市 and 武雄市")
    level, uncertainty = g["coordinates_level"], g["uncertainty_m"]
    if g["lat"] is None or g["match_level"] in UNPLACED_LEVELS:
        return g, {
            "match_level": g["match_level"],
            "coordinates_level": level,
            "uncertainty_m": None,
            "approximate": True,
            "message": "住所から大字・町を特定できませんでした。候補から選ぶか、地図上で位置を選んでください。",
        }
    out = {"match_level": g["match_level"], "coordinates_level": level, "uncertainty_m": uncertainty}
    if level in APPROXIMATE_LEVELS:
        out["approximate"] = True
        out["message"] = (
            f"住所は「{g['town']}」（大字・町）までしか特定できないため、その代表点からの距離です"
            f"（位置の誤差 約{round(uncertainty or 0)} m）。実際の距離とは異なることがあります。"
        )
    else:
        out["approximate"] = bool(uncertainty and uncertainty > 50)
        out["message"] = "住所の位置から近い順に示しています（距離は直線距離）。"
    return g, out


def unplaced(query: dict[str, Any], precision: dict[str, Any], candidates: list[dict]) -> dict[str, Any]:
    """The answer when the address gave no point to search from."""
    return {
        "query": query,
        "precision": precision,
        "cemeteries": [],
        "candidates": candidates,
        "sources": [],
        "data_date": None,
        "sample": False,
    }
