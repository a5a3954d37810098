"""`gis load`: every bundled file of data/manifest.toml, in order, idempotently."""

from __future__ import annotations

import csv
import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from gis.cities import CITIES
from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.ingest.checks import Scope
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


def load_entry(conn: psycopg.Connection, data_dir: Path, entry: dict, info: SourceInfo) -> ImportResult:
    """Load one manifest entry with --replace semantics.

    `connector` names a file connector (gis.ingest.connectors) that maps the file; `scope` ({column, values})
    limits what the entry replaces to that part of the layer (several files share one layer); `values` sets
    columns the file lacks (e.g. an event date).
    """
    path = data_dir / entry["file"]
    if "connector" in entry:
        from gis.ingest.connectors import by_name

        return by_name(entry["connector"]).run(conn, path, info, replace=True, city=entry.get("city"))
    layer = get_layer(entry["layer"])
    source = read_source(path)
    frame, report = source.frame, source.report
    for column, value in entry.get("values", {}).items():
        frame[column] = value
    if entry.get("dissolve"):
        code = next(c for c in ("N03_007", "city_code") if c in frame.columns)
        frame = frame[frame[code].isin(list(CITIES))].dissolve(by=code, as_index=False)
        report.append(f"{code} ごとに {len(frame)} 件へ統合（島を含むマルチポリゴン）")
    mapped = map_columns(frame, layer, entry.get("city"), report)
    # The guards stay on: the bundled files lie inside their cities and replace themselves (same rows).
    scope = Scope(entry["scope"]["column"], tuple(entry["scope"]["values"])) if "scope" in entry else None
    return load_frame(
        conn, layer, mapped, info, replace=True, source_crs=source.crs, file=path, report=report, scope=scope
    )


def load_all(conn: psycopg.Connection, data_dir: Path, log: Log = print) -> list[ImportResult]:
    """Load the whole manifest; each entry is its own transaction, so a failure names the file."""
    manifest = read_manifest(data_dir)
    results = []
    before = [t for t in manifest.tables if not t.get("after_layers")]
    _load_tables(conn, data_dir, manifest, before, log)
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
    # Tables that hang off layer rows (farmland ledger → polygons) load once the layers are in.
    _load_tables(conn, data_dir, manifest, [t for t in manifest.tables if t.get("after_layers")], log)
    return results


def _load_tables(conn: psycopg.Connection, data_dir: Path, manifest: Manifest, tables: list[dict], log: Log) -> None:
    """Load manifest tables, each in its own transaction."""
    for t in tables:
        with conn.transaction(), conn.cursor() as cur:
            if "module" in t:
                # A domain loads its own tables: ingest knows the module only by the name the manifest gives.
                lines = importlib.import_module(t["module"]).load(cur, data_dir, t, manifest.sources)
            elif t["name"] == "zone_rules":
                lines = [("zone_rules", _load_zone_rules(cur, data_dir / t["file"]), t["file"])]
            else:
                raise ImportFailed(f"manifest: unknown table {t['name']}")
        for table, n, what in lines:
            log(f"{table:<22} {n:>7} rows  {what}")
