"""What people type besides the written address: kana and romaji readings, old municipality names, postcodes.

Each form only ever leads to a town that the reference names exactly (or within the typo rule's one edit, when a
single town fits); anything less certain stays at the honest lower level with candidates.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .model import Town
from .normalize import fold_key, within_one_edit

OLD_NAMES_CSV = Path("addresses/old_municipalities.csv")
POSTCODE = re.compile(r"^\s*〒?\s*([0-9０-９]{3})\s*[-－ー‐]?\s*([0-9０-９]{4})\s*$")
_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_KANA_DROP = re.compile(r"[\s・ー\-‐－]")
_KATAKANA = re.compile(r"[\u30a1-\u30fa]+")
# Romaji spellings folded to one (Hepburn and kunrei meet; voiced and unvoiced meet, as the kana key folds
# dakuten; long vowels shortened): only used to compare, never shown.
_ROMAJI_FOLDS = (
    ("sh", "s"), ("ch", "t"), ("ts", "t"), ("fu", "hu"), ("j", "z"), ("y", ""), ("g", "k"), ("z", "s"),
    ("d", "t"), ("b", "h"), ("p", "h"), ("ou", "o"), ("oo", "o"), ("uu", "u"), ("aa", "a"), ("ii", "i"),
    ("ee", "e"), ("m", "n"), ("w", ""), ("'", ""),
)  # fmt: skip
MIN_FUZZY_KEY = 4
MIN_PART_KEY = 3


def kana_key(text: str) -> str | None:
    """A reading as a matching key: katakana, no spaces or long-vowel marks, small kana large, no dakuten.

    None when the text is not kana only (an address written in kanji takes the ordinary path).
    """
    s = unicodedata.normalize("NFKC", text)
    s = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in s)  # hiragana → katakana
    s = _KANA_DROP.sub("", s)
    if not s or not _KATAKANA.fullmatch(s):
        return None
    s = "".join(c for c in unicodedata.normalize("NFD", s.translate(_SMALL)) if c not in "\u3099\u309a")
    return unicodedata.normalize("NFC", s)


def romaji_key(text: str) -> str | None:
    """Latin letters folded for comparison; None when the text holds anything but letters, spaces and dashes."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    if not s.strip() or re.search(r"[^a-z\s\-']", s):
        return None
    s = re.sub(r"[\s\-]", "", s)
    for a, b in _ROMAJI_FOLDS:
        s = s.replace(a, b)
    return s


@cache
def _kakasi():  # noqa: ANN202
    import pykakasi  # loaded once, only when a reading index is built

    return pykakasi.kakasi()


def kana_to_romaji(kana: str) -> str:
    """Hepburn romaji of a katakana reading (pykakasi)."""
    return "".join(t["hepburn"] for t in _kakasi().convert(kana))


def _reading_variants(kana: str) -> list[str]:
    # 町 is read チョウ in both cities' addresses, but people also say まち.
    return [kana, kana.replace("チョウ", "マチ")] if "チョウ" in kana else [kana]


@dataclass
class Readings:
    """Reading tables: city and town keys in kana and romaji, old municipality names, postcodes."""

    city_kana: dict[str, str] = field(default_factory=dict)  # kana key → city code
    city_roma: dict[str, str] = field(default_factory=dict)  # romaji key → city code
    town_kana: dict[str, list[Town]] = field(default_factory=dict)
    town_roma: dict[str, list[Town]] = field(default_factory=dict)
    old_names: list[tuple[str, str, str]] = field(default_factory=list)  # (folded old prefix, city code, new prefix)
    part_kana: dict[str, list[Town]] = field(default_factory=dict)  # the 町 or 大字 part alone
    part_roma: dict[str, list[Town]] = field(default_factory=dict)
    postal: dict[str, list[Town]] = field(default_factory=dict)
    postal_area: dict[str, set[str]] = field(default_factory=dict)  # first 3 digits → city codes

    def postal_city(self, code: str) -> str | None:
        """The one served city whose postcodes start like this one (for a code without its own 町域)."""
        cities = self.postal_area.get(code[:3], set())
        return next(iter(cities)) if len(cities) == 1 else None

    def add_town(self, town: Town) -> None:
        """Index a town's readings (whole, and its 町 and 大字 parts alone) and its postcodes."""
        for reading in town.kana:
            for variant in _reading_variants(reading):
                _index(self.town_kana, self.town_roma, variant, town)
            for part in _reading_parts(town.name, reading):
                for variant in _reading_variants(part):
                    _index(self.part_kana, self.part_roma, variant, town)
        for code in town.postal_codes:
            if town not in self.postal.setdefault(code, []):
                self.postal[code].append(town)
            self.postal_area.setdefault(code[:3], set()).add(town.city_code)


def _index(kana_table: dict[str, list[Town]], roma_table: dict[str, list[Town]], reading: str, town: Town) -> None:
    for table, key in ((kana_table, kana_key(reading)), (roma_table, romaji_key(kana_to_romaji(reading)))):
        if key and len(key) >= MIN_PART_KEY and town not in table.setdefault(key, []):
            table[key].append(town)


def _reading_parts(name: str, reading: str) -> list[str]:
    # 朝日町大字甘久 is also asked for as あさひちょう or as あまく alone; 立花町 as たちばな. Parts live in their own
    # table, consulted only when no whole reading matches, and a part shared by several towns only gives candidates.
    head, sep, tail = name.partition("町")
    k_head, k_sep, k_tail = reading.partition("チョウ")
    if not (sep and k_sep and head):
        return []
    parts = [k_head, k_head + "チョウ"] if tail else [k_head]
    if tail.removeprefix("大字") and k_tail:
        parts += [k_tail, k_head + k_tail]  # 甘久 alone; 北方大渡 with 町 left out
    return parts


def load_readings(data_dir: Path, cities: Iterable[dict[str, str]], towns: Iterable[Town]) -> Readings:
    """The reading tables from the reference towns, the served cities' kana/romaji and the old names file."""
    r = Readings()
    for c in cities:
        code, kana, roma = c["code"], c["kana"], c["roma"]
        for k in {kana, kana.removesuffix("シ")}:
            if key := kana_key(k):
                r.city_kana[key] = code
        for k in {roma, roma.split("-")[0]}:
            if key := romaji_key(k):
                r.city_roma[key] = code
    for town in towns:
        r.add_town(town)
    path = Path(data_dir) / OLD_NAMES_CSV
    if path.exists():
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                r.old_names.append((fold_key(row["old_name"]), row["city_code"], row["current_prefix"]))
        r.old_names.sort(key=lambda t: -len(t[0]))
    return r


def postcode(text: str) -> str | None:
    """The 7 digits when the whole input is a postcode (〒843-0001, 8430001), else None."""
    m = POSTCODE.match(text)
    return unicodedata.normalize("NFKC", m.group(1) + m.group(2)) if m else None


def rewrite_old_name(key: str, old_names: list[tuple[str, str, str]]) -> tuple[str, str, int] | None:
    """(city code, the text with the old municipality replaced by today's 町, length of the old part) or None."""
    for old, code, new in old_names:
        if key.startswith(old):
            return code, new + key[len(old) :], len(old)
    return None


def city_splits(key: str, table: Mapping[str, str]) -> list[tuple[str | None, str]]:
    """Ways to read the key: (city code, rest) for each city reading it starts with (longest first), then (None, key).

    武雄町武雄 (たけおちょうたけお) starts like 武雄市 (たけお) too, so the reading without a city is always tried.
    """
    cities = [(table[c], key[len(c) :]) for c in sorted(table, key=len, reverse=True) if key.startswith(c)]
    return [*cities, (None, key)]


def reading_towns(
    key: str, tables: tuple[Mapping[str, list[Town]], Mapping[str, list[Town]]], code: str | None
) -> tuple[list[Town], bool]:
    """(towns whose whole reading, else part reading, is the key; exact?) — else the towns within one edit of a
    whole reading, when exactly one fits."""

    def in_city(towns: list[Town]) -> list[Town]:
        return [t for t in towns if code is None or t.city_code == code]

    whole, parts = tables
    exact = in_city(whole.get(key, [])) or in_city(parts.get(key, []))
    if exact or len(key) < MIN_FUZZY_KEY:
        return exact, True
    near = {
        t for k, towns in whole.items() if len(k) >= MIN_FUZZY_KEY and within_one_edit(key, k) for t in in_city(towns)
    }
    return (list(near), False) if len({(t.city_code, t.name) for t in near}) == 1 else ([], False)
