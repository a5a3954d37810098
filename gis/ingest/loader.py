"""`gis load`: every bundled file of data/manifest.toml, in order, idempotently."""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from gis.cities import CITIES
from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.errors import ImportFailed
from gis.ingest.importer import ImportResult, load_frame
from gis.ingest.mapping import map_columns
from gis.ingest.readers import read_source
from layers import get_layer

Log = Callable[[str], None]


@dataclass
class Manifest:
    """The parsed manifest: sources, layer loads and plain tables."""

    sources: dict[str, SourceInfo]
    loads: list[dict]
    tables: list[dict]


def read_manifest(data_dir: Path) -> Manifest:
    """Parse data/manifest.toml."""
    raw = tomllib.loads((data_dir / "manifest.toml").read_text(encoding="utf-8"))
    sources = {}
    for key, s in raw.get("sources", {}).items():
        s = dict(s)
        if isinstance(s.get("data_date"), str):
            s["data_date"] = date.fromisoformat(s["data_date"])
        sources[key] = SourceInfo(**s)
    return Manifest(sources, raw.get("load", []), raw.get("table", []))


def _load_zone_rules(cur: psycopg.Cursor, path: Path) -> int:
    """Replace the zone rules with the CSV's rows."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cur.execute("DELETE FROM zone_rules")
    for r in rows:
        cur.execute(
            "INSERT INTO zone_rules (kind, city_code, youto_name, zone_class, legal_ref, valid_from, valid_to, "
            "verified, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                r["kind"],
                r["city_code"] or None,
                r["youto_name"],
                r["zone_class"] or None,
                r["legal_ref"],
                r["valid_from"] or None,
                r["valid_to"] or None,
                r["verified"].lower() == "true",
                r["note"] or None,
            ),
        )
    return len(rows)


def _load_garbage_groups(cur: psycopg.Cursor, path: Path, info: SourceInfo) -> int:
    """Replace the garbage collection groups of the cities in the CSV."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cities = sorted({r["city_code"] for r in rows})
    source_id = insert_source(cur, "garbage_groups", info, file_name=path.name, city_codes=cities, row_count=len(rows))
    cur.execute("DELETE FROM garbage_groups WHERE city_code = ANY(%s)", (cities,))
    for r in rows:
        schedule = json.loads(r["schedule"])
        cur.execute(
            "INSERT INTO garbage_groups (group_id, city_code, name, schedule, source_id, sample) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                r["group_id"],
                r["city_code"],
                r["name"],
                json.dumps(schedule, ensure_ascii=False),
                source_id,
                info.sample or r.get("sample", "").lower() == "true",
            ),
        )
    bump_version(cur, "garbage_groups")
    return len(rows)


def load_entry(conn: psycopg.Connection, data_dir: Path, entry: dict, info: SourceInfo) -> ImportResult:
    """Load one manifest entry with --replace semantics."""
    layer = get_layer(entry["layer"])
    path = data_dir / entry["file"]
    source = read_source(path)
    frame, report = source.frame, source.report
    if entry.get("dissolve"):
        code = next(c for c in ("N03_007", "city_code") if c in frame.columns)
        frame = frame[frame[code].isin(list(CITIES))].dissolve(by=code, as_index=False)
        report.append(f"{code} ごとに {len(frame)} 件へ統合（島を含むマルチポリゴン）")
    mapped = map_columns(frame, layer, entry.get("city"), report)
    # The guards stay on: the bundled files lie inside their cities and replace themselves (same rows).
    return load_frame(conn, layer, mapped, info, replace=True, source_crs=source.crs, file=path, report=report)


def load_all(conn: psycopg.Connection, data_dir: Path, log: Log = print) -> list[ImportResult]:
    """Load the whole manifest; each entry is its own transaction, so a failure names the file."""
    manifest = read_manifest(data_dir)
    results = []
    for t in manifest.tables:
        path = data_dir / t["file"]
        with conn.transaction(), conn.cursor() as cur:
            if t["name"] == "zone_rules":
                n = _load_zone_rules(cur, path)
            elif t["name"] == "garbage_groups":
                n = _load_garbage_groups(cur, path, manifest.sources[t["source"]])
            else:
                raise ImportFailed(f"manifest: unknown table {t['name']}")
        log(f"{t['name']:<22} {n:>7} rows  {t['file']}")
    for entry in manifest.loads:
        info = manifest.sources[entry["source"]]
        try:
            result = load_entry(conn, data_dir, entry, info)
        except ImportFailed as e:
            raise ImportFailed(f"{entry['file']}: {e.description}") from e
        results.append(result)
        flag = " (sample)" if info.sample else ""
        log(f"{result.layer:<22} {result.rows:>7} rows  {entry['file']}{flag}")
        for line in result.report:
            log(f"{'':<24}- {line}")
    return results
