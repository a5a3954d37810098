"""Garbage collection points (ごみ集積所) with their group and accepted categories."""

from layers.base import Col, Layer, Lookup, define_table

WEEKDAYS_SQL = "(ARRAY['月','火','水','木','金','土','日'])"
# "Today" for residents is the date in Japan, whatever the server's time zone.
JST_TODAY_SQL = "(now() AT TIME ZONE 'Asia/Tokyo')::date"
# A moved day is found by its planned date through the index; no move reaches further than this.
MOVE_REACH_DAYS = 31


def exception_rule_sql(event: str, city: str) -> str:
    """The cancel/move deciding an event (alias `event`), as in the view garbage_calendar: the most specific wins."""
    return (
        f"SELECT x.kind, x.new_day, x.reason FROM garbage_exceptions x WHERE x.day = {event}.day "
        f"AND x.city_code = {city} AND x.kind IN ('cancel', 'move') "
        f"AND (x.group_id IS NULL OR x.group_id = {event}.group_id) "
        f"AND (x.category IS NULL OR x.category = {event}.category) "
        "ORDER BY x.group_id NULLS LAST, x.category NULLS LAST, x.id DESC LIMIT 1"
    )


def next_days_sql(group: str, today: str) -> str:
    """JSON array: the next collection day per category of a group on the effective calendar, from `today`.

    `group` and `today` are SQL expressions (a column of the outer row, a bind parameter). The rules are the view
    garbage_calendar's (cancelled days skipped, a moved day at its new date with status 'move' and its reason, extra
    days added), written per category so the events index stops at the first days instead of reading the whole
    calendar through the view; tests/test_garbage_api.py checks that both agree. Categories: the city's, then any
    other the group's rules name.
    """
    return (
        "(SELECT coalesce(json_agg(json_build_object('category', k.category, 'day', n.day, "
        f"'weekday', {WEEKDAYS_SQL}[extract(isodow FROM n.day)::int], 'status', n.status, 'reason', n.reason) "
        "ORDER BY k.sort, k.category), '[]'::json) "
        "FROM (SELECT gg.group_id, gg.city_code, k.category, min(k.sort) AS sort, bool_or(k.listed) AS listed "
        "FROM garbage_groups gg CROSS JOIN LATERAL ("
        "SELECT c.category, c.sort, true AS listed FROM garbage_categories c WHERE c.city_code = gg.city_code "
        "UNION ALL SELECT j, 1000, false FROM jsonb_object_keys(gg.schedule) j) k "
        f"WHERE gg.group_id = {group} GROUP BY gg.group_id, gg.city_code, k.category) k "
        "CROSS JOIN LATERAL (SELECT d.day, d.status, d.reason FROM ("
        # Days planned from today on, in index order: the first three not cancelled (a move may pass one or two).
        "(SELECT coalesce(x.new_day, e.day) AS day, coalesce(x.kind, 'regular') AS status, x.reason "
        f"FROM garbage_events e LEFT JOIN LATERAL ({exception_rule_sql('e', 'k.city_code')}) x ON true "
        f"WHERE e.group_id = k.group_id AND e.category = k.category AND e.day >= {today} "
        f"AND x.kind IS DISTINCT FROM 'cancel' AND coalesce(x.new_day, e.day) >= {today} ORDER BY e.day LIMIT 3) "
        # Days planned before today but moved to today or later: found from the city's recent moves.
        "UNION ALL (SELECT x.new_day, x.kind, x.reason FROM garbage_exceptions m "
        "JOIN garbage_events e ON e.group_id = k.group_id AND e.category = k.category AND e.day = m.day "
        f"CROSS JOIN LATERAL ({exception_rule_sql('e', 'k.city_code')}) x "
        f"WHERE m.city_code = k.city_code AND m.kind = 'move' AND m.day >= {today} - {MOVE_REACH_DAYS} "
        f"AND m.day < {today} AND m.new_day >= {today} AND x.kind = 'move' AND x.new_day >= {today}) "
        # Extra days.
        "UNION ALL (SELECT x.day, 'extra', x.reason FROM garbage_exceptions x "
        f"WHERE x.city_code = k.city_code AND x.kind = 'extra' AND x.day >= {today} "
        "AND (x.group_id IS NULL OR x.group_id = k.group_id) "
        "AND (x.category = k.category OR (x.category IS NULL AND k.listed)) ORDER BY x.day LIMIT 1)"
        ") d ORDER BY d.day, d.status LIMIT 1) n)"
    )


LAYER = Layer(
    id="garbage_points",
    title="ごみ集積所",
    description="ごみ集積所（行政区・収集グループ・出せる品目）。収集日は収集グループの暦による。",
    geom_type="POINT",
    label="name",
    columns=(
        Col("point_code", title="集積所ID", aliases=("ID",)),
        Col("name", title="名称", required=True, aliases=("名称",), standard_name="名称"),
        Col("district", title="行政区・班", aliases=("行政区",)),
        Col("group_id", title="収集グループ", required=True, aliases=("グループ",)),
        Col("categories", title="出せる品目（区分）", aliases=("品目",)),
        Col("contact_org", title="連絡先（団体）", aliases=("連絡先",)),
        Col("accessibility", title="アクセス", aliases=("バリアフリー情報",), standard_name="バリアフリー情報"),
    ),
    style={"color": "#ff7f00", "radius": 4},
    min_zoom=12,
    cache_seconds=3600,
    lookup=Lookup(
        "nearest",
        "garbage_points",
        key="nearest",
        count=3,
        # Each nearest point with its group's name and next collection day per category (JST), in the same SQL.
        computed=(
            ("group_name", "(SELECT g.name FROM garbage_groups g WHERE g.group_id = t.group_id)"),
            ("next", next_days_sql("t.group_id", JST_TODAY_SQL)),
        ),
    ),
)
define_table(LAYER)
