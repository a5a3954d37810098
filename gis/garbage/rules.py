"""5374 day rules (area_days.csv cells) → dated collection days of a fiscal year, and back to cell text.

A cell is whitespace-separated tokens, optionally followed by `:` and the calendar months it applies to:

- `月 木`              weekly (日 月 火 水 木 金 土)
- `金1 金3`            the 1st and 3rd Friday of every month (`金5` exists only in months with a 5th Friday)
- `20140301 20140325`  explicit dates (YYYYMMDD)
- `隔週20260406`        every 14 days from that date on (`隔月20260406`, the spelling some 5374 forks use, means
                       the same here: DOMAIN.md reads it as "every other week from that date")
- `*1`                 a pointer to remarks.csv ID 1 (kept, gives no dates)
- `火2 金4:4 6 8 10 12 2`  only in the listed months; the month list filters every token of the cell

The text is NFKC-normalised before parsing (full-width digits, `：` and ideographic spaces are accepted); the
original text is what the group's schedule keeps, so exports reproduce the cell. Rules only author events: the
calendar itself is the dated events plus exceptions.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = "月火水木金土日"  # index = date.weekday()
EVERY_OTHER = ("隔週", "隔月")
STEP = timedelta(days=14)
_TOKEN = re.compile(
    r"(?P<weekday>[月火水木金土日])(?P<week>[0-9])?$"
    r"|(?P<date>[0-9]{8})$"
    r"|(?P<every>隔週|隔月)(?P<start>[0-9]{8})$"
    r"|\*(?P<remark>[^\s*:]+)$"
)


class RuleError(ValueError):
    """A cell that is not 5374 day grammar; the message names the cell."""


@dataclass(frozen=True)
class Weekly:
    """Every week on one weekday (0 = Monday)."""

    weekday: int


@dataclass(frozen=True)
class Nth:
    """The nth (1–5) given weekday of each month."""

    weekday: int
    n: int


@dataclass(frozen=True)
class On:
    """One explicit date."""

    day: date


@dataclass(frozen=True)
class EveryOther:
    """Every 14 days from start on; `word` keeps the spelling (隔週 or 隔月)."""

    start: date
    word: str = "隔週"


@dataclass(frozen=True)
class Remark:
    """A remarks.csv pointer (`*1`)."""

    id: str


Part = Weekly | Nth | On | EveryOther | Remark


@dataclass(frozen=True)
class Rule:
    """A parsed cell: its parts in the order written, the month filter (None: every month) and the text."""

    parts: tuple[Part, ...] = ()
    months: tuple[int, ...] | None = None
    text: str = ""

    @property
    def remarks(self) -> tuple[str, ...]:
        """The remarks.csv IDs the cell points to."""
        return tuple(p.id for p in self.parts if isinstance(p, Remark))

    @property
    def collects(self) -> bool:
        """True when the cell names any collection day at all."""
        return any(not isinstance(p, Remark) for p in self.parts)

    def same_as(self, other: Rule) -> bool:
        """Equal parts and months, whatever the spelling of the text."""
        return (self.parts, self.months) == (other.parts, other.months)


def _ymd(token: str, text: str) -> date:
    try:
        return date(int(token[:4]), int(token[4:6]), int(token[6:8]))
    except ValueError:
        raise RuleError(f"cell '{text}': '{token}' is not a real date (YYYYMMDD)") from None


def _part(token: str, text: str) -> Part:
    m = _TOKEN.match(token)
    if not m:
        raise RuleError(
            f"cell '{text}': unknown token '{token}' (expected a weekday 月…日, a weekday and week 1–5 such as 金2, "
            "YYYYMMDD, 隔週YYYYMMDD, *N, or ':' and months)"
        )
    if m["weekday"]:
        wd = WEEKDAYS.index(m["weekday"])
        if m["week"] is None:
            return Weekly(wd)
        n = int(m["week"])
        if not 1 <= n <= 5:
            raise RuleError(f"cell '{text}': '{token}' names week {n}; a month has weeks 1–5")
        return Nth(wd, n)
    if m["date"]:
        return On(_ymd(m["date"], text))
    if m["every"]:
        return EveryOther(_ymd(m["start"], text), m["every"])
    return Remark(m["remark"])


def _months(spec: str, text: str) -> tuple[int, ...]:
    tokens = spec.split()
    if not tokens:
        raise RuleError(f"cell '{text}': no months after ':'")
    months = []
    for t in tokens:
        if t.startswith("*"):  # a remarks pointer written after the months
            continue
        if not re.fullmatch(r"[0-9]{1,2}", t) or not 1 <= int(t) <= 12:
            raise RuleError(f"cell '{text}': month '{t}' after ':' is not 1–12")
        if int(t) in months:
            raise RuleError(f"cell '{text}': month {int(t)} is listed twice")
        months.append(int(t))
    if not months:
        raise RuleError(f"cell '{text}': no months after ':'")
    return tuple(months)


def parse_rule(text: str) -> Rule:
    """Parse one area_days.csv cell; an empty cell is a rule with no days. Raises RuleError naming the cell."""
    norm = unicodedata.normalize("NFKC", text).strip()
    if not norm:
        return Rule(text=text)
    if norm.count(":") > 1:
        raise RuleError(f"cell '{text}': more than one ':'")
    days, colon, spec = norm.partition(":")
    parts = [_part(t, text) for t in days.split()]
    months = None
    if colon:
        months = _months(spec, text)
        parts += [Remark(t[1:]) for t in spec.split() if t.startswith("*") and len(t) > 1]
        if not any(not isinstance(p, Remark) for p in parts):
            raise RuleError(f"cell '{text}': months after ':' but no collection day before it")
    return Rule(tuple(parts), months, text)


def fiscal_year_of(day: date) -> int:
    """The Japanese fiscal year (年度) of a date: April to March, named by the April."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a fiscal year (April 1 – March 31)."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def _months_between(start: date, end: date) -> Iterator[tuple[int, int]]:
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date | None:
    """The nth given weekday of a month, or None when the month has no such day (a 5th week)."""
    first = date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (n - 1)
    return date(year, month, day) if day <= calendar.monthrange(year, month)[1] else None


def _part_dates(part: Part, start: date, end: date) -> Iterator[date]:
    if isinstance(part, Weekly):
        d = start + timedelta(days=(part.weekday - start.weekday()) % 7)
        while d <= end:
            yield d
            d += timedelta(days=7)
    elif isinstance(part, Nth):
        for y, m in _months_between(start, end):
            d = nth_weekday(y, m, part.weekday, part.n)
            if d is not None and start <= d <= end:
                yield d
    elif isinstance(part, On):
        if start <= part.day <= end:
            yield part.day
    elif isinstance(part, EveryOther):
        d = part.start
        if d < start:
            d += STEP * -(-(start - d).days // STEP.days)
        while d <= end:
            yield d
            d += STEP


def rule_dates(rule: Rule | str, start: date, end: date) -> list[date]:
    """The sorted collection days of a rule from start to end inclusive."""
    if isinstance(rule, str):
        rule = parse_rule(rule)
    days = {d for p in rule.parts for d in _part_dates(p, start, end)}
    if rule.months is not None:
        days = {d for d in days if d.month in rule.months}
    return sorted(days)


def fiscal_year_dates(rule: Rule | str, fiscal_year: int) -> list[date]:
    """The collection days of a rule within one fiscal year."""
    return rule_dates(rule, *fiscal_year_bounds(fiscal_year))


def is_category(key: str) -> bool:
    """Schedule keys starting with '_' carry metadata (remarks, 5374 rows), not a category's rule."""
    return not key.startswith("_")


def schedule_rules(schedule: Mapping[str, object]) -> dict[str, Rule]:
    """The parsed rule per category of a group's schedule JSON; raises RuleError naming the category."""
    rules = {}
    for category, text in schedule.items():
        if not is_category(category):
            continue
        if not isinstance(text, str):
            raise RuleError(f"category '{category}': the rule must be text, got {text!r}")
        try:
            rules[category] = parse_rule(text)
        except RuleError as e:
            raise RuleError(f"category '{category}': {e}") from None
    return rules


def schedule_events(schedule: Mapping[str, object], fiscal_years: Iterable[int]) -> list[tuple[str, date, int]]:
    """(category, day, fiscal year) of every collection a schedule authors in the given fiscal years."""
    rules = schedule_rules(schedule)
    out = []
    for fy in sorted(set(fiscal_years)):
        for category, rule in rules.items():
            out += [(category, d, fy) for d in fiscal_year_dates(rule, fy)]
    return out


def _format_part(part: Part) -> str:
    if isinstance(part, Weekly):
        return WEEKDAYS[part.weekday]
    if isinstance(part, Nth):
        return f"{WEEKDAYS[part.weekday]}{part.n}"
    if isinstance(part, On):
        return part.day.strftime("%Y%m%d")
    if isinstance(part, EveryOther):
        return f"{part.word}{part.start:%Y%m%d}"
    return f"*{part.id}"


def format_rule(rule: Rule) -> str:
    """Canonical cell text of a rule (days and pointers in order, then ':' and months)."""
    text = " ".join(_format_part(p) for p in rule.parts)
    if rule.months is not None:
        text += ":" + " ".join(str(m) for m in rule.months)
    return text


def dates_rule(days: Iterable[date]) -> str:
    """The cell for days no rule describes: explicit YYYYMMDD dates (events authored by hand)."""
    return format_rule(Rule(tuple(On(d) for d in sorted(set(days)))))


__all__ = [
    "EveryOther",
    "Nth",
    "On",
    "Remark",
    "Rule",
    "RuleError",
    "Weekly",
    "dates_rule",
    "fiscal_year_bounds",
    "fiscal_year_dates",
    "fiscal_year_of",
    "format_rule",
    "is_category",
    "nth_weekday",
    "parse_rule",
    "rule_dates",
    "schedule_events",
    "schedule_rules",
]
