"""The many-to-many link between 筆ポリゴン and 台帳筆, with how sure each link is.

A record with a position (its 地番's representative point) links to the polygon holding it (confidence 0.9), or,
when no polygon holds it, to the nearest polygon within 5 m (0.6). A record without a position, or whose position
found no polygon, links by its 登記筆 polygon to every polygon it overlaps by at least 10 % of the smaller of the
two areas (confidence = that share). Records with neither stay unlinked and are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

POSITION_CONFIDENCE = 0.9
NEAR_CONFIDENCE = 0.6
NEAR_M = 5.0
MIN_OVERLAP = 0.1
# A prefilter box around a position in degrees (5 m is about 0.00006° of latitude here); the metric test decides.
NEAR_DEG = 0.0001

# Every farmland writer takes this first, so a polygon import and a ledger import never wait on each other's
# links and rows in opposite orders (a deadlock); they run one after the other instead.
DOMAIN_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('gis.farmland'))"
DELETE_SQL = """
DELETE FROM farmland_links l USING farmland_ledger r WHERE l.ledger_id = r.id AND r.city_code = ANY(%(c)s)
"""
POSITION_SQL = """
INSERT INTO farmland_links (polygon_id, ledger_id, confidence, method)
SELECT p.id, r.id, %(conf)s, 'position'
FROM farmland_ledger r JOIN farmland p ON ST_Intersects(p.geom, r.position)
WHERE r.city_code = ANY(%(c)s) AND r.position IS NOT NULL
ON CONFLICT DO NOTHING
"""
NEAR_SQL = """
INSERT INTO farmland_links (polygon_id, ledger_id, confidence, method)
SELECT n.id, r.id, %(conf)s, 'position'
FROM farmland_ledger r
CROSS JOIN LATERAL (
  SELECT p.id FROM farmland p
  WHERE p.geom && ST_Expand(r.position, %(deg)s)
    AND ST_DWithin(p.geom_m, ST_Transform(r.position, 6670), %(m)s)
  ORDER BY ST_Distance(p.geom_m, ST_Transform(r.position, 6670)), p.id
  LIMIT 1
) n
WHERE r.city_code = ANY(%(c)s) AND r.position IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM farmland_links l WHERE l.ledger_id = r.id)
"""
OVERLAP_SQL = """
INSERT INTO farmland_links (polygon_id, ledger_id, confidence, method)
SELECT polygon_id, ledger_id, least(1.0, share), 'overlap' FROM (
  SELECT p.id AS polygon_id, r.id AS ledger_id,
         ST_Area(ST_Intersection(p.geom_m, ST_Transform(r.geom, 6670)))
           / nullif(least(ST_Area(p.geom_m), ST_Area(ST_Transform(r.geom, 6670))), 0) AS share
  FROM farmland_ledger r JOIN farmland p ON p.geom && r.geom AND ST_Intersects(p.geom, r.geom)
  WHERE r.city_code = ANY(%(c)s) AND r.geom IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM farmland_links l WHERE l.ledger_id = r.id)
) s
WHERE share >= %(min)s
"""
COUNT_SQL = """
SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM farmland_links l WHERE l.ledger_id = r.id)),
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM farmland_links l WHERE l.ledger_id = r.id)),
       count(*) FILTER (WHERE r.position IS NULL AND r.geom IS NULL)
FROM farmland_ledger r WHERE r.city_code = ANY(%(c)s)
"""
CITIES_SQL = """
SELECT DISTINCT p.city_code FROM farmland_links l JOIN farmland p ON p.id = l.polygon_id
JOIN farmland_ledger r ON r.id = l.ledger_id WHERE r.city_code = ANY(%(c)s)
"""


@dataclass
class LinkReport:
    """What build_links did: links per method, records linked and not, and the polygons' cities it touched."""

    position: int = 0
    near: int = 0
    overlap: int = 0
    linked: int = 0
    unlinked: int = 0
    no_location: int = 0
    polygon_cities: list[str] = field(default_factory=list)

    @property
    def links(self) -> int:
        """Links written."""
        return self.position + self.overlap

    def lines(self) -> list[str]:
        """The import report's lines (Japanese)."""
        out = [
            f"対応づけ: 地番の代表点 {self.position:,} 件（5 m 以内 {self.near:,} 件を含む）、"
            f"筆形状の重なり {self.overlap:,} 件",
            f"対応づけた台帳筆 {self.linked:,} 件、対応のない台帳筆 {self.unlinked:,} 件",
        ]
        if self.no_location:
            out.append(f"代表点も筆形状もない台帳筆 {self.no_location:,} 件（対応づけできない）")
        return out


def lock_domain(cur: psycopg.Cursor) -> None:
    """Serialise the farmland writers (held to the end of the caller's transaction)."""
    cur.execute(DOMAIN_LOCK_SQL)


def build_links(cur: psycopg.Cursor, cities: list[str]) -> LinkReport:
    """Rebuild the links of the cities' ledger records (in the caller's transaction)."""
    lock_domain(cur)
    c = list(cities)
    rep = LinkReport()
    cur.execute(DELETE_SQL, {"c": c})
    cur.execute(POSITION_SQL, {"c": c, "conf": POSITION_CONFIDENCE})
    rep.position = cur.rowcount
    cur.execute(NEAR_SQL, {"c": c, "conf": NEAR_CONFIDENCE, "deg": NEAR_DEG, "m": NEAR_M})
    rep.near = cur.rowcount
    rep.position += rep.near
    cur.execute(OVERLAP_SQL, {"c": c, "min": MIN_OVERLAP})
    rep.overlap = cur.rowcount
    rep.linked, rep.unlinked, rep.no_location = cur.execute(COUNT_SQL, {"c": c}).fetchone()
    rep.polygon_cities = sorted(r[0] for r in cur.execute(CITIES_SQL, {"c": c}).fetchall())
    return rep


__all__ = ["LinkReport", "build_links", "lock_domain"]
