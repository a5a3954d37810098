"""GET /farmland/parcels/{id}: one polygon with its MAFF items, every linked ledger record and the crop history.

Polygons and ledger records are many-to-many: each record is shown with the confidence and method of its link to
this polygon and the other polygons it is linked to; each group of public items (農地法 §52の3) carries its own data
date. Names never appear: they are not in these tables (the private schema holds them). The contact route is the
city's 農業委員会, never a person.
"""

from __future__ import annotations

from typing import Any

import orjson

from gis.cities import CITIES
from gis.errors import NotFound
from gis.farmland.browse import provenance
from gis.farmland.params import INTENTION_LABELS
from gis.lookup.contacts import city_contacts
from gis.runtime import Runtime

DETAIL_SQL = f"""
WITH f AS (
  SELECT * FROM farmland WHERE id = $1 AND urbanised IS NOT TRUE
)
SELECT json_build_object(
  'feature', (SELECT json_build_object(
    'type', 'Feature', 'id', f.id, 'geometry', ST_AsGeoJSON(f.geom, 6, 0)::json,
    'properties', json_build_object(
      'city_code', f.city_code,
      'polygon_uuid', f.polygon_uuid, 'land_type', f.land_type, 'land_type_name', f.land_type_name,
      'issue_year', f.issue_year, 'edit_year', f.edit_year, 'history', f.history,
      'last_polygon_uuid', f.last_polygon_uuid, 'prev_last_polygon_uuid', f.prev_last_polygon_uuid,
      'local_government_cd', f.local_government_cd, 'point_lng', f.point_lng, 'point_lat', f.point_lat,
      'polygon_area_m2', round(ST_Area(f.geom_m)::numeric, 1)::float8,
      'oaza', f.oaza, 'chiban', f.chiban, 'area_m2', f.area_m2, 'noushin_kubun', f.noushin_kubun,
      'toshi_kubun', f.toshi_kubun, 'intention', f.intention, 'available_from', f.available_from,
      'crop', f.crop, 'crop_year', f.crop_year, 'crop_date', f.crop_date, 'ledger_count', f.ledger_count,
      'link_confidence', round(f.link_confidence::numeric, 3)::float8, 'data_date', f.data_date, 'sample', f.sample),
    '_source', f.source_id) FROM f),
  'records', coalesce((
    SELECT json_agg(json_build_object(
      'id', r.id, 'city_code', r.city_code, 'oaza', r.oaza, 'chiban', r.chiban,
      'link', json_build_object('confidence', round(l.confidence::numeric, 3)::float8, 'method', l.method),
      'location', json_build_object('oaza', r.oaza, 'chiban', r.chiban, 'chimoku', r.chimoku,
                                    'area_m2', r.area_m2, 'data_date', r.ledger_date),
      'kubun', json_build_object('noushin_kubun', r.noushin_kubun, 'toshi_kubun', r.toshi_kubun,
                                 'data_date', r.kubun_date),
      'intention', json_build_object('intention', r.intention,
                                     'label', CASE r.intention WHEN 'lend' THEN '{INTENTION_LABELS["lend"]}'
                                                               WHEN 'sell' THEN '{INTENTION_LABELS["sell"]}' END,
                                     'data_date', r.intention_date),
      'lease', json_build_object('cultivator_no', r.cultivator_no, 'lease_type', r.lease_type,
                                 'lease_end', r.lease_end, 'chukan_kanri', r.chukan_kanri, 'data_date', r.lease_date),
      'idle', json_build_object('idle_measure', r.idle_measure, 'data_date', r.idle_date),
      'other_polygons', coalesce((
        SELECT json_agg(json_build_object('id', o.polygon_id, 'confidence', round(o.confidence::numeric, 3)::float8,
                                          'method', o.method)
                        ORDER BY o.polygon_id)
        FROM farmland_links o JOIN farmland p ON p.id = o.polygon_id AND p.urbanised IS NOT TRUE
        WHERE o.ledger_id = r.id AND o.polygon_id <> $1), '[]'::json),
      'sample', r.sample, '_source', r.source_id
    ) ORDER BY l.confidence DESC, r.oaza, r.chiban)
    FROM f JOIN farmland_links l ON l.polygon_id = f.id JOIN farmland_ledger r ON r.id = l.ledger_id), '[]'::json),
  'crops', coalesce((
    SELECT json_agg(json_build_object('year', c.year, 'season', c.season, 'crop', c.crop,
                                      'data_date', c.data_date, 'sample', c.sample, '_source', c.source_id)
                    ORDER BY c.year DESC, c.season)
    FROM f JOIN farmland_crops c ON c.polygon_id = f.id), '[]'::json)
)::text
"""


def contact(data_dir: Any, city_code: str) -> dict[str, Any]:
    """Who answers about a parcel: the city's 農業委員会 through the city's main number (never a person)."""
    contacts = city_contacts(data_dir)
    office = contacts["cities"].get(city_code, {})
    city = CITIES[city_code].name if city_code in CITIES else city_code
    return {
        "name": f"{city}農業委員会",
        "counter": f"{city}農業委員会事務局（{office.get('name', city)}）",
        "phone": office.get("phone"),
        "phone_note": "代表電話です。「農地の貸し借り・売買」とお伝えください。",
        "address": office.get("address"),
        "web": office.get("web"),
        "how": (
            "所有者・耕作者の氏名や連絡先は公開していません。"
            "このサービスの問い合わせフォームか上の窓口から農業委員会にお問い合わせください。"
        ),
        "source": contacts.get("source"),
        "data_date": contacts.get("data_date"),
    }


def _strip(item: dict[str, Any]) -> int | None:
    return item.pop("_source", None)


async def parcel(rt: Runtime, parcel_id: int) -> dict[str, Any]:
    """One parcel; 404 for an unknown id and for a parcel in 市街化区域 (not public)."""
    async with rt.public_conn() as conn:
        doc = orjson.loads(await conn.fetchval(DETAIL_SQL, parcel_id))
    feature = doc["feature"]
    if feature is None:
        raise NotFound(f"id: no public farmland parcel {parcel_id}")
    ids = [_strip(feature)]
    ids += [_strip(r) for r in doc["records"]]
    ids += [_strip(c) for c in doc["crops"]]
    props = feature["properties"]
    props["city"] = CITIES[props["city_code"]].name if props["city_code"] in CITIES else None
    props["intention_label"] = INTENTION_LABELS.get(props["intention"] or "")
    # The summary's age per group is its oldest record's (as the refresh dates data_date).
    for group, name in (("intention", "intention_date"), ("lease", "lease_date"), ("kubun", "kubun_date")):
        dates = [r[group]["data_date"] for r in doc["records"] if r[group]["data_date"]]
        props[name] = min(dates) if dates else None
    sample = bool(props["sample"]) or any(r["sample"] for r in doc["records"]) or any(c["sample"] for c in doc["crops"])
    feature["records"] = doc["records"]
    feature["crops"] = doc["crops"]
    feature["contact"] = contact(rt.settings.data_dir, props["city_code"])
    info = await provenance(rt, [i for i in ids if i is not None], sample)
    return feature | info
