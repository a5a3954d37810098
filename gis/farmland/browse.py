"""GET /farmland/parcels: the public browse query, one SQL statement on the layer's summary columns.

The `farmland` layer holds, per polygon, a denormalised public summary of its linked ledger records and latest crop
(gis.farmland.refresh). Every filter is a plain predicate on those columns (indexed: city, land type, intention,
area, 大字); the 大字 + 地番 search goes through the ledger's unique (city, 大字, 地番) key; distance is measured
in EPSG:6670 on `geom_m`, with the candidates first cut by the GiST index of `geom` (the search circle's bounding
box transformed to the column's SRID, never the column). Ordering always ends in the id, so pages are stable and
an index on (sort key, id) serves them. Parcels in 市街化区域 (`urbanised`) are never returned.

`numberMatched` is exact up to COUNT_CAP; past that the answer says `numberMatchedAtLeast` instead, so a broad
query never counts two million rows. The matches are collected once (up to the cap) and serve both the count and,
below the cap, the page.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from gis.cities import CITIES
from gis.errors import InvalidParameter
from gis.farmland.params import INTENTION_LABELS, NOSHIN, BrowseQuery
from gis.lookup.service import geocode
from gis.runtime import Runtime

COUNT_CAP = 10_000
# The search circle's bounding box gains this margin (m) before it is turned into degrees: the box's straight
# edges bend a little in EPSG:6668, and the exact test (ST_DWithin on geom_m) follows anyway.
BOX_MARGIN_M = 50
APPROXIMATE_LEVELS = ("machiaza", "machiaza_detail")
CITY_NAMES = orjson.dumps({code: c.name for code, c in CITIES.items()}).decode()
# {t}: the table alias (the page query, then the aggregate over the page, which must keep its order).
ORDER = {
    "area_m2": "{t}.area_m2 ASC NULLS LAST, {t}.id",
    "-area_m2": "{t}.area_m2 DESC NULLS LAST, {t}.id",
    "distance": "distance_m, {t}.id",
    "available_from": "{t}.available_from ASC NULLS FIRST, {t}.id",
    # By place: the index (city_code, oaza) serves it with or without a city filter.
    "oaza": "{t}.city_code, {t}.oaza NULLS LAST, {t}.id",
}
TOWN_PREFIX = re.compile(r"^(.+?町)(?!大字)(.+)$")


class Args:
    """Bind values collected while the SQL is written: `add` returns the placeholder."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any, cast: str) -> str:
        """The next $n placeholder, cast to the given SQL type."""
        self.values.append(value)
        return f"${len(self.values)}::{cast}"


def oaza_forms(oaza: str) -> list[str]:
    """The spellings of one 大字: Takeo's official form has the word 大字 (武雄町大字武雄), which people omit."""
    forms = [oaza, oaza.replace("大字", "")]
    if "大字" not in oaza:
        forms.append(TOWN_PREFIX.sub(r"\1大字\2", oaza))
    return list(dict.fromkeys(f for f in forms if f))


def point_m(args: Args, q: BrowseQuery) -> str:
    """The query point in EPSG:6670 (metres)."""
    lon, lat = args.add(q.lon, "float8"), args.add(q.lat, "float8")
    return f"ST_Transform(ST_SetSRID(ST_MakePoint({lon}, {lat}), 6668), 6670)"


def where(q: BrowseQuery, args: Args, pt: str | None) -> str:
    """The WHERE clause of the filters (the same for the page and the count)."""
    cond = ["f.urbanised IS NOT TRUE"]
    if q.city:
        cond.append(f"f.city_code = {args.add(q.city, 'text')}")
    if q.oaza:
        forms = args.add(oaza_forms(q.oaza), "text[]")
        if not q.chiban:
            cond.append(f"f.oaza = ANY({forms})")
        else:
            # Through the ledger's (city, 大字, 地番) key: a polygon whose records lie in two 大字 is found too.
            main_only = "-" not in q.chiban
            chiban = args.add(q.chiban, "text")
            branch = f" OR split_part(r.chiban, '-', 1) = {chiban}" if main_only else ""
            city = f" AND r.city_code = {args.add(q.city, 'text')}" if q.city else ""
            cond.append(
                "f.id IN (SELECT l.polygon_id FROM farmland_links l JOIN farmland_ledger r ON r.id = l.ledger_id "
                f"WHERE r.oaza = ANY({forms}){city} AND (r.chiban = {chiban}{branch}))"
            )
    if q.land_type is not None:
        cond.append(f"f.land_type = {args.add(q.land_type, 'int4')}")
    if q.area_min is not None:
        cond.append(f"f.area_m2 >= {args.add(q.area_min, 'float8')}")
    if q.area_max is not None:
        cond.append(f"f.area_m2 <= {args.add(q.area_max, 'float8')}")
    if q.intention:
        cond.append(f"f.intention = {args.add(q.intention, 'text')}")
    if q.available_from is not None:
        cond.append(f"(f.available_from IS NULL OR f.available_from <= {args.add(q.available_from, 'date')})")
    if q.crop:
        cond.append(f"f.crop = {args.add(q.crop, 'text')}")
    if q.noshin:
        cond.append(f"f.noushin_kubun = {args.add(NOSHIN[q.noshin], 'text')}")
    if pt is not None:
        within = args.add(float(q.within_m or 0), "float8")
        margin = args.add(float((q.within_m or 0) + BOX_MARGIN_M), "float8")
        cond.append(f"f.geom && ST_Transform(ST_Expand({pt}, {margin}), 6668)")
        cond.append(f"ST_DWithin(f.geom_m, {pt}, {within})")
    return " AND ".join(cond)


def browse_sql(q: BrowseQuery) -> tuple[str, list[Any]]:
    """The one statement: the page as GeoJSON features, the count (up to the cap) and the source ids."""
    args = Args()
    pt = point_m(args, q) if q.has_point else None
    cond = where(q, args, pt)
    distance = f"round(ST_Distance(f.geom_m, {pt})::numeric, 1)::float8" if pt else "NULL::float8"
    limit, offset = args.add(q.limit, "int8"), args.add(q.offset, "int8")
    cities = args.add(CITY_NAMES, "jsonb")
    cap, most = args.add(COUNT_CAP + 1, "int8"), args.add(COUNT_CAP, "int8")
    # One scan collects the matches (up to the cap) with their sort keys: it is the count, and unless the cap was
    # passed, the page is sorted from it in memory (50 rows then read by id). Past the cap, the ordered query
    # gives the page (an index on the sort key can stop it early). Each branch runs only when its one-time
    # filter holds.
    sql = f"""
WITH m AS MATERIALIZED (
  SELECT f.id, f.city_code, f.oaza, f.area_m2, f.available_from, {distance} AS distance_m
  FROM farmland f WHERE {cond} LIMIT {cap}
), mc AS (
  SELECT count(*) AS n FROM m
), ids AS MATERIALIZED (
  (SELECT m.id, m.distance_m FROM m WHERE (SELECT n FROM mc) <= {most}
   ORDER BY {ORDER[q.sortby].format(t="m")} LIMIT {limit} OFFSET {offset})
  UNION ALL
  (SELECT f.id, {distance} AS distance_m FROM farmland f WHERE {cond} AND (SELECT n FROM mc) > {most}
   ORDER BY {ORDER[q.sortby].format(t="f")} LIMIT {limit} OFFSET {offset})
), page AS MATERIALIZED (
  SELECT f.id, f.city_code, f.oaza, f.chiban, f.land_type, f.land_type_name, f.area_m2, f.noushin_kubun,
         f.intention, f.available_from, f.crop, f.crop_year, f.ledger_count, f.link_confidence, f.data_date,
         f.sample, f.source_id, f.geom, ids.distance_m
  FROM ids JOIN farmland f ON f.id = ids.id
)
SELECT json_build_object(
  'features', coalesce((
    SELECT json_agg(json_build_object(
      'type', 'Feature', 'id', p.id,
      'geometry', ST_AsGeoJSON(p.geom, 6, 0)::json,
      'properties', json_build_object(
        'city_code', p.city_code, 'city', {cities} ->> p.city_code, 'oaza', p.oaza, 'chiban', p.chiban,
        'land_type', p.land_type, 'land_type_name', p.land_type_name, 'area_m2', p.area_m2,
        'noushin_kubun', p.noushin_kubun, 'intention', p.intention,
        'intention_label', CASE p.intention WHEN 'lend' THEN '{INTENTION_LABELS["lend"]}'
                                            WHEN 'sell' THEN '{INTENTION_LABELS["sell"]}' END,
        'available_from', p.available_from, 'crop', p.crop, 'crop_year', p.crop_year,
        'ledger_count', p.ledger_count, 'link_confidence', round(p.link_confidence::numeric, 3)::float8,
        'data_date', p.data_date,
        'distance_m', p.distance_m, 'sample', p.sample)
    ) ORDER BY {ORDER[q.sortby].format(t="p")}) FROM page p), '[]'::json),
  'returned', (SELECT count(*) FROM page),
  'matched', (SELECT n FROM mc),
  'sample', coalesce((SELECT bool_or(sample) FROM page), false),
  'sources', (SELECT coalesce(array_agg(DISTINCT s), '{{}}') FROM (
      SELECT source_id AS s FROM page
      UNION SELECT r.source_id FROM farmland_links l JOIN farmland_ledger r ON r.id = l.ledger_id
            WHERE l.polygon_id IN (SELECT id FROM page)
      UNION SELECT c.source_id FROM farmland_crops c JOIN page p ON p.id = c.polygon_id AND c.year = p.crop_year
  ) u)
)::text
"""
    return sql, args.values


def _location(address: str, g: dict[str, Any]) -> dict[str, Any]:
    """Where an address was placed, stated honestly: a 大字-level match is the 大字's representative point."""
    level = g["coordinates_level"]
    approximate = level in APPROXIMATE_LEVELS
    uncertainty = g.get("uncertainty_m")
    if approximate:
        message = (
            f"住所は「{g.get('town')}」（大字・町）までしか特定できないため、その代表点からの距離です"
            f"（位置の誤差 約{round(uncertainty or 0):,} m）。"
        )
    else:
        message = "住所の位置からの距離です。"
    return {
        "address": address,
        "lat": g["lat"],
        "lon": g["lon"],
        "match_level": g["match_level"],
        "coordinates_level": level,
        "uncertainty_m": uncertainty,
        "town": g.get("town"),
        "approximate": approximate,
        "message": message,
    }


def locate(rt: Runtime, q: BrowseQuery) -> tuple[BrowseQuery, dict[str, Any] | None]:
    """Place the address through the service's geocoder: the query with its point, and the `location` answer."""
    if q.address is None:
        return q, None
    g = geocode(rt, q.address)
    if g["outside_service_area"]:
        raise InvalidParameter(f"address: '{q.address[:60]}' is outside 伊万里市 and 武雄市")
    if g["lat"] is None or g["match_level"] in ("none", "pref", "city"):
        names = [c.get("name") or c.get("address") or "" for c in g.get("candidates") or []][:5]
        hint = f"; candidates: {', '.join(n for n in names if n)}" if any(names) else ""
        raise InvalidParameter(
            f"address: '{q.address[:60]}' could not be placed at 大字 level or better{hint}; "
            "give a 大字 (e.g. 武雄市武雄町大字富岡) or lat/lon"
        )
    return replace(q, lat=g["lat"], lon=g["lon"]), _location(q.address, g)


def links(base: str, q: BrowseQuery, returned: int, has_next: bool) -> list[dict[str, str]]:
    """self, next and prev links carrying the same filters."""
    args = q.args()

    def url(offset: int) -> str:
        return f"{base}/farmland/parcels?" + urlencode({**args, "offset": str(offset)})

    out = [{"href": url(q.offset), "rel": "self", "type": "application/geo+json"}]
    if has_next:
        out.append({"href": url(q.offset + q.limit), "rel": "next", "type": "application/geo+json"})
    if q.offset > 0:
        out.append({"href": url(max(0, q.offset - q.limit)), "rel": "prev", "type": "application/geo+json"})
    return out


async def provenance(rt: Runtime, ids: list[int], sample: bool) -> dict[str, Any]:
    """sources (title, publisher, licence, data date, sample), the newest data date and the sample flag.

    With no rows to cite (nothing matched), the sources behind the farmland tables as a whole.
    """
    by_id, per_layer = await rt.catalog.sources()
    if ids:
        chosen = [by_id[i] for i in sorted(set(ids)) if i in by_id]
    else:
        chosen = [s for lid, ss in per_layer.items() if lid.startswith("farmland") for s in ss]
    sources = [
        {k: s.get(k) for k in ("id", "title", "publisher", "licence", "licence_url", "attribution", "data_date")}
        | {"sample": bool(s.get("sample"))}
        for s in chosen
    ]
    dates = [s["data_date"] for s in sources if s.get("data_date")]
    return {
        "sources": sources,
        "data_date": max(dates) if dates else None,
        "sample": sample or any(s["sample"] for s in sources),
    }


async def parcels(rt: Runtime, q: BrowseQuery, location: dict[str, Any] | None, base: str) -> dict[str, Any]:
    """The FeatureCollection of GET /farmland/parcels."""
    sql, values = browse_sql(q)
    async with rt.public_conn() as conn:
        raw = orjson.loads(await conn.fetchval(sql, *values))
    returned, matched = raw["returned"], raw["matched"]
    exact = matched <= COUNT_CAP
    body: dict[str, Any] = {"type": "FeatureCollection", "features": raw["features"]}
    if exact:
        body["numberMatched"] = matched
    else:
        body["numberMatchedAtLeast"] = COUNT_CAP
    has_next = q.offset + returned < matched if returned else False
    body |= {
        "numberReturned": returned,
        "links": links(base, q, returned, has_next),
        "query": q.public(),
    }
    if location is not None:
        body["location"] = location
    body |= await provenance(rt, raw["sources"], raw["sample"])
    body["timeStamp"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return body
