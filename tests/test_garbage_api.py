"""The garbage API: nearest points with next days (JST), group calendars with exceptions, iCalendar with alarms,
item search, notices (JSON and Atom), the report's garbage section, sources/sample everywhere, no private data.

The tests run on their own rows (every garbage row of the loaded data is removed first), so they do not depend on
the bundled sample; one test checks the bundled sample end to end when it holds a calendar.
"""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.garbage import service
from tests.conftest import Cluster, get_when_changed, make_client

JST = ZoneInfo("Asia/Tokyo")
# 00:30 on Tuesday 29 December in Japan is still Monday the 28th in UTC: "today" must be the 29th.
NOW = datetime(2026, 12, 29, 0, 30, tzinfo=JST)
HERE = (129.8800, 33.2650)  # lon, lat of the test points (伊万里市)
REAL = (129.9500, 33.3000)  # a point whose group's days follow the real date (the report uses the database clock)
SECRET = "SECRET-PUSH-ENDPOINT-abc123"
_names = itertools.count()


def _weekly(start: date, end: date, weekdays: set[int]) -> list[date]:
    return [
        start + timedelta(days=i) for i in range((end - start).days + 1) if (start + timedelta(i)).weekday() in weekdays
    ]


def _fill(url: str) -> None:
    """Replace every garbage row with the test's own: two groups, points, a calendar with exceptions, items, notices."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in ("garbage_events", "garbage_exceptions", "garbage_notices", "garbage_items", "garbage_categories"):
            cur.execute(f"DELETE FROM {table}")
        cur.execute("DELETE FROM garbage_points")
        cur.execute("DELETE FROM garbage_groups")
        info = SourceInfo(
            title="テスト用ごみデータ",
            publisher="テスト市",
            licence="CC0",
            attribution="テスト出典",
            data_date=date(2026, 12, 1),
            sample=True,
        )
        src = insert_source(cur, "garbage", info, city_codes=["41205", "41206"])
        psrc = insert_source(cur, "garbage_points", info, city_codes=["41205", "41206"])
        schedule = {"もえるごみ": "月 木", "ビン類": "水2", "ペットボトル": "水4"}
        # T-R is a Takeo group, away from Imari's year-end cancellations (its days follow the real date).
        for gid, city, name in (
            ("T-A", "41205", "テスト A地区"),
            ("T-B", "41205", "テスト B地区"),
            ("T-R", "41206", "テスト R地区"),
        ):
            cur.execute(
                "INSERT INTO garbage_groups (group_id, city_code, name, schedule, areas, source_id, sample) "
                "VALUES (%s, %s, %s, %s, %s, %s, true)",
                (gid, city, name, json.dumps(schedule, ensure_ascii=False), ["立花町"], src),
            )
        for cat, sort, color, en in (
            ("もえるごみ", 0, "#1f5fbf", "Burnable"),
            ("ビン類", 2, "#d9333f", "Bottles"),
            ("ペットボトル", 3, "#3fa34d", "PET bottles"),
        ):
            cur.execute(
                "INSERT INTO garbage_categories (city_code, category, sort, color, description, names, source_id, "
                "sample) VALUES ('41205', %s, %s, %s, '朝8時30分までに', %s, %s, true)",
                (cat, sort, color, json.dumps({"en": en}), src),
            )
        events = [("もえるごみ", d) for d in _weekly(date(2026, 12, 1), date(2027, 2, 28), {0, 3})]
        events += [("ビン類", date(2026, 12, 9)), ("ビン類", date(2027, 1, 13)), ("ビン類", date(2027, 2, 10))]
        events += [("ペットボトル", date(2026, 12, 23)), ("ペットボトル", date(2027, 1, 27))]
        for gid in ("T-A", "T-B"):
            for cat, d in events:
                cur.execute("INSERT INTO garbage_events VALUES (%s, %s, %s, 2026)", (gid, cat, d))
        today = datetime.now(JST).date()  # T-R: days relative to the real date, for the report (SQL clock)
        for cat, d in (
            ("もえるごみ", today + timedelta(2)),
            ("もえるごみ", today + timedelta(9)),
            ("ビン類", today + timedelta(5)),
        ):
            cur.execute("INSERT INTO garbage_events VALUES ('T-R', %s, %s, 2026)", (cat, d))
        exceptions = [
            ("41205", None, None, date(2026, 12, 31), "cancel", None, "年末年始"),
            ("41205", None, None, date(2027, 1, 1), "cancel", None, "年末年始"),
            ("41205", "T-A", "もえるごみ", date(2027, 1, 4), "move", date(2027, 1, 5), "振替（テスト）"),
            ("41205", "T-A", "ビン類", date(2026, 12, 29), "extra", None, "臨時収集（テスト）"),
            ("41205", "T-B", None, date(2026, 12, 31), "move", date(2027, 1, 2), "B地区は土曜に振替"),  # beats the city
            ("41206", "T-R", "ビン類", today + timedelta(5), "cancel", None, "点検"),
        ]
        for city, gid, cat, d, kind, new, reason in exceptions:
            cur.execute(
                "INSERT INTO garbage_exceptions (city_code, group_id, category, day, kind, new_day, reason, source_id, "
                "sample) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)",
                (city, gid, cat, d, kind, new, reason, src),
            )
        points = [("T-A-1", "T-A", 0.0, 0.0), ("T-A-2", "T-A", 0.0004, 0.0), ("T-B-1", "T-B", 0.0, 0.0020)]
        for code, gid, dlon, dlat in points:
            cur.execute(
                "INSERT INTO garbage_points (city_code, source_id, sample, point_code, name, district, group_id, "
                "categories, contact_org, accessibility, geom) VALUES ('41205', %s, true, %s, %s, '立花町 1区', %s, "
                "'もえるごみ,ビン類,ペットボトル', '立花町区長会', '段差なし', "
                "ST_SetSRID(ST_MakePoint(%s, %s), 6668))",
                (psrc, code, f"集積所 {code}", gid, HERE[0] + dlon, HERE[1] + dlat),
            )
        cur.execute(
            "INSERT INTO garbage_points (city_code, source_id, sample, point_code, name, group_id, geom) "
            "VALUES ('41206', %s, true, 'T-R-1', '集積所 T-R-1', 'T-R', ST_SetSRID(ST_MakePoint(%s, %s), 6668))",
            (psrc, *REAL),
        )
        items = [
            (
                "ペットボトル",
                "ペットボトル",
                None,
                None,
                {"en": "PET bottle", "zh": "塑料瓶", "ko": "페트병", "vi": "chai nhựa"},
            ),
            ("ペットボトルのキャップ", "もえるごみ", None, None, {"en": "PET bottle cap"}),
            ("空き缶", "空き缶・金属類", "あきかん", "akikan", {"en": "empty can"}),
            ("乾電池", "有害ごみ", None, None, {}),
            ("蛍光灯", "有害ごみ", None, None, {}),
        ]
        for name, cat, reading, romaji, names in items:
            cur.execute(
                "INSERT INTO garbage_items (city_code, name, category, notice, reading, romaji, names, source_id, "
                "sample) VALUES ('41205', %s, %s, 'テストの注意点', %s, %s, %s, %s, true)",
                (name, cat, reading, romaji, json.dumps(names, ensure_ascii=False), src),
            )
        cur.execute(
            "INSERT INTO garbage_items (city_code, name, category, names, source_id, sample) "
            "VALUES ('41206', 'ペットボトル', '資源物', '{}', %s, true)",
            (src,),
        )
        notices = [
            (
                "41205",
                None,
                "年末年始の収集",
                "12月31日と1月1日は収集しません。",
                "2026-12-01T00:00+09:00",
                "2027-01-11T00:00+09:00",
                "2026-12-01T09:00+09:00",
            ),
            (
                "41205",
                "T-A",
                "A地区の臨時収集",
                "12月29日にビン類を臨時収集します。",
                "2026-12-20T00:00+09:00",
                None,
                "2026-12-20T09:00+09:00",
            ),
            (
                "41205",
                None,
                "終わったお知らせ",
                "表示されない",
                "2026-11-01T00:00+09:00",
                "2026-12-20T00:00+09:00",
                "2026-11-01T09:00+09:00",
            ),
            (
                "41205",
                None,
                "先のお知らせ",
                "まだ表示されない",
                "2027-01-05T00:00+09:00",
                None,
                "2026-12-25T09:00+09:00",
            ),
            ("41206", None, "武雄のお知らせ", "武雄市", "2026-12-01T00:00+09:00", None, "2026-12-02T09:00+09:00"),
        ]
        for city, gid, title, body, start, end, published in notices:
            cur.execute(
                "INSERT INTO garbage_notices (city_code, group_id, title, body, valid_from, valid_to, published_at, "
                "source_id, sample) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)",
                (city, gid, title, body, start, end, published, src),
            )
        cur.execute(
            "INSERT INTO private.push_subscriptions (endpoint, p256dh, auth, group_id, removal_sha256) "
            "VALUES (%s, 'SECRET-KEY', 'SECRET-AUTH', 'T-A', 'x')",
            (f"https://push.example/{SECRET}",),
        )
        bump_version(cur, "garbage")
        bump_version(cur, "garbage_points")


@pytest.fixture(scope="module")
def gurl(cluster: Cluster, loaded_template: str) -> Iterator[str]:
    """A copy of the loaded database holding only the test's garbage rows."""
    name = f"gis_garbage_api_{next(_names)}"
    url = cluster.create(name, template=loaded_template)
    _fill(url)
    yield url
    cluster.drop(name)


@pytest.fixture(scope="module")
def gc(gurl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API on that database."""
    with make_client(gurl, tmp_path_factory.mktemp("garbage")) as c:
        yield c


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The service's clock at NOW (JST)."""
    monkeypatch.setattr(service, "now", lambda: NOW)
    return NOW


def _provenance_ok(body: dict) -> None:
    assert body["sample"] is True
    assert any(s["title"] == "テスト用ごみデータ" for s in body["sources"]), body["sources"]
    assert body["data_date"] == "2026-12-01"


# -- points --------------------------------------------------------------------------------------------------------


def test_points_nearest_with_next_days_in_jst(gc: TestClient, fixed: datetime) -> None:
    r = gc.get("/garbage/points", params={"lat": HERE[1], "lon": HERE[0], "limit": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    _provenance_ok(body)
    pts = body["points"]
    assert [p["point_code"] for p in pts] == ["T-A-1", "T-A-2"]
    assert pts[0]["distance_m"] == 0 and 30 < pts[1]["distance_m"] < 45
    p = pts[0]
    assert p["group_id"] == "T-A" and p["group_name"] == "テスト A地区" and p["accessibility"] == "段差なし"
    assert abs(p["lat"] - HERE[1]) < 1e-6 and abs(p["lon"] - HERE[0]) < 1e-6 and isinstance(p["id"], int)
    nxt = {d["category"]: d for d in p["next"]}
    assert [d["category"] for d in p["next"]] == ["もえるごみ", "ビン類", "ペットボトル"]  # the city's order
    # 12-31 (Thu) is cancelled for the whole city; 01-04 (Mon) moved to 01-05; UTC's "today" (12-28) would give 12-28.
    assert nxt["もえるごみ"] == {
        "category": "もえるごみ",
        "day": "2027-01-05",
        "weekday": "火",
        "status": "move",
        "reason": "振替（テスト）",
    }
    assert nxt["ビン類"]["day"] == "2026-12-29" and nxt["ビン類"]["status"] == "extra"
    assert nxt["ペットボトル"]["day"] == "2027-01-27" and nxt["ペットボトル"]["weekday"] == "水"
    assert body["precision"]["approximate"] is False and body["today"] == "2026-12-29"


def test_group_exception_beats_the_city_cancellation(gc: TestClient, fixed: datetime) -> None:
    pts = gc.get("/garbage/points", params={"lat": HERE[1] + 0.002, "lon": HERE[0], "limit": 1}).json()["points"]
    assert pts[0]["group_id"] == "T-B"
    burn = next(d for d in pts[0]["next"] if d["category"] == "もえるごみ")
    assert (burn["day"], burn["status"], burn["reason"]) == ("2027-01-02", "move", "B地区は土曜に振替")


def test_next_days_agree_with_the_calendar_view(gurl: str, gc: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "next" is written per category for speed; it must give what garbage_calendar gives, on any day."""
    start = date(2026, 12, 20)
    with psycopg.connect(gurl) as conn:
        for offset in range(0, 24):  # across the cancellations, the extra day and a move seen before and after
            on = start + timedelta(days=offset)
            monkeypatch.setattr(service, "now", lambda on=on: datetime.combine(on, datetime.min.time(), JST))
            body = gc.get("/garbage/points", params={"lat": HERE[1], "lon": HERE[0], "limit": 3}).json()
            for p in body["points"]:
                rows = conn.execute(
                    "SELECT DISTINCT ON (category) category, day, status FROM garbage_calendar "
                    "WHERE group_id = %s AND day >= %s ORDER BY category, day, status",
                    (p["group_id"], on),
                ).fetchall()
                want = {c: (d.isoformat(), s) for c, d, s in rows}
                assert {d["category"]: (d["day"], d["status"]) for d in p["next"]} == want, (on, p["group_id"])


def test_points_by_address_state_the_precision(gc: TestClient, fixed: datetime) -> None:
    r = gc.get("/garbage/points", params={"address": "伊万里市立花町"})
    assert r.status_code == 200, r.text
    body = r.json()
    prec = body["precision"]
    assert prec["match_level"] == "machiaza" and prec["approximate"] is True and prec["uncertainty_m"] > 100
    assert "大字" in prec["message"] and "立花町" in prec["message"]
    assert body["query"]["lat"] is not None and len(body["points"]) == 3
    _provenance_ok(body)
    unknown = gc.get("/garbage/points", params={"address": "伊万里市どこでもない町"}).json()
    assert unknown["points"] == [] and unknown["precision"]["message"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"lat": "33.2", "lon": "abc"}, "lon"),
        ({"lon": "129.9"}, "lat"),
        ({"lat": "91", "lon": "129.9"}, "lat"),
        ({"lat": "３３.２", "lon": "129.9"}, "lat"),
        ({"lat": "nan", "lon": "129.9"}, "lat"),
        ({"lat": "51.5", "lon": "129.9"}, "lat"),
        ({"lat": "33.2", "lon": "-0.1"}, "lon"),
        ({"lat": "33.2", "lon": "129.9", "limit": "0"}, "limit"),
        ({"lat": "33.2", "lon": "129.9", "limit": "21"}, "limit"),
        ({"lat": "33.2", "lon": "129.9", "lng": "1"}, "lng"),
        ({"address": "伊万里市立花町", "lat": "33.2"}, "address"),
        ({"address": "  "}, "address"),
    ],
)
def test_points_bad_parameters(gc: TestClient, query: dict, name: str) -> None:
    r = gc.get("/garbage/points", params=query)
    assert r.status_code == 400 and r.json()["description"].startswith(f"{name}:"), r.text


def test_points_etag_and_304(gc: TestClient, fixed: datetime) -> None:
    r = gc.get("/garbage/points", params={"lat": HERE[1], "lon": HERE[0]})
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    again = gc.get("/garbage/points", params={"lat": HERE[1], "lon": HERE[0]}, headers={"if-none-match": etag})
    assert again.status_code == 304


# -- groups and calendars ------------------------------------------------------------------------------------------


def test_group(gc: TestClient) -> None:
    body = gc.get("/garbage/groups/T-A").json()
    assert body["name"] == "テスト A地区" and body["city"] == "伊万里市" and body["areas"] == ["立花町"]
    cats = body["categories"]
    assert [c["category"] for c in cats] == ["もえるごみ", "ビン類", "ペットボトル"]
    assert cats[0]["color"] == "#1f5fbf" and cats[0]["rule"] == "月 木" and cats[0]["names"]["en"] == "Burnable"
    _provenance_ok(body)
    r = gc.get("/garbage/groups/NOPE")
    assert r.status_code == 404 and "group_id" in r.json()["description"]


def test_calendar_days_cancellations_moves_extras_and_notices(gc: TestClient, fixed: datetime) -> None:
    r = gc.get("/garbage/groups/T-A/calendar", params={"from": "2026-12-28", "to": "2027-01-10"})
    assert r.status_code == 200, r.text
    body = r.json()
    days = [(d["day"], d["weekday"], d["category"], d["status"], d["planned_day"], d["reason"]) for d in body["days"]]
    assert days == [
        ("2026-12-28", "月", "もえるごみ", "regular", "2026-12-28", None),
        ("2026-12-29", "火", "ビン類", "extra", "2026-12-29", "臨時収集（テスト）"),
        ("2027-01-05", "火", "もえるごみ", "move", "2027-01-04", "振替（テスト）"),
        ("2027-01-07", "木", "もえるごみ", "regular", "2027-01-07", None),
    ]
    assert [(c["day"], c["category"], c["reason"]) for c in body["cancelled"]] == [
        ("2026-12-31", "もえるごみ", "年末年始")
    ]
    assert body["group"]["id"] == "T-A" and body["from"] == "2026-12-28" and body["to"] == "2027-01-10"
    assert [c["category"] for c in body["categories"]] == ["もえるごみ", "ビン類", "ペットボトル"]
    assert [n["title"] for n in body["notices"]] == ["A地区の臨時収集", "年末年始の収集"]
    _provenance_ok(body)
    only = gc.get(
        "/garbage/groups/T-A/calendar", params={"from": "2026-12-28", "to": "2027-01-10", "category": "ビン類"}
    ).json()
    assert [d["day"] for d in only["days"]] == ["2026-12-29"] and only["cancelled"] == []


def test_calendar_defaults_to_a_month_from_today_in_jst(gc: TestClient, fixed: datetime) -> None:
    body = gc.get("/garbage/groups/T-A/calendar").json()
    assert (body["from"], body["to"]) == ("2026-12-29", "2027-01-29")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"from": "2027-01-10", "to": "2027-01-01"}, "to"),
        ({"from": "2026-01-01", "to": "2027-01-03"}, "to"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "20261201"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"from": "9999-12-15"}, "to"),
        ({"category": "粗大ごみ"}, "category"),
        ({"form": "2026-12-01"}, "form"),
    ],
)
def test_calendar_bad_parameters(gc: TestClient, fixed: datetime, query: dict, name: str) -> None:
    r = gc.get("/garbage/groups/T-A/calendar", params=query)
    assert r.status_code == 400 and r.json()["description"].startswith(f"{name}:"), r.text


def test_calendar_of_an_unknown_group_is_404(gc: TestClient) -> None:
    for path in ("/garbage/groups/NOPE/calendar", "/garbage/groups/NOPE/calendar.ics"):
        r = gc.get(path)
        assert r.status_code == 404 and "NOPE" in r.json()["description"], path
    for odd in ("%00", "a%01b", "x" * 101):  # ids no group can have never reach the database
        for suffix in ("", "/calendar", "/calendar.ics"):
            r = gc.get(f"/garbage/groups/{odd}{suffix}")
            assert r.status_code == 404 and r.json()["description"].startswith("group_id:"), (odd, suffix)


def test_ics_parses_back_with_alarms_the_evening_before(gc: TestClient, fixed: datetime) -> None:
    r = gc.get("/garbage/groups/T-A/calendar.ics", params={"months": "1", "alarm": "19:00"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Tokyo" and "テスト A地区" in str(cal["X-WR-CALNAME"])
    events = cal.walk("VEVENT")
    got = [(e.decoded("dtstart"), str(e["summary"])) for e in events]
    assert (date(2026, 12, 29), "ビン類") in got and (date(2027, 1, 5), "もえるごみ") in got
    assert (date(2026, 12, 31), "もえるごみ") not in got  # cancelled
    assert min(d for d, _ in got) == date(2026, 12, 29) and max(d for d, _ in got) <= date(2027, 1, 29)
    assert len({str(e["uid"]) for e in events}) == len(events)
    for e in events:
        assert e.decoded("dtend") - e.decoded("dtstart") == timedelta(days=1)
        alarms = e.walk("VALARM")
        assert len(alarms) == 1 and str(alarms[0]["action"]) == "DISPLAY"
        start = datetime.combine(e.decoded("dtstart"), datetime.min.time())
        assert start + alarms[0].decoded("trigger") == start - timedelta(days=1) + timedelta(hours=19)
    moved = next(e for e in events if e.decoded("dtstart") == date(2027, 1, 5))
    assert "振替（テスト）" in str(moved["description"]) and "2027-01-04" in str(moved["description"])
    late = gc.get("/garbage/groups/T-A/calendar.ics", params={"alarm": "21:30", "categories": "ペットボトル"})
    cal = icalendar.Calendar.from_ical(late.content)
    assert {str(e["summary"]) for e in cal.walk("VEVENT")} == {"ペットボトル"}
    assert cal.walk("VALARM")[0].decoded("trigger") == -timedelta(hours=2, minutes=30)
    # The same group, category and planned day keep their UID whatever else is asked.
    first = {str(e["uid"]) for e in events}
    assert all(str(e["uid"]) in first for e in cal.walk("VEVENT") if e.decoded("dtstart") <= date(2027, 1, 29))


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"alarm": "09:00"}, "alarm"),
        ({"alarm": "25:00"}, "alarm"),
        ({"alarm": "7pm"}, "alarm"),
        ({"months": "0"}, "months"),
        ({"months": "25"}, "months"),
        ({"categories": "もえるごみ,粗大ごみ"}, "categories"),
    ],
)
def test_ics_bad_parameters(gc: TestClient, fixed: datetime, query: dict, name: str) -> None:
    r = gc.get("/garbage/groups/T-A/calendar.ics", params=query)
    assert r.status_code == 400 and r.json()["description"].startswith(f"{name}:"), r.text


# -- items ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    ["ぺっとぼとる", "petto botoru", "pettobotoru", "ﾍﾟｯﾄﾎﾞﾄﾙ", "ペットボトル", "ペットボトオ", "PET bottle", "塑料瓶"],
)
def test_item_search_finds_pet_bottles_first(gc: TestClient, q: str) -> None:
    r = gc.get("/garbage/items", params={"q": q, "city": "41205"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["items"], q
    first = body["items"][0]
    assert first["name"] == "ペットボトル" and first["category"] == "ペットボトル", (q, body["items"][:3])
    assert first["match"] and 0 < first["score"] <= 100 and first["names"]["en"] == "PET bottle"
    _provenance_ok(body)


def test_item_search_matches(gc: TestClient) -> None:
    def first(q: str) -> dict:
        return gc.get("/garbage/items", params={"q": q, "city": "41205"}).json()["items"][0]

    assert first("PET bottle")["match"] == "exact:en"
    assert first("あきかん")["name"] == "空き缶" and first("akikan")["match"] == "exact:romaji"
    assert first("けいこうとう")["name"] == "蛍光灯"  # the reading computed at index time (the column is empty)
    assert first("缶")["name"] == "空き缶"
    both = gc.get("/garbage/items", params={"q": "ペットボトル"}).json()["items"]
    assert {i["city_code"] for i in both if i["name"] == "ペットボトル"} == {"41205", "41206"}
    takeo = gc.get("/garbage/items", params={"q": "ペットボトル", "city": "41206"}).json()["items"]
    assert [i["city_code"] for i in takeo] == ["41206"]
    nothing = gc.get("/garbage/items", params={"q": "ｘｙｚｚｙ"}).json()
    assert nothing["items"] == [] and "sample" in nothing and "sources" in nothing


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"q": ""}, "q"),
        ({}, "q"),
        ({"q": "あ" * 101}, "q"),
        ({"q": "a", "city": "13101"}, "city"),
        ({"q": "a", "limit": "0"}, "limit"),
    ],
)
def test_item_search_bad_parameters(gc: TestClient, query: dict, name: str) -> None:
    r = gc.get("/garbage/items", params=query)
    assert r.status_code == 400 and r.json()["description"].startswith(f"{name}:"), r.text


# -- notices -------------------------------------------------------------------------------------------------------


def test_notices_json(gc: TestClient, fixed: datetime) -> None:
    body = gc.get("/garbage/notices", params={"city": "41205"}).json()
    assert [n["title"] for n in body["notices"]] == ["A地区の臨時収集", "年末年始の収集"]  # newest first
    n = body["notices"][1]
    assert n["valid_from"] == "2026-12-01T00:00:00+09:00" and n["valid_to"] == "2027-01-11T00:00:00+09:00"
    assert n["published_at"].endswith("+09:00") and body["now"].endswith("+09:00")
    _provenance_ok(body)
    group_b = gc.get("/garbage/notices", params={"group": "T-B"}).json()
    assert [n["title"] for n in group_b["notices"]] == ["年末年始の収集"]
    both = gc.get("/garbage/notices", params={"city": ""}).json()
    assert {n["city_code"] for n in both["notices"]} == {"41205", "41206"}
    assert gc.get("/garbage/notices", params={"group": "NOPE"}).status_code == 404
    assert gc.get("/garbage/notices", params={"city": "41206", "group": "T-A"}).status_code == 400


def test_notices_atom(gc: TestClient, fixed: datetime) -> None:
    r = gc.get("/garbage/notices.atom", params={"city": "41205"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert b'<feed xmlns="http://www.w3.org/2005/Atom">' in r.content
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(r.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.findtext("a:id", namespaces=ns) and feed.findtext("a:title", namespaces=ns)
    assert feed.findtext("a:updated", namespaces=ns) == "2026-12-20T09:00:00+09:00"
    assert feed.find("a:author/a:name", ns) is not None
    entries = feed.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == ["A地区の臨時収集", "年末年始の収集"]
    for e in entries:
        assert e.findtext("a:id", namespaces=ns).startswith("urn:uuid:")
        assert e.findtext("a:updated", namespaces=ns).endswith("+09:00") and e.findtext("a:content", namespaces=ns)


def test_a_new_notice_reaches_the_answer(gurl: str, gc: TestClient, fixed: datetime) -> None:
    first = gc.get("/garbage/notices", params={"city": "41206"})
    with psycopg.connect(gurl) as conn, conn.cursor() as cur:
        src = cur.execute("SELECT id FROM sources WHERE title = 'テスト用ごみデータ' LIMIT 1").fetchone()[0]
        cur.execute(
            "INSERT INTO garbage_notices (city_code, title, body, valid_from, published_at, source_id, sample) "
            "VALUES ('41206', '新しいお知らせ', '本文', '2026-12-28T00:00+09:00', '2026-12-28T12:00+09:00', %s, true)",
            (src,),
        )
        bump_version(cur, "garbage")
    after = get_when_changed(gc, "/garbage/notices?city=41206", first.headers["etag"])
    assert after.status_code == 200 and after.json()["notices"][0]["title"] == "新しいお知らせ"


# -- the report, privacy, the bundled sample ----------------------------------------------------------------------


def test_lookup_report_lists_nearest_points_with_next_days(gc: TestClient) -> None:
    """The report's one SQL statement uses the database's clock (JST date): T-R's days follow the real date."""
    body = gc.get("/lookup", params={"lat": REAL[1], "lon": REAL[0]}).json()
    section = body["garbage_points"]
    first = section["nearest"][0]
    assert first["point_code"] == "T-R-1" and first["group_name"] == "テスト R地区"
    today = datetime.now(JST).date()
    assert first["next"] == [
        {
            "category": "もえるごみ",
            "day": (today + timedelta(2)).isoformat(),
            "weekday": "月火水木金土日"[(today + timedelta(2)).weekday()],
            "status": "regular",
            "reason": None,
        }
    ]  # ビン類's only day is cancelled
    assert section["sample"] is True and section["sources"]
    api = gc.get("/garbage/points", params={"lat": REAL[1], "lon": REAL[0], "limit": 1}).json()
    assert api["points"][0]["next"] == first["next"]


def test_no_private_data_anywhere(gc: TestClient, fixed: datetime) -> None:
    paths = [
        f"/garbage/points?lat={HERE[1]}&lon={HERE[0]}&limit=20",
        "/garbage/groups/T-A",
        "/garbage/groups/T-A/calendar?from=2026-12-01&to=2027-02-28",
        "/garbage/groups/T-A/calendar.ics",
        "/garbage/items?q=ペット",
        "/garbage/notices",
        "/garbage/notices.atom",
        f"/lookup?lat={HERE[1]}&lon={HERE[0]}",
    ]
    for path in paths:
        r = gc.get(path)
        assert r.status_code == 200, (path, r.text)
        assert "SECRET" not in r.text and "push.example" not in r.text and "removal" not in r.text, path
        if "json" in r.headers["content-type"]:
            answer = r.json().get("garbage_points", r.json())  # the report: its garbage section
            assert "sources" in answer and "sample" in answer and "data_date" in answer, path


def test_every_garbage_route_is_documented(gc: TestClient) -> None:
    paths = gc.get("/api").json()["paths"]
    for path in (
        "/garbage/points",
        "/garbage/groups/{group_id}",
        "/garbage/groups/{group_id}/calendar",
        "/garbage/groups/{group_id}/calendar.ics",
        "/garbage/items",
        "/garbage/notices",
        "/garbage/notices.atom",
    ):
        assert path in paths, path
    names = {p["name"] for p in paths["/garbage/points"]["get"]["parameters"]}
    assert {"lat", "lon", "address", "limit"} <= names


def test_the_bundled_sample_end_to_end(client: TestClient, conn: psycopg.Connection) -> None:
    if not conn.execute("SELECT EXISTS (SELECT 1 FROM garbage_events)").fetchone()[0]:
        pytest.skip("the bundled data holds no garbage calendar yet")
    body = client.get("/garbage/points", params={"lat": 33.265, "lon": 129.88}).json()
    assert body["sample"] is True and body["sources"] and body["points"]
    point = body["points"][0]
    assert point["next"] and all(d["day"] >= service.today().isoformat() for d in point["next"])
    cal = client.get(f"/garbage/groups/{point['group_id']}/calendar").json()
    assert cal["days"] and cal["sample"] is True
    items = client.get("/garbage/items", params={"q": "ぺっとぼとる"}).json()["items"]
    assert items and "ペットボトル" in items[0]["name"]
    ics = client.get(f"/garbage/groups/{point['group_id']}/calendar.ics")
    assert icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
