"""Writing one city's garbage data in the caller's transaction, and reading it back for the exports.

Rows of a city are replaced by difference: rows equal to one already stored keep their id (and a resident's push
subscription keeps its group), the others are deleted or inserted. Groups are upserted by id, so `gis load` twice
gives the same rows and never cascades into subscriptions; a group missing from the new data is deleted with its
events, exceptions, notices and subscriptions. Events are rewritten only for the fiscal years being generated.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gis.errors import ImportFailed
from gis.garbage.kana import readings
from gis.garbage.model import CLOSURE_REASON, CalendarException, Category, CityData, Group, Item, Notice
from gis.garbage.rules import RuleError, schedule_events

Counts = list[tuple[str, int]]
# Exceptions a 5374 center.csv owns: whole-day cancellations of one group with the closure reason.
CLOSURE_SCOPE = (
    " AND kind = 'cancel' AND group_id IS NOT NULL AND category IS NULL AND reason LIKE '%%" + CLOSURE_REASON + "%%'"
)
ITEM_COLS = ("name", "category", "notice", "furigana", "reading", "romaji", "names", "fee_type", "fee", "fee_note")
ITEM_COLS += ("note",)
EXCEPTION_COLS = ("group_id", "category", "day", "kind", "new_day", "reason")
NOTICE_COLS = ("group_id", "title", "body", "valid_from", "valid_to")


def _key(values: Sequence[Any]) -> tuple:
    return tuple(json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, dict) else v for v in values)


def _db(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


def _sync(
    cur: psycopg.Cursor,
    table: str,
    city: str,
    cols: Sequence[str],
    rows: Sequence[Sequence[Any]],
    source_id: int,
    sample: bool,
    scope: str = "",
) -> int:
    """Make the city's rows (within scope) equal to rows; unchanged rows keep their ids. Returns rows inserted."""
    names = ", ".join(cols)
    existing = cur.execute(
        f"SELECT id, {names} FROM {table} WHERE city_code = %s{scope} ORDER BY id", (city,)
    ).fetchall()
    pool: dict[tuple, list[int]] = defaultdict(list)
    for r in existing:
        pool[_key(r[1:])].append(r[0])
    keep, new = [], []
    for row in rows:
        ids = pool.get(_key(row))
        if ids:
            keep.append(ids.pop(0))
        else:
            new.append(row)
    gone = [i for ids in pool.values() for i in ids]
    if gone:
        cur.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", (gone,))
    if keep:
        cur.execute(f"UPDATE {table} SET source_id = %s, sample = %s WHERE id = ANY(%s)", (source_id, sample, keep))
    if new:
        marks = ", ".join(["%s"] * (len(cols) + 3))
        cur.executemany(
            f"INSERT INTO {table} (city_code, {names}, source_id, sample) VALUES ({marks})",
            [(city, *(_db(v) for v in row), source_id, sample) for row in new],
        )
    return len(new)


def write_groups(cur: psycopg.Cursor, city: str, groups: Sequence[Group], source_id: int, sample: bool) -> int:
    """Upsert the city's groups and delete its others (cascading to their events); returns groups deleted."""
    ids = [g.group_id for g in groups]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ImportFailed(f"group id {dup[0]} appears twice")
    taken = cur.execute(
        "SELECT group_id, city_code FROM garbage_groups WHERE group_id = ANY(%s) AND city_code <> %s", (ids, city)
    ).fetchone()
    if taken:
        raise ImportFailed(f"group id {taken[0]} already belongs to city {taken[1]}")
    gone = cur.execute(
        "DELETE FROM garbage_groups WHERE city_code = %s AND NOT (group_id = ANY(%s))", (city, ids)
    ).rowcount
    cur.executemany(
        "INSERT INTO garbage_groups (group_id, city_code, name, schedule, code, areas, area_master, center, "
        "source_id, sample) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (group_id) DO UPDATE SET "
        "city_code = EXCLUDED.city_code, name = EXCLUDED.name, schedule = EXCLUDED.schedule, code = EXCLUDED.code, "
        "areas = EXCLUDED.areas, area_master = EXCLUDED.area_master, center = EXCLUDED.center, "
        "source_id = EXCLUDED.source_id, sample = EXCLUDED.sample",
        [
            (g.group_id, city, g.name, Jsonb(g.schedule), g.code, g.areas, g.area_master, g.center, source_id, sample)
            for g in groups
        ],
    )
    return gone


def write_events(cur: psycopg.Cursor, city: str, groups: Iterable[Group], fiscal_years: Sequence[int]) -> int:
    """Author the events of the given fiscal years from the groups' rules; returns the events of those years."""
    fys = sorted(set(fiscal_years))
    if not fys:
        return 0
    rows = []
    for g in groups:
        try:
            rows += [(g.group_id, c, d, fy) for c, d, fy in schedule_events(g.schedule, fys)]
        except RuleError as e:
            raise ImportFailed(f"group {g.group_id}: {e}") from None
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS garbage_events_stage "
        "(group_id text, category text, day date, fiscal_year int) ON COMMIT DROP"
    )
    cur.execute("TRUNCATE garbage_events_stage")
    with cur.copy("COPY garbage_events_stage (group_id, category, day, fiscal_year) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cur.execute(
        "DELETE FROM garbage_events e USING garbage_groups g WHERE g.group_id = e.group_id AND g.city_code = %s "
        "AND e.fiscal_year = ANY(%s) AND NOT EXISTS (SELECT 1 FROM garbage_events_stage s "
        "WHERE s.group_id = e.group_id AND s.category = e.category AND s.day = e.day)",
        (city, fys),
    )
    cur.execute(
        "INSERT INTO garbage_events (group_id, category, day, fiscal_year) "
        "SELECT group_id, category, day, fiscal_year FROM garbage_events_stage "
        "ON CONFLICT (group_id, category, day) DO UPDATE SET fiscal_year = EXCLUDED.fiscal_year "
        "WHERE garbage_events.fiscal_year <> EXCLUDED.fiscal_year"
    )
    return len(rows)


def write_categories(cur: psycopg.Cursor, city: str, cats: Sequence[Category], source_id: int, sample: bool) -> None:
    """Replace the city's categories (upsert by name, delete the others)."""
    names = [c.category for c in cats]
    if len(set(names)) != len(names):
        raise ImportFailed(f"category {next(n for n in names if names.count(n) > 1)} appears twice")
    cur.execute("DELETE FROM garbage_categories WHERE city_code = %s AND NOT (category = ANY(%s))", (city, names))
    cur.executemany(
        "INSERT INTO garbage_categories (city_code, category, sort, color, icon, description, names, source_id, "
        "sample) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (city_code, category) DO UPDATE SET "
        "sort = EXCLUDED.sort, color = EXCLUDED.color, icon = EXCLUDED.icon, description = EXCLUDED.description, "
        "names = EXCLUDED.names, source_id = EXCLUDED.source_id, sample = EXCLUDED.sample",
        [(city, c.category, c.sort, c.color, c.icon, c.description, Jsonb(c.names), source_id, sample) for c in cats],
    )


def item_row(item: Item) -> tuple:
    """An item as stored: ITEM_COLS values with the kana reading and romaji filled in."""
    reading, romaji = readings(item.name)
    return (item.name, item.category, item.notice, item.furigana, reading, romaji, item.names, item.fee_type,
            item.fee, item.fee_note, item.note)  # fmt: skip


def write_items(
    cur: psycopg.Cursor, city: str, items: Sequence[Item], source_id: int, sample: bool, *, replace: bool = True
) -> int:
    """Replace (or append to) the city's items; returns rows inserted."""
    rows = [item_row(i) for i in items]
    if replace:
        return _sync(cur, "garbage_items", city, ITEM_COLS, rows, source_id, sample)
    marks = ", ".join(["%s"] * (len(ITEM_COLS) + 3))
    cur.executemany(
        f"INSERT INTO garbage_items (city_code, {', '.join(ITEM_COLS)}, source_id, sample) VALUES ({marks})",
        [(city, *(_db(v) for v in r), source_id, sample) for r in rows],
    )
    return len(rows)


def write_city(
    cur: psycopg.Cursor,
    data: CityData,
    source_id: int,
    *,
    fiscal_years: Sequence[int] = (),
    sample: bool = False,
    closures_only: bool = False,
) -> Counts:
    """Replace every table data describes for its city; closures_only limits exceptions to center closures."""
    city, counts = data.city_code, []
    if data.groups is not None:
        write_groups(cur, city, data.groups, source_id, sample)
        counts.append(("garbage_groups", len(data.groups)))
        counts.append(("garbage_events", write_events(cur, city, data.groups, fiscal_years)))
    if data.categories is not None:
        write_categories(cur, city, data.categories, source_id, sample)
        counts.append(("garbage_categories", len(data.categories)))
    if data.exceptions is not None:
        rows = [tuple(getattr(x, c) for c in EXCEPTION_COLS) for x in data.exceptions]
        scope = CLOSURE_SCOPE if closures_only else ""
        _sync(cur, "garbage_exceptions", city, EXCEPTION_COLS, rows, source_id, sample, scope)
        counts.append(("garbage_exceptions", len(rows)))
    if data.items is not None:
        write_items(cur, city, data.items, source_id, sample)
        counts.append(("garbage_items", len(data.items)))
    if data.notices is not None:
        rows = [tuple(getattr(n, c) for c in NOTICE_COLS) for n in data.notices]
        _sync(cur, "garbage_notices", city, NOTICE_COLS, rows, source_id, sample)
        counts.append(("garbage_notices", len(rows)))
    return counts


def replace_report(cur: psycopg.Cursor, data: CityData) -> list[str]:
    """What replacing the city's groups with data's would drop: groups (with their reminders), points' groups."""
    if data.groups is None:
        return []
    ids, out = [g.group_id for g in data.groups], []
    gone, subs = cur.execute(
        "WITH gone AS (SELECT group_id FROM garbage_groups WHERE city_code = %s AND NOT (group_id = ANY(%s))) "
        "SELECT (SELECT count(*) FROM gone), "
        "(SELECT count(*) FROM private.push_subscriptions WHERE group_id IN (SELECT group_id FROM gone))",
        (data.city_code, ids),
    ).fetchone()
    if gone:
        out.append(f"{gone} groups not in the new data are deleted with their events, notices and {subs} reminders")
    stray = cur.execute(
        "SELECT count(*) FROM garbage_points WHERE city_code = %s AND NOT (group_id = ANY(%s))", (data.city_code, ids)
    ).fetchone()[0]
    if stray:
        out.append(f"{stray} collection points (garbage_points) name a group the data does not have")
    return out


def city_has_data(cur: psycopg.Cursor, city: str) -> bool:
    """True when the city has any garbage group, category or item."""
    return cur.execute(
        "SELECT EXISTS (SELECT 1 FROM garbage_groups WHERE city_code = %(c)s) "
        "OR EXISTS (SELECT 1 FROM garbage_categories WHERE city_code = %(c)s) "
        "OR EXISTS (SELECT 1 FROM garbage_items WHERE city_code = %(c)s)",
        {"c": city},
    ).fetchone()[0]


def read_groups(cur: psycopg.Cursor, city: str) -> list[Group]:
    """The city's groups in id order."""
    rows = cur.execute(
        "SELECT group_id, name, schedule, code, areas, area_master, center FROM garbage_groups "
        "WHERE city_code = %s ORDER BY group_id",
        (city,),
    ).fetchall()
    return [Group(r[0], r[1], r[2], r[3], list(r[4] or []), r[5], r[6]) for r in rows]


def read_city(cur: psycopg.Cursor, city: str) -> CityData:
    """Everything stored for one city (items in id order, exceptions by day)."""
    cats = cur.execute(
        "SELECT category, sort, color, icon, description, names FROM garbage_categories WHERE city_code = %s "
        "ORDER BY sort, category",
        (city,),
    ).fetchall()
    exc = cur.execute(
        "SELECT day, kind, reason, group_id, category, new_day FROM garbage_exceptions WHERE city_code = %s "
        "ORDER BY day, group_id NULLS FIRST, id",
        (city,),
    ).fetchall()
    items = cur.execute(
        "SELECT name, category, notice, furigana, names, fee_type, fee, fee_note, note FROM garbage_items "
        "WHERE city_code = %s ORDER BY id",
        (city,),
    ).fetchall()
    notices = cur.execute(
        "SELECT title, body, valid_from, valid_to, group_id FROM garbage_notices WHERE city_code = %s ORDER BY id",
        (city,),
    ).fetchall()
    return CityData(
        city,
        groups=read_groups(cur, city),
        categories=[Category(*r) for r in cats],
        exceptions=[CalendarException(*r) for r in exc],
        items=[Item(*r) for r in items],
        notices=[Notice(*r) for r in notices],
    )


def read_event_days(cur: psycopg.Cursor, city: str) -> dict[tuple[str, str], list[date]]:
    """(group, category) → its planned days, for groups whose rules do not cover some events."""
    out: dict[tuple[str, str], list[date]] = defaultdict(list)
    for group_id, category, day in cur.execute(
        "SELECT e.group_id, e.category, e.day FROM garbage_events e JOIN garbage_groups g USING (group_id) "
        "WHERE g.city_code = %s ORDER BY 1, 2, 3",
        (city,),
    ):
        out[(group_id, category)].append(day)
    return dict(out)


__all__ = [
    "CLOSURE_SCOPE",
    "Counts",
    "city_has_data",
    "item_row",
    "read_city",
    "read_event_days",
    "read_groups",
    "replace_report",
    "write_categories",
    "write_city",
    "write_events",
    "write_groups",
    "write_items",
]
