"""Reading and checking a GTFS(-JP) zip with gtfs-kit: a feed that would give wrong timetables is refused whole.

gtfs-kit reads the standard files into typed DataFrames; what it does not check, and what a timetable service must
not get wrong, is checked here before anything is written: the files a timetable needs, the times (HH:MM:SS, hours
past 24 allowed), the dates (YYYYMMDD), and that every stop, trip, route and parent station referred to exists.
Every refusal names the file, the line and the value. translations.txt is read here too (gtfs-kit skips it): the
GTFS-JP form (trans_id, lang, translation) and the GTFS form (table_name, field_name, language, ...).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

import gtfs_kit as gk
import pandas as pd

from gis.errors import ImportFailed

REQUIRED = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
CALENDARS = ("calendar.txt", "calendar_dates.txt")
TIME = re.compile(r"([0-9]{1,3}):([0-5][0-9]):([0-5][0-9])")
DATE = re.compile(r"[0-9]{8}")
# Larger than any real feed; a zip past this is refused before it is unpacked.
MAX_UNZIPPED = 2 * 1024**3


@dataclass
class Feed:
    """A checked feed: gtfs-kit's tables plus what it leaves out (names in kana and English, feed_info)."""

    gtfs: gk.Feed
    path: Path
    kana: dict[str, str] = field(default_factory=dict)  # Japanese name → ja-Hrkt
    english: dict[str, str] = field(default_factory=dict)  # Japanese name → en
    publisher: str | None = None
    publisher_url: str | None = None
    version: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    notes: list[str] = field(default_factory=list)


def zip_names(path: Path) -> list[str] | None:
    """The base names of the .txt files in a zip (at its root or in one folder), or None when it is not a zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [PurePosixPath(i.filename).name for i in zf.infolist() if i.filename.endswith(".txt")]
    except (zipfile.BadZipFile, OSError):
        return None


def is_gtfs_zip(path: Path) -> bool:
    """A zip holding at least stops.txt, stop_times.txt, trips.txt and routes.txt."""
    names = zip_names(Path(path)) if Path(path).is_file() else None
    return names is not None and {"stops.txt", "stop_times.txt", "trips.txt", "routes.txt"} <= set(names)


def parse_date(text: object, where: str) -> date:
    """A GTFS date (YYYYMMDD)."""
    value = str(text).strip() if text is not None and not pd.isna(text) else ""
    if not DATE.fullmatch(value):
        raise ImportFailed(f"{where}: '{value}' is not a date (YYYYMMDD)")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ImportFailed(f"{where}: '{value}' is not a valid date") from None


def seconds(col: pd.Series, name: str) -> pd.Series:
    """GTFS times (H:MM:SS, hours past 24 allowed) → seconds after the service day's midnight; blanks stay NA."""
    text = col.astype("string").str.strip()
    parts = text.str.extract(f"^{TIME.pattern}$")
    bad = text.notna() & (text != "") & parts[0].isna()
    if bad.any():
        i = bad.idxmax()
        raise ImportFailed(f"stop_times.txt line {i + 2}: {name} '{text[i]}' is not a time (HH:MM:SS)")
    h, m, s = (pd.to_numeric(parts[k]).astype("Int64") for k in range(3))
    return h * 3600 + m * 60 + s


def _refs(child: pd.Series, parent: pd.Series, file: str, column: str, target: str) -> None:
    """Every value of `child` (blanks aside) must be in `parent`."""
    missing = child.notna() & ~child.isin(set(parent))
    if missing.any():
        i = missing.idxmax()
        count = int(missing.sum())
        more = f" ({count:,} rows refer to unknown ids)" if count > 1 else ""
        raise ImportFailed(f"{file} line {i + 2}: {column} '{child[i]}' is not in {target}{more}")


def _translations(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Names in kana and English from translations.txt, in the GTFS-JP or the GTFS layout."""
    with zipfile.ZipFile(path) as zf:
        member = next((n for n in zf.namelist() if PurePosixPath(n).name == "translations.txt"), None)
        if member is None:
            return {}, {}
        with zf.open(member) as f:
            t = pd.read_csv(f, dtype="string", encoding="utf-8-sig", keep_default_na=False)
    t.columns = [c.strip() for c in t.columns]
    if {"trans_id", "lang", "translation"} <= set(t.columns):
        key, lang = t["trans_id"], t["lang"]
    elif {"field_value", "language", "translation"} <= set(t.columns):
        keep = t.get("field_name", pd.Series("stop_name", index=t.index)).isin(["stop_name", "route_long_name"])
        t = t[keep & (t["field_value"] != "")]
        key, lang = t["field_value"], t["language"]
    else:
        return {}, {}
    pairs = pd.DataFrame({"key": key, "lang": lang, "text": t["translation"]}).drop_duplicates(["key", "lang"])
    kana = pairs[pairs["lang"] == "ja-Hrkt"].set_index("key")["text"].to_dict()
    english = pairs[pairs["lang"] == "en"].set_index("key")["text"].to_dict()
    return kana, english


def _feed_info(feed: Feed) -> None:
    info = feed.gtfs.feed_info
    if info is None or info.empty:
        feed.notes.append("feed_info.txt なし: 公開者・有効期間はカレンダーから")
        return
    row = info.iloc[0]

    def text(name: str) -> str | None:
        v = row.get(name)
        return None if v is None or pd.isna(v) or str(v).strip() == "" else str(v).strip()

    feed.publisher, feed.publisher_url, feed.version = (
        text("feed_publisher_name"),
        text("feed_publisher_url"),
        text("feed_version"),
    )
    if text("feed_start_date"):
        feed.start_date = parse_date(text("feed_start_date"), "feed_info.txt line 2: feed_start_date")
    if text("feed_end_date"):
        feed.end_date = parse_date(text("feed_end_date"), "feed_info.txt line 2: feed_end_date")


def _check(g: gk.Feed) -> None:
    """References, dates and coordinates gtfs-kit does not check."""
    if g.calendar is None and g.calendar_dates is None:
        raise ImportFailed("the feed has no calendar.txt and no calendar_dates.txt: no day a trip runs is known")
    stops = g.stops
    placed = stops["location_type"].fillna(0).isin([0, 1]) if "location_type" in stops else pd.Series(True, stops.index)
    for coord, lo, hi in (("stop_lat", 20.0, 46.0), ("stop_lon", 122.0, 154.0)):
        value = pd.to_numeric(stops[coord], errors="coerce")
        bad = placed & ~value.between(lo, hi)
        if bad.any():
            i = bad.idxmax()
            raise ImportFailed(f"stops.txt line {i + 2}: {coord} '{stops[coord][i]}' is not a coordinate in Japan")
    if "parent_station" in stops:
        _refs(stops["parent_station"], stops["stop_id"], "stops.txt", "parent_station", "stops.txt")
    _refs(g.stop_times["stop_id"], stops["stop_id"], "stop_times.txt", "stop_id", "stops.txt")
    _refs(g.stop_times["trip_id"], g.trips["trip_id"], "stop_times.txt", "trip_id", "trips.txt")
    _refs(g.trips["route_id"], g.routes["route_id"], "trips.txt", "route_id", "routes.txt")
    if g.calendar is not None:
        for i, r in g.calendar.iterrows():
            for col in ("start_date", "end_date"):
                parse_date(r[col], f"calendar.txt line {i + 2}: {col}")
    if g.calendar_dates is not None:
        for i, r in g.calendar_dates.iterrows():
            parse_date(r["date"], f"calendar_dates.txt line {i + 2}: date")
            if r["exception_type"] not in (1, 2):
                raise ImportFailed(
                    f"calendar_dates.txt line {i + 2}: exception_type '{r['exception_type']}' is not 1 or 2"
                )
    for name in ("arrival_time", "departure_time"):
        seconds(g.stop_times[name], name)


def read_feed(path: Path) -> Feed:
    """Read and check a GTFS zip; ImportFailed naming the problem when it cannot give a correct timetable."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    names = zip_names(path)
    if names is None:
        raise ImportFailed(f"{path.name}: not a zip file (a GTFS feed is a zip of .txt files)")
    try:
        with zipfile.ZipFile(path) as zf:
            size = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as e:
        raise ImportFailed(f"{path.name}: unreadable zip ({e})") from None
    if size > MAX_UNZIPPED:
        raise ImportFailed(f"{path.name}: unpacks to {size / 1024**3:.1f} GiB, more than any GTFS feed")
    missing = [n for n in REQUIRED if n not in names]
    if not any(n in names for n in CALENDARS):
        missing.append("calendar.txt or calendar_dates.txt")
    if missing:
        raise ImportFailed(f"{path.name}: not a complete GTFS feed, missing {', '.join(missing)}")
    try:
        g = gk.read_feed(path, dist_units="km")
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise ImportFailed(f"{path.name}: a file could not be read as GTFS ({str(e)[:200]})") from None
    for table in ("agency", "stops", "routes", "trips", "stop_times"):
        if getattr(g, table) is None:
            raise ImportFailed(f"{path.name}: {table}.txt is empty")
    missing_cols = [
        f"{table}.txt {col}"
        for table, cols in (
            ("stops", ("stop_id", "stop_name", "stop_lat", "stop_lon")),
            ("routes", ("route_id",)),
            ("trips", ("trip_id", "route_id", "service_id")),
            ("stop_times", ("trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time")),
        )
        for col in cols
        if col not in getattr(g, table).columns
    ]
    if missing_cols:
        raise ImportFailed(f"{path.name}: missing columns {', '.join(missing_cols)}")
    _check(g)
    feed = Feed(g, path)
    feed.kana, feed.english = _translations(path)
    _feed_info(feed)
    return feed
