"""The bundled garbage data as `gis load` leaves it: full fiscal years, exceptions, items, notices, idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import psycopg

from gis.garbage.rules import fiscal_year_dates
from gis.ingest.loader import load_all
from gis.settings import REPO_ROOT

DATA = REPO_ROOT / "data"
JST = timezone(timedelta(hours=9))
TABLES = ("garbage_groups", "garbage_categories", "garbage_exceptions", "garbage_items", "garbage_notices")


def test_every_group_has_both_fiscal_years(conn: psycopg.Connection) -> None:
    groups = conn.execute("SELECT group_id, city_code, schedule FROM garbage_groups ORDER BY 1").fetchall()
    assert {c for _, c, _ in groups} == {"41205", "41206"} and len(groups) == 12
    for group_id, _, schedule in groups:
        for fy in (2026, 2027):
            for category, rule in schedule.items():
                days = [
                    r[0]
                    for r in conn.execute(
                        "SELECT day FROM garbage_events WHERE group_id = %s AND category = %s AND fiscal_year = %s "
                        "ORDER BY day",
                        (group_id, category, fy),
                    )
                ]
                assert days == fiscal_year_dates(rule, fy), (group_id, category, fy)
                assert days and days[0] < date(fy, 5, 1) and days[-1] >= date(fy + 1, 3, 1)
    span = conn.execute("SELECT min(day), max(day) FROM garbage_events").fetchone()
    assert span[0] <= date(2026, 4, 7) and span[1] >= date(2028, 3, 25)


def test_points_name_existing_groups(conn: psycopg.Connection) -> None:
    stray = conn.execute(
        "SELECT count(*) FROM garbage_points p WHERE NOT EXISTS "
        "(SELECT 1 FROM garbage_groups g WHERE g.group_id = p.group_id AND g.city_code = p.city_code)"
    ).fetchone()[0]
    assert stray == 0
    areas = conn.execute("SELECT bool_and(cardinality(areas) > 0 AND code IS NOT NULL) FROM garbage_groups").fetchone()
    assert areas[0]


def test_year_end_closure_and_the_moved_day(conn: psycopg.Connection) -> None:
    closed = conn.execute(
        "SELECT count(*) FROM garbage_calendar WHERE day BETWEEN '2026-12-31' AND '2027-01-03' AND status <> 'extra'"
    ).fetchone()[0]
    planned = conn.execute(
        "SELECT count(*) FROM garbage_events WHERE day BETWEEN '2026-12-31' AND '2027-01-03'"
    ).fetchone()[0]
    assert closed == 0 and planned > 0
    moved = conn.execute(
        "SELECT day, planned_day, status, reason FROM garbage_calendar WHERE group_id = '41205-A' "
        "AND category = 'もえるごみ' AND planned_day = '2026-11-23'"
    ).fetchall()
    assert moved == [(date(2026, 11, 24), date(2026, 11, 23), "move", "祝日のため振替")]
    extra = conn.execute(
        "SELECT count(DISTINCT group_id) FROM garbage_calendar WHERE status = 'extra' AND day = '2026-12-27'"
    ).fetchone()[0]
    assert extra == 6
    reasons = conn.execute("SELECT DISTINCT reason FROM garbage_exceptions WHERE kind = 'cancel'").fetchall()
    assert reasons == [("年末年始",)]


def test_categories_items_and_notices(conn: psycopg.Connection) -> None:
    colours = dict(conn.execute("SELECT category, color FROM garbage_categories WHERE city_code = '41205'").fetchall())
    assert colours["もえるごみ"] == "#1f5fbf" and colours["ビン類"] == "#d9333f" and "粗大ごみ" in colours
    for city in ("41205", "41206"):
        n, with_names, kana = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE names ?& array['en', 'zh', 'ko', 'vi']), "
            "count(*) FILTER (WHERE reading IS NOT NULL AND romaji IS NOT NULL) "
            "FROM garbage_items WHERE city_code = %s",
            (city,),
        ).fetchone()
        assert n >= 30 and with_names >= 10 and kana == n
    pet = conn.execute(
        "SELECT reading, romaji, names->>'en' FROM garbage_items WHERE city_code = '41205' AND name = 'ペットボトル'"
    ).fetchone()
    assert pet == ("ぺっとぼとる", "pettobotoru", "PET bottle")
    futon = conn.execute("SELECT category, fee FROM garbage_items WHERE city_code = '41206' AND name = '布団'")
    futon = futon.fetchone()
    assert futon == ("粗大ごみ", "500")
    notices = conn.execute("SELECT city_code, group_id, title, valid_from, valid_to FROM garbage_notices").fetchall()
    assert len(notices) == 3 and all(t.startswith("（サンプル）") for _, _, t, _, _ in notices)
    assert any(g is None and f == datetime(2026, 12, 1, tzinfo=JST) for _, g, _, f, _ in notices)
    assert any(g == "41205-A" for _, g, _, _, _ in notices)


def test_all_sample_with_provenance(conn: psycopg.Connection) -> None:
    for table in TABLES:
        flags = conn.execute(
            f"SELECT bool_and(t.sample), bool_and(s.sample), count(DISTINCT s.layer_id) FROM {table} t "
            "JOIN sources s ON s.id = t.source_id"
        ).fetchone()
        assert flags == (True, True, 1), table
    assert conn.execute("SELECT version FROM layer_state WHERE layer_id = 'garbage'").fetchone()


def test_second_load_keeps_rows_ids_and_subscriptions(scratch_url: str) -> None:
    def state(conn: psycopg.Connection) -> dict:
        sql = (
            "SELECT md5(string_agg(j, ',' ORDER BY j)) FROM (SELECT (to_jsonb(x) - 'source_id')::text AS j FROM {} x) s"
        )
        return {t: conn.execute(sql.format(t)).fetchone()[0] for t in (*TABLES, "garbage_events")}

    with psycopg.connect(scratch_url) as conn:
        conn.execute(
            "INSERT INTO private.push_subscriptions (endpoint, p256dh, auth, group_id, removal_sha256) "
            "VALUES ('https://push.example/1', 'k', 'a', '41205-B', 'h')"
        )
        conn.commit()
        before = state(conn)
        version = conn.execute("SELECT version FROM layer_state WHERE layer_id = 'garbage'").fetchone()[0]
        load_all(conn, DATA, log=lambda _: None)
        assert state(conn) == before
        assert conn.execute("SELECT count(*) FROM private.push_subscriptions").fetchone()[0] == 1
        assert conn.execute("SELECT version FROM layer_state WHERE layer_id = 'garbage'").fetchone()[0] > version
