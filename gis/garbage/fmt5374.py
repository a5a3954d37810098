"""Code for Kanazawa's 5374 file set (area_days, area_master, center, description, remarks, target) ↔ CityData.

Reading: rows of area_days.csv with the same group code (the unnamed last column) share one schedule and become
one group `f"{city}-{code}"` whose `areas` are the 地名 in file order and whose `center` is the センター; its
`schedule` maps category → the cell text exactly as written, plus metadata under `_` keys:

- `_remarks`: {ID: 注意事項} of the remarks.csv entries the group's cells point to (`*1`);
- `_5374`: {"lines": [...], "masters": [...], "master_names": {...}}: the file line and マスター of each area,
  so that an export gives back the same rows in the same order with the same master ids.

center.csv closures become whole-day cancellations of every group of that center, one per calendar day of the
closure (reason 「年末年始（センター休止）」 or 「センター休止」); the export finds them by that reason and gives the
ranges back. description.csv fills the categories (`<br />` ↔ newlines; sublabel in `names["sublabel"]`), target.csv
the items. Remarks no cell points to have nowhere to live and are reported, not stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gis.errors import ImportFailed
from gis.garbage.model import (
    CLOSURE_REASON,
    YEAR_END_CLOSURE_REASON,
    CalendarException,
    Category,
    CityData,
    Group,
    Item,
    blank,
)
from gis.garbage.rules import RuleError, dates_rule, is_category, parse_rule

NAMES = ("area_days", "area_master", "center", "description", "remarks", "target")
CENTER_HEADER = "センター（center.csvを使わない場合は空白化）"
HEADERS = {
    "area_master": ["マスター", "区名"],
    "center": ["名称", "休止開始日", "休止終了日"],
    "description": ["label", "sublabel", "description", "styles", "bgcolor"],
    "remarks": ["ID", "注意事項"],
    "target": ["label", "name", "notice", "furigana"],
}
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
Rows = list[tuple[int, list[str]]]


def find_files(path: Path) -> dict[str, Path]:
    """The set's files: a directory with area_days.csv (or one `*area_days.csv`), or that file itself."""
    path = Path(path)
    if path.is_file():
        if not path.name.endswith("area_days.csv"):
            raise ImportFailed(f"{path.name}: give the directory of the 5374 files or its area_days.csv")
        folder, prefix = path.parent, path.name.removesuffix("area_days.csv")
    elif path.is_dir():
        folder = path
        if (path / "area_days.csv").is_file():
            prefix = ""
        else:
            found = sorted(p.name for p in path.glob("*area_days.csv"))
            if len(found) != 1:
                raise ImportFailed(f"{path}: expected one area_days.csv, found {len(found)}")
            prefix = found[0].removesuffix("area_days.csv")
    else:
        raise ImportFailed(f"{path}: no such file or directory")
    files = {n: folder / f"{prefix}{n}.csv" for n in NAMES}
    return {n: p for n, p in files.items() if p.is_file()}


def read_rows(path: Path) -> Rows:
    """(line number, cells) of the non-blank rows of a UTF-8 (BOM or not) or Shift_JIS CSV."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFailed(f"{path.name}: neither UTF-8 nor Shift_JIS text")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as e:
        raise ImportFailed(f"{path.name} line {reader.line_num}: {e}") from None


def _table(path: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    rows = read_rows(path)
    if not rows:  # 5374 allows an empty center.csv (no closures)
        return []
    want = HEADERS[name]
    head = [h.strip() for h in rows[0][1]]
    if head[: len(want)] != want:
        raise ImportFailed(f"{path.name}: the columns must be {', '.join(want)}; found {', '.join(head) or 'none'}")
    return [(line, dict(zip(want, [*cells, *[""] * len(want)], strict=False))) for line, cells in rows[1:]]


def _day(text: str, where: str) -> date:
    t = text.strip()
    m = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})|(\d{4})(\d{2})(\d{2})", t)
    try:
        if not m:
            raise ValueError
        y, mo, d = (int(v) for v in (m.groups()[:3] if m[1] else m.groups()[3:]))
        return date(y, mo, d)
    except ValueError:
        raise ImportFailed(f"{where}: '{text}' is not a date (YYYY/MM/DD)") from None


def _area_days(path: Path, city: str, masters: dict[str, str] | None, remarks: dict[str, str]) -> CityData:
    rows = read_rows(path)
    if not rows:
        raise ImportFailed(f"{path.name}: empty")
    head = rows[0][1]
    first = 1 if head[0].strip() == "マスター" else 0
    if len(head) < first + 3 or not head[first].strip().startswith("地名"):
        raise ImportFailed(f"{path.name}: column {first + 1} must be 地名, found '{head[first] if head else ''}'")
    if not head[first + 1].strip().startswith("センター"):
        raise ImportFailed(f"{path.name}: column {first + 2} must be センター, found '{head[first + 1]}'")
    has_code = head[-1].strip() == ""
    cats = [h.strip() for h in head[first + 2 : len(head) - has_code]]
    if not cats or any(not c for c in cats) or len(set(cats)) != len(cats):
        raise ImportFailed(f"{path.name}: the category columns must have distinct names; found {', '.join(cats)}")
    groups: dict[str, Group] = {}
    origin: dict[str, int] = {}
    used: set[str] = set()
    for n, (line, cells) in enumerate(rows[1:], start=1):
        where = f"{path.name} line {line}"
        if len(cells) != len(head):
            raise ImportFailed(f"{where}: {len(cells)} cells, the header has {len(head)}")
        area = cells[first].strip()
        if not area:
            raise ImportFailed(f"{where}: 地名 is empty")
        code = cells[-1].strip() if has_code else str(n)
        if not code:
            raise ImportFailed(f"{where} ({area}): the group code (last column) is empty")
        texts = dict(zip(cats, cells[first + 2 : first + 2 + len(cats)], strict=True))
        pointers = []
        for cat, text in texts.items():
            try:
                pointers += parse_rule(text).remarks
            except RuleError as e:
                raise ImportFailed(f"{where} ({area}), column {cat}: {e}") from None
        center = blank(cells[first + 1])
        g = groups.get(code)
        if g is None:
            meta: dict[str, Any] = {"lines": []}
            if first:
                meta |= {"masters": [], "master_names": {}}
            if not has_code:
                meta["code_column"] = False
            schedule: dict[str, Any] = {**texts, "_5374": meta}
            g = groups[code] = Group(f"{city}-{code}", "", schedule, code, [], None, center)
            origin[code] = line
        else:
            for cat, text in texts.items():
                if g.schedule[cat] != text:
                    raise ImportFailed(
                        f"{where} ({area}): group {code} has '{text}' for {cat}, line {origin[code]} has "
                        f"'{g.schedule[cat]}' (rows of one group code share their days)"
                    )
            if g.center != center:
                raise ImportFailed(f"{where} ({area}): group {code} has センター '{center}', line {origin[code]} "
                                   f"has '{g.center}'")  # fmt: skip
        for p in pointers:
            if p not in remarks:
                raise ImportFailed(f"{where} ({area}): a cell points to remark *{p}, which remarks.csv does not have")
            g.schedule.setdefault("_remarks", {})[p] = remarks[p]
            used.add(p)
        g.areas.append(area)
        meta = g.schedule["_5374"]
        meta["lines"].append(line)
        if first:
            master = cells[0].strip()
            if masters is not None and master not in masters:
                raise ImportFailed(f"{where} ({area}): マスター '{master}' is not in area_master.csv")
            meta["masters"].append(master)
            if masters is not None:
                meta["master_names"][master] = masters[master]
    for g in groups.values():
        more = f"ほか{len(g.areas) - 1}地区" if len(g.areas) > 1 else ""
        g.name = f"{g.code}（{g.areas[0]}{more}）"
        names = g.schedule["_5374"].get("master_names") or {}
        if names:
            g.area_master = "、".join(dict.fromkeys(names[m] for m in g.schedule["_5374"]["masters"]))
    data = CityData(city, groups=list(groups.values()), categories=[Category(c, i) for i, c in enumerate(cats)])
    unused = [k for k in remarks if k not in used]
    if unused:
        data.report.append(f"remarks.csv: no cell points to ID {', '.join(unused)}; those remarks are not stored")
    return data


def _closures(path: Path, groups: Sequence[Group], report: list[str]) -> list[CalendarException]:
    out = []
    for line, r in _table(path, "center"):
        where = f"{path.name} line {line}"
        name, start, end = r["名称"].strip(), _day(r["休止開始日"], where), _day(r["休止終了日"], where)
        if end < start or (end - start).days > 366:
            raise ImportFailed(f"{where}: the closure {start} – {end} runs backwards or for more than a year")
        mine = [g for g in groups if g.center == name]
        if not mine:
            report.append(f"{where}: no group names the center '{name}'; its closure is not stored")
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        year_end = any((d.month, d.day) in ((12, 31), (1, 1)) for d in days)
        reason = YEAR_END_CLOSURE_REASON if year_end else CLOSURE_REASON
        out += [CalendarException(d, "cancel", reason, g.group_id) for g in mine for d in days]
    return out


def read_5374(path: Path, city: str) -> CityData:
    """Read a 5374 file set into one city's data; raises ImportFailed naming the file, line and cell."""
    files = find_files(path)
    if "area_days" not in files:
        raise ImportFailed(f"{path}: no area_days.csv")
    masters = None
    if "area_master" in files:
        masters = {r["マスター"].strip(): r["区名"].strip() for _, r in _table(files["area_master"], "area_master")}
    remarks = {}
    if "remarks" in files:
        remarks = {r["ID"].strip(): r["注意事項"] for _, r in _table(files["remarks"], "remarks")}
    data = _area_days(files["area_days"], city, masters, remarks)
    assert data.groups is not None and data.categories is not None
    if "center" in files:
        data.exceptions = _closures(files["center"], data.groups, data.report)
    if "description" in files:
        cats = {c.category: c for c in data.categories}
        for line, r in _table(files["description"], "description"):
            label = r["label"].strip()
            if not label:
                raise ImportFailed(f"{files['description'].name} line {line}: label is empty")
            c = cats.get(label)
            if c is None:
                c = cats[label] = Category(label, len(cats))
                data.categories.append(c)
            text = _BR.sub("\n", r["description"]).replace("\r", "")
            c.description = text if text.strip() else None
            c.icon, c.color = blank(r["styles"]), blank(r["bgcolor"])
            c.names = {"sublabel": r["sublabel"]} if r["sublabel"].strip() else {}
    if "target" in files:
        data.items = []
        for line, r in _table(files["target"], "target"):
            if not r["name"].strip() or not r["label"].strip():
                raise ImportFailed(f"{files['target'].name} line {line}: label and name must not be empty")
            item = Item(r["name"].strip(), r["label"].strip(), blank(r["notice"]), blank(r["furigana"]))
            data.items.append(item)
    return data


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    rows = list(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)  # CRLF, as the 5374 sets are published
        w.writerow(header)
        w.writerows(rows)
    return len(rows)


def _id_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


def _closure_rows(data: CityData) -> list[list[str]]:
    centers = {g.group_id: g.center for g in data.groups or [] if g.center}
    days: dict[str, set[date]] = {}
    for x in data.exceptions or []:
        if x.kind == "cancel" and x.category is None and x.group_id in centers and CLOSURE_REASON in x.reason:
            days.setdefault(centers[x.group_id], set()).add(x.day)
    rows = []
    for center, ds in days.items():
        run: list[date] = []
        for d in sorted(ds):
            if run and d - run[-1] > timedelta(days=1):
                rows.append([center, run[0], run[-1]])
                run = []
            run.append(d)
        rows.append([center, run[0], run[-1]])
    return [[c, f"{a:%Y/%m/%d}", f"{b:%Y/%m/%d}"] for c, a, b in sorted(rows, key=lambda r: (r[1], r[0]))]


def write_5374(
    folder: Path, data: CityData, event_days: dict[tuple[str, str], list[date]], prefix: str = ""
) -> list[tuple[str, int]]:
    """Write the city's data as a 5374 file set; returns (file, rows) per file written."""
    folder.mkdir(parents=True, exist_ok=True)
    groups, cats = data.groups or [], data.categories or []
    keys = {k for g in groups for k in g.schedule if is_category(k)} | {c for _, c in event_days}
    columns = [c.category for c in cats if c.category in keys]
    columns += sorted(keys - set(columns))
    metas = [g.schedule.get("_5374") or {} for g in groups]
    has_master = any("masters" in m for m in metas)
    has_code = not metas or not all(m.get("code_column") is False for m in metas)
    rows = []
    for gi, (g, meta) in enumerate(zip(groups, metas, strict=True)):
        cells = []
        for c in columns:
            text = g.schedule.get(c)
            days = event_days.get((g.group_id, c))
            # Events no rule describes (authored by hand) are written as explicit dates.
            cells.append(text if isinstance(text, str) and text.strip() else dates_rule(days) if days else text or "")
        lines, masters = meta.get("lines") or [], meta.get("masters") or []
        for i, area in enumerate(g.areas or [g.name]):
            line = lines[i] if i < len(lines) else None
            master = [masters[i] if i < len(masters) else ""] if has_master else []
            code = [g.code or g.group_id] if has_code else []
            rows.append(((line is None, line or 0, gi, i), [*master, area, g.center or "", *cells, *code]))
    header = ["マスター"] * has_master + ["地名", CENTER_HEADER, *columns] + [""] * has_code
    out = [("area_days.csv", _write(folder / f"{prefix}area_days.csv", header, [r for _, r in sorted(rows)]))]
    names = {k: v for m in metas for k, v in (m.get("master_names") or {}).items()}
    if names:
        master_rows = [[k, names[k]] for k in sorted(names, key=_id_order)]
        n = _write(folder / f"{prefix}area_master.csv", HEADERS["area_master"], master_rows)
        out.append(("area_master.csv", n))
    out.append(("center.csv", _write(folder / f"{prefix}center.csv", HEADERS["center"], _closure_rows(data))))
    desc = [
        [c.category, c.names.get("sublabel", ""), (c.description or "").replace("\n", "<br />"), c.icon or "",
         c.color or ""]
        for c in cats
    ]  # fmt: skip
    out.append(("description.csv", _write(folder / f"{prefix}description.csv", HEADERS["description"], desc)))
    remarks = {k: v for g in groups for k, v in (g.schedule.get("_remarks") or {}).items()}
    remark_rows = [[k, remarks[k]] for k in sorted(remarks, key=_id_order)]
    out.append(("remarks.csv", _write(folder / f"{prefix}remarks.csv", HEADERS["remarks"], remark_rows)))
    targets = [[i.category, i.name, i.notice or "", i.furigana or ""] for i in data.items or []]
    out.append(("target.csv", _write(folder / f"{prefix}target.csv", HEADERS["target"], targets)))
    return out


__all__ = ["CENTER_HEADER", "HEADERS", "NAMES", "find_files", "read_5374", "read_rows", "write_5374"]
