"""5374 and 「ごみの分別方法」 imports and exports against a real database: round trips, bad files, the CLI."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from gis.errors import ImportFailed
from gis.garbage import imports, store
from gis.garbage.imports import export_5374, export_items, generate, import_5374, import_items
from gis.garbage.standard import COLUMNS
from gis.settings import REPO_ROOT

SAGA = REPO_ROOT / "data" / "garbage"
FILES = ("area_days", "area_master", "center", "description", "remarks", "target")
TABLES = ("garbage_groups", "garbage_categories", "garbage_events", "garbage_exceptions", "garbage_items")


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def snapshot(conn: psycopg.Connection) -> dict:
    """Every garbage row (and the sources and layer versions) as one hash per table, to prove nothing changed."""
    sql = "SELECT md5(coalesce(string_agg(j, ',' ORDER BY j), '')) FROM (SELECT to_jsonb(x)::text AS j FROM {} x) s"
    return {
        t: conn.execute(sql.format(t)).fetchone()[0] for t in (*TABLES, "garbage_notices", "sources", "layer_state")
    }


def served(conn: psycopg.Connection) -> dict:
    """Row counts of the two served cities' garbage data."""
    out = {
        t: conn.execute(f"SELECT count(*) FROM {t} WHERE city_code IN ('41205', '41206')").fetchone()[0]
        for t in TABLES
        if t != "garbage_events"
    }
    events = "SELECT count(*) FROM garbage_events JOIN garbage_groups USING (group_id) WHERE city_code <> '41201'"
    return out | {"garbage_events": conn.execute(events).fetchone()[0]}


def saga_copy(tmp: Path) -> Path:
    folder = tmp / "saga"
    folder.mkdir()
    for name in FILES:
        shutil.copy(SAGA / f"saga_city_5374_{name}.csv", folder / f"{name}.csv")
    return folder


def test_saga_round_trip_cell_by_cell(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url) as conn:
        others = served(conn)
        result = import_5374(conn, SAGA, "41201", fiscal_years=[2020])
        counts = dict(result.counts)
        assert counts["garbage_groups"] == 28 and counts["garbage_items"] == 270 and counts["garbage_categories"] == 4
        assert any("ID 3, 4" in line for line in result.report)  # remarks nothing points to
        files = dict(export_5374(conn, tmp_path / "out", "41201"))
        assert served(conn) == others  # the two served cities are untouched
        group = conn.execute(
            "SELECT name, areas, area_master, center, schedule FROM garbage_groups WHERE group_id = '41201-D'"
        ).fetchone()
    assert files["area_days.csv"] == 314 and files["target.csv"] == 270
    name, areas, master, center, schedule = group
    assert areas[:2] == ["今宿町", "朝日町"] and center == "佐賀市清掃工場" and master.startswith("佐賀地区あ行")
    assert schedule["燃えるごみ"] == "月 木" and name.startswith("D（今宿町")
    for file in ("area_days", "area_master", "center", "target"):
        assert rows(tmp_path / "out" / f"{file}.csv") == rows(SAGA / f"saga_city_5374_{file}.csv"), file
    by_label = {r[0]: r for r in rows(SAGA / "saga_city_5374_description.csv")}
    assert {r[0]: r for r in rows(tmp_path / "out" / "description.csv")} == by_label
    assert rows(tmp_path / "out" / "remarks.csv") == [["ID", "注意事項"]]


def test_saga_events_and_center_closure(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_5374(conn, SAGA, "41201", fiscal_years=[2020])
        d = conn.execute(
            "SELECT category, count(*), min(day), max(day) FROM garbage_events WHERE group_id = '41201-D' GROUP BY 1"
        ).fetchall()
        by = {r[0]: r[1:] for r in d}
        assert by["燃えるごみ"] == (104, date(2020, 4, 2), date(2021, 3, 29))  # 月 木 over FY2020
        assert by["ペットボトル"][0] == 24  # 水1 水3
        planned = conn.execute(
            "SELECT count(*) FROM garbage_events e JOIN garbage_groups g USING (group_id) WHERE g.city_code = '41201' "
            "AND e.day BETWEEN '2020-12-30' AND '2021-01-03'"
        ).fetchone()[0]
        shown = conn.execute(
            "SELECT count(*) FROM garbage_calendar c JOIN garbage_groups g USING (group_id) "
            "WHERE g.city_code = '41201' AND c.day BETWEEN '2020-12-30' AND '2021-01-03'"
        ).fetchone()[0]
        assert planned > 0 and shown == 0
        reasons = conn.execute(
            "SELECT DISTINCT reason, count(*) FROM garbage_exceptions WHERE city_code = '41201' GROUP BY 1"
        ).fetchall()
        assert reasons == [("年末年始（センター休止）", 28 * 5)]
        reading = conn.execute(
            "SELECT reading, romaji FROM garbage_items WHERE city_code = '41201' AND name = '生ごみ'"
        ).fetchone()
        assert reading == ("なまごみ", "nama gomi")


def test_replace_is_needed_and_keeps_ids(scratch_url: str) -> None:
    with psycopg.connect(scratch_url) as conn:
        import_5374(conn, SAGA, "41201", fiscal_years=[2020])
        ids = conn.execute("SELECT array_agg(id ORDER BY id) FROM garbage_items WHERE city_code = '41201'").fetchone()
        before = snapshot(conn)
        with pytest.raises(ImportFailed, match="already has garbage data: pass --replace"):
            import_5374(conn, SAGA, "41201", fiscal_years=[2020])
        assert snapshot(conn) == before
        import_5374(conn, SAGA, "41201", fiscal_years=[2020], replace=True)
        assert (
            conn.execute("SELECT array_agg(id ORDER BY id) FROM garbage_items WHERE city_code = '41201'").fetchone()
            == ids
        )
        # Next year from the stored rules; the year before stays.
        result = generate(conn, 2021, "41201")
        assert dict(result.counts)["garbage_events 41201 FY2021"] > 0
        years = conn.execute(
            "SELECT array_agg(DISTINCT fiscal_year) FROM garbage_events WHERE group_id LIKE '41201-%'"
        ).fetchone()[0]
        assert years == [2020, 2021]


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("area_days", "月 木,金1 金3,金2 金4,水1 水3,D", "月 木,金1 金6,金2 金4,水1 水3,D", "column 資源物"),
        ("area_days", "1,朝日町,佐賀市清掃工場,月 木", "1,朝日町,佐賀市清掃工場,火 金", "rows of one group code"),
        ("area_days", "1,今宿町,", "99,今宿町,", "マスター '99' is not in area_master.csv"),
        ("center", "2020/12/30", "2020/13/30", "is not a date"),
        ("description", "label,sublabel", "lbl,sublabel", "the columns must be label"),
        ("target", "燃えるごみ,生ごみ,,主な物", ",生ごみ,,主な物", "label and name must not be empty"),
    ],
)
def test_a_bad_file_changes_nothing(
    scratch_url: str, tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    folder = saga_copy(tmp_path)
    path = folder / f"{file}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with psycopg.connect(scratch_url) as conn:
        import_5374(conn, SAGA, "41201", fiscal_years=[2020])
        before = snapshot(conn)
        with pytest.raises(ImportFailed, match=message) as e:
            import_5374(conn, folder, "41201", fiscal_years=[2020, 2021], replace=True)
        assert f"{file}.csv" in e.value.description
        assert snapshot(conn) == before


def test_a_failure_while_writing_rolls_everything_back(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> int:
        raise ImportFailed("disk on fire")

    with psycopg.connect(scratch_url) as conn:
        before = snapshot(conn)
        monkeypatch.setattr(store, "write_items", boom)
        with pytest.raises(ImportFailed, match="disk on fire"):
            import_5374(conn, SAGA, "41201", fiscal_years=[2020])
        assert snapshot(conn) == before


def test_grammar_round_trip_without_master_or_code(empty_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "area_days.csv").write_text(
        "地名,センター,もやすごみ,びん,古紙\n"
        "東町,,月 木 *1,火2 金4:4 6 8 10 12 2,隔週20260406\n"
        "西町,,火 金,20260501 20270105,\n",
        encoding="utf-8",
    )
    (src / "remarks.csv").write_text("ID,注意事項\n1,東町3丁目は水曜日です。\n", encoding="utf-8")
    with psycopg.connect(empty_url) as conn:
        result = import_5374(conn, src, "41205", fiscal_years=[2026])
        assert dict(result.counts)["garbage_groups"] == 2
        schedule = conn.execute("SELECT schedule FROM garbage_groups WHERE group_id = '41205-1'").fetchone()[0]
        assert schedule["_remarks"] == {"1": "東町3丁目は水曜日です。"}
        n = conn.execute(
            "SELECT count(*) FROM garbage_events WHERE group_id = '41205-2' AND category = 'びん'"
        ).fetchone()[0]
        assert n == 2
        export_5374(conn, tmp_path / "out", "41205")
        # A day authored by hand where the rule cell is empty comes out as an explicit date.
        conn.execute("INSERT INTO garbage_events VALUES ('41205-2', '古紙', '2026-06-01', 2026)")
        export_5374(conn, tmp_path / "hand", "41205")
        assert rows(tmp_path / "hand" / "area_days.csv")[2] == ["西町", "", "火 金", "20260501 20270105", "20260601"]
    got = rows(tmp_path / "out" / "area_days.csv")
    assert got[0] == ["地名", "センター（center.csvを使わない場合は空白化）", "もやすごみ", "びん", "古紙"]
    assert got[1:] == rows(src / "area_days.csv")[1:]
    assert rows(tmp_path / "out" / "remarks.csv") == rows(src / "remarks.csv")


def standard_file(path: Path, body: list[list[str]], header: list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(body)
    return path


ITEMS = [
    ["412015", str(i), "佐賀県佐賀市", name, cat, notice, fee_type, fee, "", ""]
    for i, (name, cat, notice, fee_type, fee) in enumerate(
        [
            ("アイロン", "燃えないごみ", "", "", ""),
            ("空き缶", "資源物", "すすいでください", "", ""),
            ("ソファー", "粗大ごみ", "", "有料", "1000"),
            ("新聞紙", "資源物", "", "", ""),
            ("生ごみ", "燃えるごみ", "水を切る", "", ""),
            ("ペットボトル", "ペットボトル", "", "", ""),
            ("傘", "燃えないごみ", "", "", ""),
            ("テレビ", "収集しないもの", "販売店へ", "", ""),
            ("乾電池", "燃えないごみ", "", "", ""),
            ("段ボール", "資源物", "", "", ""),
            ("布団", "粗大ごみ", "", "有料", "500"),
            ("スプレー缶", "燃えないごみ", "穴をあけない", "", ""),
        ],
        start=1,
    )
]


def test_standard_items_round_trip(empty_url: str, tmp_path: Path) -> None:
    src = standard_file(tmp_path / "items.csv", ITEMS)
    with psycopg.connect(empty_url) as conn:
        result = import_items(conn, src, replace=True)
        assert result.counts == [("garbage_items 41201", 12)]
        export_items(conn, tmp_path / "out.csv", "41201")
        romaji = conn.execute("SELECT romaji FROM garbage_items WHERE name = 'スプレー缶'").fetchone()[0]
    assert romaji == "supuree kan"
    assert rows(tmp_path / "out.csv") == rows(src)


def test_prefixed_columns_are_stripped(empty_url: str, tmp_path: Path) -> None:
    prefixed = [f"ごみの分別方法_{c}" for c in COLUMNS]
    src = standard_file(tmp_path / "setagaya.csv", ITEMS, prefixed)
    with psycopg.connect(empty_url) as conn:
        result = import_items(conn, src)
        assert any("「ごみの分別方法_」" in line for line in result.report)
        assert conn.execute("SELECT count(*) FROM garbage_items").fetchone()[0] == 12
        mixed = standard_file(tmp_path / "mixed.csv", ITEMS, ["A_" + c for c in COLUMNS[:5]] + COLUMNS[5:])
        before = snapshot(conn)
        with pytest.raises(ImportFailed, match="missing columns 全国地方公共団体コード, ID"):
            import_items(conn, mixed)
        assert snapshot(conn) == before


def test_swapped_columns_are_refused_or_swapped_on_request(scratch_url: str, tmp_path: Path) -> None:
    swapped = [[r[0], r[1], r[2], r[4], r[3], *r[5:]] for r in ITEMS]
    unknown_city = standard_file(tmp_path / "swapped.csv", swapped)
    imari = [["412058", r[1], "佐賀県伊万里市", c, r[4], *r[5:]] for r, c in zip(swapped, _imari_cats(), strict=True)]
    known_city = standard_file(tmp_path / "imari.csv", imari)
    with psycopg.connect(scratch_url) as conn:
        before = snapshot(conn)
        for path, why in ((unknown_city, "look swapped for 41201"), (known_city, "look swapped for 41205")):
            with pytest.raises(ImportFailed, match=why) as e:
                import_items(conn, path, replace=True)
            assert "--swap-columns" in e.value.description
        assert snapshot(conn) == before
        result = import_items(conn, known_city, replace=True, swap=True)
        assert any("read swapped" in line for line in result.report)
        got = conn.execute("SELECT name, category FROM garbage_items WHERE city_code = '41205' ORDER BY id").fetchall()
        assert got[0] == ("アイロン", "空き缶・金属類・ガラス類・陶磁器・複合素材") and len(got) == 12


def _imari_cats() -> list[str]:
    pick = {
        "燃えないごみ": "空き缶・金属類・ガラス類・陶磁器・複合素材",
        "資源物": "ビン類",
        "燃えるごみ": "もえるごみ",
    }
    return [pick.get(r[4], "粗大ごみ" if r[4] == "粗大ごみ" else "ペットボトル") for r in ITEMS]


def gis(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    cmd = [sys.executable, "-m", "gis", "garbage", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)


def test_cli(scratch_url: str, tmp_path: Path) -> None:
    r = gis(scratch_url, "import-5374", str(SAGA), "--city", "41201", "--fiscal-years", "2020", "2021")
    assert r.returncode == 0, r.stderr
    assert "garbage_groups" in r.stdout and "garbage_events" in r.stdout and "garbage_items" in r.stdout
    r = gis(scratch_url, "export-5374", str(tmp_path / "x"), "--city", "41201")
    assert r.returncode == 0 and (tmp_path / "x" / "area_days.csv").is_file()
    r = gis(scratch_url, "export-items", str(tmp_path / "items.csv"), "--city", "41205")
    assert r.returncode == 0 and rows(tmp_path / "items.csv")[0][:10] == COLUMNS
    r = gis(scratch_url, "import-items", str(tmp_path / "items.csv"), "--replace")
    assert r.returncode == 0, r.stderr
    r = gis(scratch_url, "generate", "--fiscal-year", "2028", "--city", "41205")
    assert r.returncode == 0 and "garbage_events 41205 FY2028" in r.stdout
    bad = saga_copy(tmp_path)
    (bad / "area_days.csv").write_text("地名,センター,燃えるごみ,\n東町,,月曜,A\n", encoding="utf-8")
    r = gis(scratch_url, "import-5374", str(bad), "--city", "41201", "--replace")
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 2 and len(errors) == 1 and errors[0].startswith("error:") and "'月曜'" in errors[0]
    r = gis(scratch_url, "import-5374", str(SAGA), "--city", "13101")
    assert r.returncode == 2 and "佐賀県" in r.stderr


def test_cities_outside_saga_and_fiscal_years_are_checked(empty_url: str) -> None:
    with psycopg.connect(empty_url) as conn:
        with pytest.raises(ImportFailed, match="not a municipality of 佐賀県"):
            import_5374(conn, SAGA, "41999")
        with pytest.raises(ImportFailed, match="fiscal year 20 is out of range"):
            import_5374(conn, SAGA, "41201", fiscal_years=[20])
        assert imports.check_fiscal_years([2027, 2026, 2027]) == [2026, 2027]
