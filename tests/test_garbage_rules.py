"""The 5374 day grammar: parsing cells, the dated days of a fiscal year, and the cell text back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gis.garbage.rules import (
    EveryOther,
    Nth,
    On,
    Remark,
    Rule,
    RuleError,
    Weekly,
    dates_rule,
    fiscal_year_bounds,
    fiscal_year_dates,
    fiscal_year_of,
    format_rule,
    nth_weekday,
    parse_rule,
    rule_dates,
    schedule_events,
)

FY2026 = (date(2026, 4, 1), date(2027, 3, 31))


def test_fiscal_year_edges() -> None:
    assert fiscal_year_bounds(2026) == FY2026
    assert fiscal_year_of(date(2026, 4, 1)) == 2026
    assert fiscal_year_of(date(2027, 3, 31)) == 2026
    assert fiscal_year_of(date(2026, 3, 31)) == 2025
    days = fiscal_year_dates("月 火 水 木 金 土 日", 2026)
    assert days[0] == date(2026, 4, 1) and days[-1] == date(2027, 3, 31) and len(days) == 365


def test_weekly() -> None:
    days = fiscal_year_dates("月 木", 2026)
    assert {d.weekday() for d in days} == {0, 3}
    assert days[:3] == [date(2026, 4, 2), date(2026, 4, 6), date(2026, 4, 9)]  # 2026-04-01 is a Wednesday
    assert len(days) == 104
    assert parse_rule("月 木").parts == (Weekly(0), Weekly(3))


def test_nth_weekday() -> None:
    days = fiscal_year_dates("金1 金3", 2026)
    assert len(days) == 24
    assert days[:2] == [date(2026, 4, 3), date(2026, 4, 17)]
    assert all(d.weekday() == 4 and (d.day - 1) // 7 in (0, 2) for d in days)
    assert nth_weekday(2026, 4, 2, 1) == date(2026, 4, 1)  # the 1st Wednesday is the 1st itself


def test_fifth_week_only_in_some_months() -> None:
    days = fiscal_year_dates("金5", 2026)
    # Fridays on the 29th–31st of FY2026: May 29, Jul 31, Oct 30, Jan 29, (no Mar 2027: Mar 26 is the 4th)
    assert days == [date(2026, 5, 29), date(2026, 7, 31), date(2026, 10, 30), date(2027, 1, 29)]
    assert nth_weekday(2027, 2, 4, 5) is None


def test_leap_year_in_fiscal_2027() -> None:
    assert date(2028, 2, 29) in fiscal_year_dates("火", 2027)  # 2028-02-29 is a Tuesday
    assert fiscal_year_dates("火5", 2027)[-1] == date(2028, 2, 29)  # February 2028 has five Tuesdays
    assert len(fiscal_year_dates("月 火 水 木 金 土 日", 2027)) == 366
    assert fiscal_year_dates("20280229", 2027) == [date(2028, 2, 29)]
    with pytest.raises(RuleError, match="20270229"):
        parse_rule("20270229")


def test_month_list_applies_to_the_whole_cell() -> None:
    rule = parse_rule("火2 金4:4 6 8 10 12 2")
    assert rule.months == (4, 6, 8, 10, 12, 2)
    days = fiscal_year_dates(rule, 2026)
    assert {d.month for d in days} == {4, 6, 8, 10, 12, 2}
    assert len(days) == 12
    assert date(2027, 2, 9) in days and date(2027, 2, 26) in days  # February of the fiscal year is in 2027
    assert fiscal_year_dates("月:4", 2026) == [date(2026, 4, d) for d in (6, 13, 20, 27)]


def test_explicit_dates() -> None:
    rule = parse_rule("20260401 20270331 20270401")
    assert rule.parts == (On(date(2026, 4, 1)), On(date(2027, 3, 31)), On(date(2027, 4, 1)))
    assert fiscal_year_dates(rule, 2026) == [date(2026, 4, 1), date(2027, 3, 31)]
    assert fiscal_year_dates(rule, 2027) == [date(2027, 4, 1)]
    assert dates_rule([date(2027, 1, 5), date(2026, 5, 1)]) == "20260501 20270105"


def test_every_other_week() -> None:
    rule = parse_rule("隔週20260406")
    assert rule.parts == (EveryOther(date(2026, 4, 6), "隔週"),)
    days = fiscal_year_dates(rule, 2026)
    assert days[0] == date(2026, 4, 6)
    assert all(b - a == timedelta(days=14) for a, b in zip(days, days[1:], strict=False))
    assert days[-1] <= date(2027, 3, 31) < days[-1] + timedelta(days=14)
    # Nothing before the start date; a later year continues the same fortnightly rhythm.
    assert rule_dates(rule, date(2026, 3, 1), date(2026, 4, 5)) == []
    later = fiscal_year_dates(rule, 2027)
    assert (later[0] - date(2026, 4, 6)).days % 14 == 0 and later[0] - days[-1] == timedelta(days=14)
    # 隔月 (as DOMAIN.md spells it) means the same here.
    assert fiscal_year_dates("隔月20260406", 2026) == days
    assert format_rule(parse_rule("隔月20260406")) == "隔月20260406"


def test_remarks_pointer_gives_no_days() -> None:
    rule = parse_rule("火 木 *1")
    assert rule.remarks == ("1",) and rule.collects
    assert {d.weekday() for d in fiscal_year_dates(rule, 2026)} == {1, 3}
    only = parse_rule("*1")
    assert not only.collects and fiscal_year_dates(only, 2026) == []
    assert parse_rule("火2:4 6 *2").remarks == ("2",)


def test_empty_cell_is_no_collection() -> None:
    for text in ("", "  ", "\u3000"):
        rule = parse_rule(text)
        assert rule.parts == () and not rule.collects and fiscal_year_dates(rule, 2026) == []


def test_full_width_input_is_accepted() -> None:
    assert parse_rule("火２　金４：４ ６").same_as(parse_rule("火2 金4:4 6"))


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("月6", "week 6"),
        ("月0", "week 0"),
        ("X", "unknown token 'X'"),
        ("月曜", "unknown token '月曜'"),
        ("2014030", "unknown token '2014030'"),
        ("20140230", "not a real date"),
        ("隔週2014040", "unknown token"),
        ("隔週20141301", "not a real date"),
        ("火2:13", "month '13'"),
        ("火2:", "no months"),
        ("火2:4 4", "listed twice"),
        (":4 6", "no collection day"),
        ("火2:4:6", "more than one"),
        ("月1,月3", "unknown token"),
    ],
)
def test_malformed_cells_name_the_cell(cell: str, why: str) -> None:
    with pytest.raises(RuleError) as e:
        parse_rule(cell)
    assert f"'{cell}'" in str(e.value) and why in str(e.value)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize(
    "cell", ["月 木", "金1 金3", "火2 金4:4 6 8 10 12 2", "20140301 20140325", "隔週20260406", "火 木 *1", "水5", ""]
)
def test_format_is_the_inverse_of_parse(cell: str) -> None:
    rule = parse_rule(cell)
    assert format_rule(rule) == cell
    assert parse_rule(format_rule(rule)).same_as(rule)


def test_format_of_built_rules() -> None:
    rule = Rule((Nth(1, 2), Weekly(4), Remark("3")), (4, 5))
    assert format_rule(rule) == "火2 金 *3:4 5"


def test_schedule_events_skip_metadata_and_name_the_category() -> None:
    schedule = {"もえるごみ": "月 木", "ビン類": "水2", "粗大ごみ": "", "_remarks": {"1": "x"}, "_5374": {}}
    events = schedule_events(schedule, [2026, 2027])
    assert {c for c, _, _ in events} == {"もえるごみ", "ビン類"}
    assert {fy for _, _, fy in events} == {2026, 2027}
    assert all(fiscal_year_of(d) == fy for _, d, fy in events)
    with pytest.raises(RuleError, match="category 'ビン類'.*'水6'"):
        schedule_events({"ビン類": "水6"}, [2026])
