#!/usr/bin/env python3
"""Where the report's one statement spends its time: EXPLAIN (ANALYZE, BUFFERS) per section (for issue 16).

    .venv/bin/python bench/report_profile.py [--lat 33.1955 --lon 130.0195]

Runs the service's own statement (gis.lookup.sql.point_sql) three times warm, then once under EXPLAIN, and lists
each section's InitPlan with its time, shared-buffer hits and the relations it reads. The database is
DATABASE_URL, else the embedded cluster. Writes bench/results-report-profile.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from gis.lookup.sql import point_sql  # noqa: E402


def _relations(node: dict, acc: set[str]) -> set[str]:
    if node.get("Relation Name"):
        acc.add(node["Relation Name"])
    if node.get("Function Name"):
        acc.add(node["Function Name"] + "()")
    for child in node.get("Plans", []):
        _relations(child, acc)
    return acc


def _sections(node: dict, out: list[tuple[float, str, list[str], int]]) -> None:
    for child in node.get("Plans", []):
        if child.get("Parent Relationship") in ("InitPlan", "SubPlan"):
            ms = child.get("Actual Total Time", 0) * child.get("Actual Loops", 1)
            out.append(
                (ms, child.get("Subplan Name", ""), sorted(_relations(child, set())), child.get("Shared Hit Blocks", 0))
            )
        else:
            _sections(child, out)


def main() -> None:
    """Profile the report at one point and write the table."""
    p = argparse.ArgumentParser()
    p.add_argument("--lat", type=float, default=33.1955)
    p.add_argument("--lon", type=float, default=130.0195)
    a = p.parse_args()
    url = (
        os.environ.get("DATABASE_URL")
        or subprocess.run(
            [str(REPO / ".venv" / "bin" / "gis"), "db", "url"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
    )
    sql = point_sql().replace("$1", repr(a.lon)).replace("$2", repr(a.lat)).replace("$3", "10")
    with psycopg.connect(url) as conn:
        for _ in range(3):
            conn.execute(sql)
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).fetchone()[0][0]
    rows: list[tuple[float, str, list[str], int]] = []
    _sections(plan["Plan"], rows)
    lines = [
        "# Where the report's statement spends its time",
        "",
        f"Run: {datetime.now(UTC).isoformat(timespec='seconds')}, `.venv/bin/python bench/report_profile.py "
        f"--lat {a.lat} --lon {a.lon}`, warm (3 runs first), literal values (a custom plan).",
        f"Execution {plan['Execution Time']:.2f} ms, planning {plan['Planning Time']:.2f} ms.",
        "",
        "| section (InitPlan) | ms | shared hits | reads |",
        "|---|---:|---:|---|",
    ]
    for ms, name, rels, hits in sorted(rows, reverse=True):
        lines.append(f"| {name} | {ms:.2f} | {hits} | {', '.join(rels)} |")
    out = REPO / "bench" / "results-report-profile.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
