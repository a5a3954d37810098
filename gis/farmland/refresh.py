"""The farmland layer's public summary: per polygon, its linked ledger records' public items and its latest crop.

The tiles, the features API and the browse query read these columns, so they are rewritten after every polygon,
ledger, link or crop load, in that load's transaction. Where several records share a polygon: 地番 joined with
「、」, areas summed, the strictest 農振 and 都市計画 class, an intention only when every record states the same one,
the latest lease end, the oldest ledger date (the honest age of the summary). Parcels with any record in 市街化区域
are marked `urbanised` and publish no ledger item (農地法 §52の3 excludes them).
"""

from __future__ import annotations

import psycopg

from gis.db.provenance import bump_version
from gis.farmland.tables import VERSION_ID

# The strictest class first: a field partly in 農用地区域 is bound by it.
NOUSHIN_ORDER = ("農用地区域内", "農振地域内（農用地区域外）", "農振地域外")
TOSHI_ORDER = ("市街化区域", "市街化調整区域", "非線引き都市計画区域", "準都市計画区域", "都市計画区域外")
URBAN = "市街化区域"
INTENTION_LABELS = {"lend": "貸付希望", "sell": "売渡希望"}

REFRESH_SQL = """
WITH rec AS (
  SELECT l.polygon_id, count(*) AS n, min(l.confidence) AS conf,
    string_agg(DISTINCT r.oaza, '、') AS oaza,
    string_agg(r.chiban, '、' ORDER BY r.oaza,
      (substring(r.chiban FROM '^[^0-9]*([0-9]+)'))::bigint NULLS LAST, r.chiban) AS chiban,
    sum(r.area_m2::numeric)::float8 AS area_m2,  -- exact: a float sum would depend on the row order
    (array_agg(r.noushin_kubun ORDER BY array_position(%(noushin)s::text[], r.noushin_kubun) NULLS LAST))[1]
      AS noushin_kubun,
    (array_agg(r.toshi_kubun ORDER BY array_position(%(toshi)s::text[], r.toshi_kubun) NULLS LAST))[1]
      AS toshi_kubun,
    CASE WHEN count(DISTINCT r.intention) = 1 AND bool_and(r.intention IS NOT NULL) THEN min(r.intention) END
      AS intention,
    string_agg(DISTINCT r.cultivator_no, '、') AS cultivator_no,
    string_agg(DISTINCT r.lease_type, '、') AS lease_type,
    max(r.lease_end) AS lease_end,
    bool_or(r.chukan_kanri) AS chukan_kanri,
    string_agg(DISTINCT r.idle_measure, '、') AS idle_measure,
    min(r.ledger_date) AS data_date,
    coalesce(bool_or(r.toshi_kubun = %(urban)s), false) AS urbanised
  FROM farmland_links l JOIN farmland_ledger r ON r.id = l.ledger_id
  JOIN farmland p ON p.id = l.polygon_id
  WHERE p.city_code = ANY(%(c)s)
  GROUP BY l.polygon_id
),
crop AS (
  SELECT DISTINCT ON (c.polygon_id) c.polygon_id, c.crop, c.year, c.data_date
  FROM farmland_crops c JOIN farmland p ON p.id = c.polygon_id
  WHERE p.city_code = ANY(%(c)s)
  ORDER BY c.polygon_id, c.year DESC, array_position(ARRAY['冬作', '夏作'], c.season), c.id DESC
),
new AS (
  SELECT p.id,
    CASE WHEN NOT r.urbanised THEN r.oaza END AS oaza,
    CASE WHEN NOT r.urbanised THEN r.chiban END AS chiban,
    CASE WHEN NOT r.urbanised THEN r.area_m2 END AS area_m2,
    CASE WHEN NOT r.urbanised THEN r.noushin_kubun END AS noushin_kubun,
    r.toshi_kubun,
    CASE WHEN NOT r.urbanised THEN r.intention END AS intention,
    CASE WHEN NOT r.urbanised THEN r.cultivator_no END AS cultivator_no,
    CASE WHEN NOT r.urbanised THEN r.lease_type END AS lease_type,
    CASE WHEN NOT r.urbanised THEN r.lease_end END AS lease_end,
    CASE WHEN NOT r.urbanised THEN r.chukan_kanri END AS chukan_kanri,
    CASE WHEN NOT r.urbanised THEN r.idle_measure END AS idle_measure,
    r.data_date,
    coalesce(r.n, 0)::int AS ledger_count,
    r.conf::float8 AS link_confidence,
    CASE WHEN NOT r.urbanised AND r.lease_end >= current_date THEN r.lease_end + 1 END AS available_from,
    coalesce(r.urbanised, false) AS urbanised,
    c.crop, c.year AS crop_year, c.data_date AS crop_date
  FROM farmland p
  LEFT JOIN rec r ON r.polygon_id = p.id
  LEFT JOIN crop c ON c.polygon_id = p.id
  WHERE p.city_code = ANY(%(c)s)
)
UPDATE farmland f SET oaza = n.oaza, chiban = n.chiban, area_m2 = n.area_m2, noushin_kubun = n.noushin_kubun,
  toshi_kubun = n.toshi_kubun, intention = n.intention,
  lend_intention = CASE n.intention WHEN 'lend' THEN %(lend)s WHEN 'sell' THEN %(sell)s END,
  cultivator_no = n.cultivator_no, lease_type = n.lease_type, lease_end = n.lease_end,
  chukan_kanri = n.chukan_kanri, idle_measure = n.idle_measure, data_date = n.data_date,
  ledger_count = n.ledger_count, link_confidence = n.link_confidence, available_from = n.available_from,
  urbanised = n.urbanised, crop = n.crop, crop_year = n.crop_year, crop_date = n.crop_date
FROM new n
WHERE f.id = n.id AND (f.oaza, f.chiban, f.area_m2, f.noushin_kubun, f.toshi_kubun, f.intention, f.cultivator_no,
  f.lease_type, f.lease_end, f.chukan_kanri, f.idle_measure, f.data_date, f.ledger_count, f.link_confidence,
  f.available_from, f.urbanised, f.crop, f.crop_year, f.crop_date)
  IS DISTINCT FROM (n.oaza, n.chiban, n.area_m2, n.noushin_kubun, n.toshi_kubun, n.intention, n.cultivator_no,
  n.lease_type, n.lease_end, n.chukan_kanri, n.idle_measure, n.data_date, n.ledger_count, n.link_confidence,
  n.available_from, n.urbanised, n.crop, n.crop_year, n.crop_date)
"""


def refresh_parcels(cur: psycopg.Cursor, cities: list[str], *, bump: bool = True) -> int:
    """Rewrite the summary columns of the cities' polygons (caller's transaction); returns the rows changed.

    With `bump` the farmland layer gets a new version (ETags, caches and tiles follow it at commit).
    """
    cur.execute(
        REFRESH_SQL,
        {
            "c": list(cities),
            "noushin": list(NOUSHIN_ORDER),
            "toshi": list(TOSHI_ORDER),
            "urban": URBAN,
            "lend": INTENTION_LABELS["lend"],
            "sell": INTENTION_LABELS["sell"],
        },
    )
    changed = cur.rowcount
    if bump:
        bump_version(cur, VERSION_ID)
    return changed


__all__ = ["INTENTION_LABELS", "NOUSHIN_ORDER", "TOSHI_ORDER", "refresh_parcels"]
