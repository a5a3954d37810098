"""Sample garbage categories (bag colours), calendar exceptions (year-end closure, a holiday move, an extra day)
and notices for both cities. Events themselves are not files: `gis load` authors them from the groups' rules for
the fiscal years the manifest lists."""

from __future__ import annotations

from datetime import date

from gis.garbage.rules import fiscal_year_dates
from gis.sample.common import IMARI, PREFIX, TAKEO, dumps

CENTER = "さが西部クリーンセンター"
YEAR_END = "年末年始"
CLOSED = {2026: ("2026-12-31", "2027-01-03"), 2027: ("2027-12-31", "2028-01-03")}
# A Monday holiday (勤労感謝の日) on 41205-A's もえるごみ day (月 木), collected the next day instead.
MOVED = ("41205", "41205-A", "もえるごみ", "2026-11-23", "2026-11-24", "祝日のため振替")
EXTRA = ("41206", "", "燃えるごみ", "2026-12-27", "年末臨時収集（日曜日）")
CATEGORY_COLUMNS = ["city_code", "category", "sort", "color", "icon", "description", "names", "sample"]
EXCEPTION_COLUMNS = ["city_code", "group_id", "category", "day", "kind", "new_day", "reason", "sample"]
NOTICE_COLUMNS = ["city_code", "group_id", "title", "body", "valid_from", "valid_to", "sample"]
JST = "T00:00:00+09:00"

# category, colour, description, (en, zh, ko, vi); Imari's bag colours per DOMAIN §6, the rest invented.
CATEGORIES = {
    IMARI: [
        ("もえるごみ", "#1f5fbf",
         "青色の指定袋に入れて、収集日の朝8時30分までに出してください。\n生ごみは水を切ってください。",
         ("Burnable waste", "可燃垃圾", "타는 쓰레기", "Rác cháy được")),
        ("空き缶・金属類・ガラス類・陶磁器・複合素材", "#e6b422",
         "黄色の指定袋に入れてください。\n刃物や割れたガラスは厚紙で包み「キケン」と書いてください。",
         ("Cans, metal, glass, ceramics", "空罐・金属・玻璃・陶瓷", "캔·금속·유리·도자기",
          "Lon, kim loại, thủy tinh, gốm sứ")),
        ("ビン類", "#d9333f", "赤色の指定袋に入れてください。\nキャップを外し、中をすすいでください。",
         ("Glass bottles", "玻璃瓶", "병류", "Chai thủy tinh")),
        ("ペットボトル", "#2a9d8f", "キャップとラベルを外し、中をすすいでつぶしてください。",
         ("PET bottles", "塑料瓶", "페트병", "Chai nhựa PET")),
        ("発泡スチロール製トレイ", "#8d99ae", "汚れを洗い流し、乾かしてから出してください。",
         ("Styrofoam trays", "泡沫塑料托盘", "스티로폼 트레이", "Khay xốp")),
        ("粗大ごみ", "#8b5a2b", "指定袋に入らないものです。粗大ごみ処理券（シール）を貼り、事前に申し込んでください。",
         ("Oversized waste (sticker)", "大件垃圾（贴纸）", "대형 쓰레기(스티커)", "Rác cồng kềnh (tem)")),
    ],
    TAKEO: [
        ("燃えるごみ", "#e4572e", "指定袋に入れて、収集日の朝8時30分までに出してください。",
         ("Burnable waste", "可燃垃圾", "타는 쓰레기", "Rác cháy được")),
        ("燃えないごみ", "#6a4c93", "指定袋に入れてください。\n割れ物は厚紙で包んでください。",
         ("Non-burnable waste", "不可燃垃圾", "타지 않는 쓰레기", "Rác không cháy được")),
        ("資源物", "#4caf50", "缶・びん・古紙・古布です。種類ごとに分けて出してください。",
         ("Recyclables", "资源垃圾", "자원물", "Rác tái chế")),
        ("ペットボトル", "#2a9d8f", "キャップとラベルを外し、中をすすいでつぶしてください。",
         ("PET bottles", "塑料瓶", "페트병", "Chai nhựa PET")),
        ("粗大ごみ", "#8b5a2b", "指定袋に入らないものです。事前に申し込んでください。",
         ("Oversized waste", "大件垃圾", "대형 쓰레기", "Rác cồng kềnh")),
    ],
}  # fmt: skip

NOTICES = [
    (IMARI, "", f"{PREFIX}年末年始のごみ収集について",
     "12月31日から1月3日までは収集を休みます。年明けは1月4日から通常どおり収集します。",
     "2026-12-01", "2027-01-11"),
    (TAKEO, "", f"{PREFIX}年末年始のごみ収集について",
     "12月31日から1月3日までは収集を休みます。12月27日（日）に燃えるごみの臨時収集を行います。",
     "2026-12-01", "2027-01-11"),
    (IMARI, "41205-A", f"{PREFIX}A地区の集積所の一部移設について",
     "道路工事のため、一部の集積所を一時的に移設しています。現地の案内表示をご確認ください。",
     "2026-11-15", "2027-04-01"),
]  # fmt: skip


def categories() -> list[list[str]]:
    """Rows of garbage_categories_sample.csv."""
    rows = []
    for city in (IMARI, TAKEO):
        for sort, (name, color, text, langs) in enumerate(CATEGORIES[city]):
            names = dict(zip(("en", "zh", "ko", "vi"), langs, strict=True))
            rows.append([city, name, str(sort), color, "", text, dumps(names), "true"])
    return rows


def exceptions(schedules: dict[str, dict[str, str]]) -> list[list[str]]:
    """Rows of garbage_exceptions_sample.csv; schedules (group → category → rule) check the moved day is real."""
    rows = []
    for city in (IMARI, TAKEO):
        for first, last in CLOSED.values():
            start, end = date.fromisoformat(first), date.fromisoformat(last)
            for k in range((end - start).days + 1):
                day = date.fromordinal(start.toordinal() + k)
                rows.append([city, "", "", day.isoformat(), "cancel", "", YEAR_END, "true"])
    city, group, category, day, new_day, reason = MOVED
    rule = schedules[group][category]
    if date.fromisoformat(day) not in fiscal_year_dates(rule, 2026):
        raise ValueError(f"the sample move {day} is not a {category} day of {group} ({rule})")
    rows.append([city, group, category, day, "move", new_day, reason, "true"])
    city, group, category, day, reason = EXTRA
    rows.append([city, group, category, day, "extra", "", reason, "true"])
    return sorted(rows, key=lambda r: (r[0], r[3], r[1], r[2]))


def notices() -> list[list[str]]:
    """Rows of garbage_notices_sample.csv (validity in JST; valid_to is exclusive)."""
    return [[c, g, t, b, f + JST, u + JST, "true"] for c, g, t, b, f, u in NOTICES]


__all__ = [
    "CATEGORY_COLUMNS",
    "CENTER",
    "EXCEPTION_COLUMNS",
    "NOTICE_COLUMNS",
    "YEAR_END",
    "categories",
    "exceptions",
    "notices",
]
