"""One city's garbage data in memory: what the file formats read and write and the store replaces in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# The reason given to the cancellations a 5374 center.csv closure authors; export finds closures by it.
CLOSURE_REASON = "センター休止"
YEAR_END_CLOSURE_REASON = "年末年始（センター休止）"


@dataclass
class Group:
    """A collection group (地区): its areas and the day rule per category (schedule keys `_…` are metadata)."""

    group_id: str
    name: str
    schedule: dict[str, Any]
    code: str | None = None
    areas: list[str] = field(default_factory=list)
    area_master: str | None = None
    center: str | None = None


@dataclass
class Category:
    """A garbage category (分別区分) with its colour, icon and how to put it out."""

    category: str
    sort: int = 0
    color: str | None = None
    icon: str | None = None
    description: str | None = None
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class CalendarException:
    """A cancelled, moved or extra collection day, for one group (or all: None) and one category (or all)."""

    day: date
    kind: str
    reason: str
    group_id: str | None = None
    category: str | None = None
    new_day: date | None = None


@dataclass
class Item:
    """One entry of the 分別 dictionary (品目 → 分別区分)."""

    name: str
    category: str
    notice: str | None = None
    furigana: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    fee_type: str | None = None
    fee: str | None = None
    fee_note: str | None = None
    note: str | None = None


@dataclass
class Notice:
    """A notice for the whole city (group_id None) or one group."""

    title: str
    body: str
    valid_from: datetime
    valid_to: datetime | None = None
    group_id: str | None = None


@dataclass
class CityData:
    """One city's data; None for a table means "this input does not describe it" (left as it is)."""

    city_code: str
    groups: list[Group] | None = None
    categories: list[Category] | None = None
    exceptions: list[CalendarException] | None = None
    items: list[Item] | None = None
    notices: list[Notice] | None = None
    report: list[str] = field(default_factory=list)


def blank(value: str | None) -> str | None:
    """None for an empty or whitespace-only value, else the value stripped."""
    if value is None:
        return None
    value = value.strip()
    return value or None


__all__ = [
    "CLOSURE_REASON",
    "YEAR_END_CLOSURE_REASON",
    "CalendarException",
    "Category",
    "CityData",
    "Group",
    "Item",
    "Notice",
    "blank",
]
