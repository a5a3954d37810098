"""The garbage API's SQL: each answer is one statement, and PostgreSQL builds its JSON.

Bind parameters only; the effective calendar is the view garbage_calendar (migration 0005). A moved day is found
through the index by its planned date (`planned_day` is the stored event day), then kept when its new date is in
range; times are given in JST (Japan has no daylight saving time, so +09:00 is always right).
"""

from __future__ import annotations

from functools import cache

from gis.geo import METRIC_SRID, STORAGE_SRID
from layers.garbage_points import MOVE_REACH_DAYS, WEEKDAYS_SQL, exception_rule_sql, next_days_sql

POINT_COLUMNS = (
    "t.id, t.point_code, t.name, t.district, t.group_id, t.categories, t.contact_org, t.accessibility, t.city_code"
)
# KNN on the degree geometry finds candidates; the metric distance then orders them. Degrees stretch longitude by
# 1/cos(33°) ≈ 1.2 here, so a few spare candidates keep the metric order exact in practice.
SPARE = 10


def jst(column: str) -> str:
    """An ISO 8601 text of a timestamptz column in JST."""
    return f"""to_char({column} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')"""


@cache
def points_sql() -> str:
    """$1 lon, $2 lat, $3 limit, $4 today (JST) → the nearest points with their group and next day per category."""
    return (
        f"WITH p AS (SELECT g, ST_Transform(g, {METRIC_SRID}) AS m FROM (SELECT ST_SetSRID("
        f"ST_MakePoint($1::double precision, $2::double precision), {STORAGE_SRID}) AS g) s), "
        f"near AS (SELECT {POINT_COLUMNS}, t.sample, t.source_id, "
        "round(ST_Distance(t.geom_m, p.m)::numeric, 1)::float8 AS distance_m, "
        "round(ST_Y(t.geom)::numeric, 7)::float8 AS lat, round(ST_X(t.geom)::numeric, 7)::float8 AS lon "
        f"FROM (SELECT t.* FROM garbage_points t, p ORDER BY t.geom <-> p.g LIMIT $3 * 3 + {SPARE}) t, p "
        "ORDER BY distance_m, t.id LIMIT $3), "
        # Points of one group share its next days: computed once per group.
        f"nx AS (SELECT d.group_id, {next_days_sql('d.group_id', '$4::date')} AS next "
        "FROM (SELECT DISTINCT group_id FROM near) d) "
        "SELECT coalesce(json_agg(json_build_object("
        "'id', n.id, 'point_code', n.point_code, 'name', n.name, 'district', n.district, 'group_id', n.group_id, "
        "'group_name', g.name, 'city_code', n.city_code, 'categories', n.categories, 'distance_m', n.distance_m, "
        "'lat', n.lat, 'lon', n.lon, 'contact_org', n.contact_org, 'accessibility', n.accessibility, "
        "'next', coalesce(nx.next, '[]'::json), "
        "'_sample', n.sample OR coalesce(g.sample, false), '_sources', json_build_array(n.source_id, g.source_id), "
        "'_calendar_sources', (SELECT array_agg(DISTINCT k.source_id) FROM garbage_categories k "
        "WHERE k.city_code = n.city_code)"
        ") ORDER BY n.distance_m, n.id), '[]'::json)::text "
        "FROM near n LEFT JOIN garbage_groups g ON g.group_id = n.group_id LEFT JOIN nx ON nx.group_id = n.group_id"
    )


def _notices(where: str, now: str) -> str:
    return (
        "SELECT coalesce(json_agg(json_build_object('id', n.id, 'city_code', n.city_code, 'group_id', n.group_id, "
        f"'title', n.title, 'body', n.body, 'valid_from', {jst('n.valid_from')}, 'valid_to', {jst('n.valid_to')}, "
        f"'published_at', {jst('n.published_at')}, 'sample', n.sample, '_source', n.source_id) "
        "ORDER BY n.published_at DESC, n.id DESC), '[]'::json) "
        f"FROM garbage_notices n WHERE n.valid_from <= {now} AND (n.valid_to IS NULL OR n.valid_to > {now}) AND {where}"
    )


GROUP_JSON = (
    "json_build_object('id', g.group_id, 'city_code', g.city_code, 'name', g.name, 'code', g.code, "
    "'areas', g.areas, 'area_master', g.area_master, 'center', g.center, 'schedule', g.schedule, "
    "'sample', g.sample, '_source', g.source_id)"
)
CATEGORIES = (
    "SELECT coalesce(json_agg(json_build_object('category', k.category, 'sort', k.sort, 'color', k.color, "
    "'icon', k.icon, 'description', k.description, 'names', k.names, 'sample', k.sample, '_source', k.source_id) "
    "ORDER BY k.sort, k.category), '[]'::json) FROM garbage_categories k WHERE k.city_code = g.city_code"
)
USED_CATEGORIES = (
    "SELECT coalesce(array_agg(DISTINCT e.category), '{}') FROM garbage_events e WHERE e.group_id = g.group_id"
)


@cache
def group_sql() -> str:
    """$1 group id → {group, categories, used} or NULL."""
    return (
        f"SELECT json_build_object('group', {GROUP_JSON}, 'categories', ({CATEGORIES}), "
        f"'used', ({USED_CATEGORIES}))::text FROM garbage_groups g WHERE g.group_id = $1"
    )


@cache
def calendar_sql() -> str:
    """$1 group, $2 from, $3 to, $4 categories (text[], NULL: all), $5 now → the calendar document or NULL."""
    categories = "($4::text[] IS NULL OR {}.category = ANY($4::text[]))"
    reach = MOVE_REACH_DAYS
    days = (
        "SELECT coalesce(json_agg(json_build_object('day', c.day, "
        f"'weekday', {WEEKDAYS_SQL}[extract(isodow FROM c.day)::int], 'category', c.category, 'status', c.status, "
        "'planned_day', c.planned_day, 'reason', c.reason) ORDER BY c.day, coalesce(k.sort, 1000), c.category), "
        "'[]'::json) FROM garbage_calendar c "
        "LEFT JOIN garbage_categories k ON k.city_code = g.city_code AND k.category = c.category "
        "WHERE c.group_id = g.group_id AND c.day BETWEEN $2::date AND $3::date "
        f"AND c.planned_day BETWEEN $2::date - {reach} AND $3::date + {reach} AND {categories.format('c')}"
    )
    cancelled = (
        "SELECT coalesce(json_agg(json_build_object('day', e.day, "
        f"'weekday', {WEEKDAYS_SQL}[extract(isodow FROM e.day)::int], 'category', e.category, 'reason', x.reason) "
        "ORDER BY e.day, e.category), '[]'::json) "
        f"FROM garbage_events e CROSS JOIN LATERAL ({exception_rule_sql('e', 'g.city_code')}) x "
        "WHERE e.group_id = g.group_id AND e.day BETWEEN $2::date AND $3::date AND x.kind = 'cancel' "
        f"AND {categories.format('e')}"
    )
    # The sources behind the exceptions in range (cancellations, moves, extras of this group or the whole city).
    exception_sources = (
        "SELECT coalesce(array_agg(DISTINCT x.source_id), '{}') FROM garbage_exceptions x "
        "WHERE x.city_code = g.city_code AND (x.group_id IS NULL OR x.group_id = g.group_id) "
        "AND (x.day BETWEEN $2::date AND $3::date OR x.new_day BETWEEN $2::date AND $3::date)"
    )
    notices = _notices("n.city_code = g.city_code AND (n.group_id IS NULL OR n.group_id = g.group_id)", "$5")
    return (
        f"SELECT json_build_object('group', {GROUP_JSON}, 'categories', ({CATEGORIES}), "
        f"'used', ({USED_CATEGORIES}), 'days', ({days}), 'cancelled', ({cancelled}), "
        f"'notices', ({notices}), '_exception_sources', ({exception_sources}))::text "
        "FROM garbage_groups g WHERE g.group_id = $1"
    )


@cache
def notices_sql() -> str:
    """$1 city (NULL: both), $2 group (NULL: every group), $3 now → current notices, newest first."""
    where = (
        "($1::text IS NULL OR n.city_code = $1) AND ($2::text IS NULL OR (n.group_id IS NULL OR n.group_id = $2) "
        "AND n.city_code = (SELECT city_code FROM garbage_groups WHERE group_id = $2))"
    )
    return f"SELECT ({_notices(where, '$3')})::text"


@cache
def group_exists_sql() -> str:
    """$1 group id → its city code, or no row."""
    return "SELECT city_code FROM garbage_groups WHERE group_id = $1"


ITEMS_SQL = (
    "SELECT id, city_code, name, category, notice, furigana, reading, romaji, names, fee_type, fee, fee_note, note, "
    "sample, source_id FROM garbage_items ORDER BY id"
)
