"""Build reference towns, city points and the other Saga municipalities from the bundled CSVs."""

from __future__ import annotations

import csv
import dataclasses
from collections import defaultdict
from pathlib import Path

from gis.cities import CITIES

from .forms import Readings, load_readings
from .model import MACHIAZA, MACHIAZA_DETAIL, Town
from .normalize import fold_key

SERVICE_CITIES = tuple(CITIES)
OAZA_CSV = Path("addresses/imari_takeo_oaza_geolonia.csv")
POSTAL_CSV = Path("addresses/imari_takeo_postal_codes_japanpost.csv")
# What a Geocoder is built from: towns, the served cities' names and points, other Saga names, reading tables.
Reference = tuple[list[Town], dict[str, tuple[str, float, float]], list[str], Readings]
CITIES_CSV = Path("boundaries/saga_cities_abr.csv")


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV (BOM tolerated) as dicts."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _plain_key(name: str) -> str:
    return fold_key(name.replace("大字", ""))


def postal_aliases(rows: list[dict[str, str]], towns: list[Town]) -> dict[Town, list[dict[str, str]]]:
    """Japan Post 町域 rows (name, kana, postcode) per reference town.

    A 町域 equal to a town (大字 ignored, e.g. 武雄町武雄) becomes its alias. A 町域 missing from the reference whose
    tail contains the names of several towns of the same 町 (波多津町津留主屋 → 津留, 主屋) becomes an alias of all of
    them, so it resolves as ambiguous instead of silently picking one.
    """
    by_key: dict[tuple[str, str], Town] = {}
    by_head: dict[tuple[str, str], list[tuple[str, Town]]] = defaultdict(list)
    for t in towns:
        if t.koaza:
            continue
        plain = _plain_key(t.name)
        by_key[(t.city_code, plain)] = t
        cut = plain.find("町")
        if 0 < cut < len(plain) - 1:
            by_head[(t.city_code, plain[: cut + 1])].append((plain[cut + 1 :], t))
    out: dict[Town, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        code, name = row["jisx0402"], row["neighborhood"].strip()
        if code not in SERVICE_CITIES or not name:
            continue
        entry = {"name": name, "kana": row.get("neighborhood_kana", "").strip(), "postal_code": row["postal_code"]}
        plain = _plain_key(name)
        town = by_key.get((code, plain))
        if town is not None:
            out[town].append(entry)
            continue
        cut = plain.find("町")
        if not 0 < cut < len(plain) - 1:
            continue
        tail = plain[cut + 1 :]
        for sub, t in by_head.get((code, plain[: cut + 1]), []):
            if sub in tail:
                out[t].append(entry)
    return out


def with_postal(towns: list[Town], data_dir: Path) -> list[Town]:
    """The towns with their Japan Post spellings (aliases), readings (kana) and postcodes."""
    postal = Path(data_dir) / POSTAL_CSV
    found = postal_aliases(read_csv(postal), towns) if postal.exists() else {}
    out = []
    for t in towns:
        entries = found.get(t, [])
        out.append(
            dataclasses.replace(
                t,
                aliases=tuple(dict.fromkeys(e["name"] for e in entries if e["name"] != t.name)),
                kana=tuple(dict.fromkeys(e["kana"] for e in entries if e["kana"])),
                postal_codes=tuple(dict.fromkeys(e["postal_code"] for e in entries)),
            )
        )
    return out


def load_towns(data_dir: Path) -> list[Town]:
    """Towns from the Geolonia 大字 CSV plus Japan Post 町域 aliases."""
    base: list[Town] = []
    for row in read_csv(data_dir / OAZA_CSV):
        koaza = row["koaza"].strip() or None
        base.append(
            Town(
                city_code=row["city_code"],
                name=row["oaza_cho"].strip(),
                lat=float(row["lat"]),
                lon=float(row["lng"]),
                level=MACHIAZA_DETAIL if koaza else MACHIAZA,
                koaza=koaza,
            )
        )
    return with_postal(base, data_dir)


def load_cities(data_dir: Path) -> tuple[dict[str, tuple[str, float, float]], list[str]]:
    """Representative points of the served cities and the names of all other Saga municipalities."""
    cities: dict[str, tuple[str, float, float]] = {}
    others: list[str] = []
    for row in read_csv(data_dir / CITIES_CSV):
        code = row["lg_code"][:5]
        if code in SERVICE_CITIES:
            cities[code] = (row["city"], float(row["rep_lat"]), float(row["rep_lon"]))
            continue
        others.append(row["city"])
        if row["county"]:
            others.append(row["county"] + row["city"])
    return cities, others


def city_readings(data_dir: Path) -> list[dict[str, str]]:
    """The served cities' kana and romaji names (ABR), for reading input."""
    return [
        {"code": row["lg_code"][:5], "kana": row["city_kana"], "roma": row["city_roma"]}
        for row in read_csv(Path(data_dir) / CITIES_CSV)
        if row["lg_code"][:5] in SERVICE_CITIES
    ]


def load_reference(data_dir: Path) -> Reference:
    """(towns, cities, other Saga municipality names, readings) from the bundled CSVs under data_dir."""
    cities, others = load_cities(Path(data_dir))
    towns = load_towns(Path(data_dir))
    return towns, cities, others, load_readings(Path(data_dir), city_readings(data_dir), towns)
