"""GET /farmland/stats: parcels and registered areas by 大字 × land type × intention, and per-city totals.

One scan of the layer's summary columns at the finest grain; the totals are sums of those rows, so the two parts
always agree. Parcels in 市街化区域 are left out, as everywhere public. `area_m2` is the registered (ledger) area;
parcels not linked to any ledger record have none and are counted apart (`unlinked`).
"""

from __future__ import annotations

from typing import Any

import orjson

from gis.cities import CITIES
from gis.farmland.browse import provenance
from gis.farmland.params import INTENTION_LABELS, LAND_TYPES
from gis.runtime import Runtime

STATS_SQL = """
SELECT coalesce(json_agg(s ORDER BY s.city_code, s.oaza NULLS LAST, s.land_type, s.intention NULLS FIRST), '[]')::text
FROM (
  SELECT city_code, oaza, land_type, intention, count(*) AS parcels,
         round(sum(area_m2)::numeric, 1)::float8 AS area_m2, count(*) FILTER (WHERE area_m2 IS NULL) AS unlinked,
         bool_or(sample) AS sample
  FROM farmland
  WHERE urbanised IS NOT TRUE AND ($1::text IS NULL OR city_code = $1::text)
  GROUP BY city_code, oaza, land_type, intention
) s
"""
KEYS = ("lend", "sell", None)


def _blank() -> dict[str, Any]:
    return {"parcels": 0, "area_m2": 0.0, "unlinked": 0}


def _add(into: dict[str, Any], row: dict[str, Any]) -> None:
    into["parcels"] += row["parcels"]
    into["area_m2"] = round(into["area_m2"] + (row["area_m2"] or 0.0), 1)
    into["unlinked"] += row["unlinked"]


def summarise(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per 大字 with its land types and intentions, per city totals) from the finest-grain rows."""
    oazas: dict[tuple[str, str | None], dict[str, Any]] = {}
    cities: dict[str, dict[str, Any]] = {}
    for r in rows:
        code = r["city_code"]
        city = cities.setdefault(
            code,
            {
                "city_code": code,
                "city": CITIES[code].name if code in CITIES else None,
                "total": _blank(),
                "by_intention": {k or "none": _blank() for k in KEYS},
                "by_land_type": {str(k): _blank() for k in LAND_TYPES},
            },
        )
        _add(city["total"], r)
        _add(city["by_intention"][r["intention"] or "none"], r)
        city["by_land_type"].setdefault(str(r["land_type"]), _blank())
        _add(city["by_land_type"][str(r["land_type"])], r)
        o = oazas.setdefault((code, r["oaza"]), {"city_code": code, "oaza": r["oaza"], "total": _blank(), "groups": []})
        _add(o["total"], r)
        o["groups"].append(
            {
                "land_type": r["land_type"],
                "land_type_name": LAND_TYPES.get(r["land_type"]),
                "intention": r["intention"],
                "intention_label": INTENTION_LABELS.get(r["intention"] or ""),
                "parcels": r["parcels"],
                "area_m2": r["area_m2"],
                "unlinked": r["unlinked"],
            }
        )
    return list(oazas.values()), list(cities.values())


async def stats(rt: Runtime, city: str | None) -> dict[str, Any]:
    """Counts and registered areas by 大字, land type and intention, plus per-city totals, with sources."""
    async with rt.public_conn() as conn:
        rows = orjson.loads(await conn.fetchval(STATS_SQL, city))
    by_oaza, cities = summarise(rows)
    info = await provenance(rt, [], any(r["sample"] for r in rows))
    return {
        "city": city,
        "cities": cities,
        "by_oaza": by_oaza,
        "notes": {
            "area_m2": "登記面積（農地台帳）の合計。台帳と結び付いていない区画（unlinked）は面積に含まれません。",
            "excluded": "市街化区域の農地は含みません。",
        },
    } | info
