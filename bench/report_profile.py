#!/usr/bin/env python3
"""Where the report's one statement spends its time: EXPLAIN (ANALYZE, BUFFERS) per section (for issue 16).

    .venv/bin/python bench/report_profile.py [--lat 33.1955 --lon 130.0195] [--targets FILE --n 50] [--out NAME]

Runs the service's own statement (gis.lookup.sql.point_sql) as the service does: prepared, with its generic plan
(the plan PostgreSQL settles on after five executions of a prepared statement), three times warm, then under
EXPLAIN (ANALYZE, BUFFERS) at one point or at the first n points of a bench targets file (W1.tsv: i, lon, lat),
and lists each section's InitPlan with its mean time, shared-buffer hits and the relations it reads. The database
is DATABASE_URL, else the embedded cluster. Writes bench/results-report-profile.md (or --out).
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
    p.add_argument("--targets", help="a bench targets file (W1.tsv: i, lon, lat)")
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--out", default="results-report-profile.md")
    a = p.parse_args()
    url = (
        os.environ.get("DATABASE_URL")
        or subprocess.run(
            [str(REPO / ".venv" / "bin" / "gis"), "db", "url"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
    )
    points = [(a.lon, a.lat)]
    if a.targets:
        with open(a.targets, encoding="utf-8") as f:
            next(f)
            points = [(float(r.split("\t")[1]), float(r.split("\t")[2])) for r, _ in zip(f, range(a.n), strict=False)]
    with psycopg.connect(url) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE report(float8, float8, float8) AS {point_sql()}")
        for lon, lat in points[:3]:
            conn.execute(f"EXECUTE report({lon!r}, {lat!r}, 10)")
        plans = [
            conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE report({lon!r}, {lat!r}, 10)").fetchone()[0][
                0
            ]
            for lon, lat in points
        ]
    plan = plans[0]
    plan["Execution Time"] = sum(p["Execution Time"] for p in plans) / len(plans)
    plan["Planning Time"] = sum(p["Planning Time"] for p in plans) / len(plans)
    where = f"--targets {a.targets} --n {a.n}" if a.targets else f"--lat {a.lat} --lon {a.lon}"
    per: dict[str, list] = {}
    for p in plans:
        found: list[tuple[float, str, list[str], int]] = []
        _sections(p["Plan"], found)
        for ms, name, rels, hits in found:
            e = per.setdefault(name, [0.0, name, rels, 0])
            e[0] += ms / len(plans)
            e[3] += hits // len(plans)
    rows = [tuple(v) for v in per.values()]
    lines = [
        "# Where the report's statement spends its time",
        "",
        f"Run: {datetime.now(UTC).isoformat(timespec='seconds')}, `.venv/bin/python bench/report_profile.py "
        f"{where}`, prepared with its generic plan (as the service runs it), warm (3 runs first), "
        f"mean of {len(plans)} point(s) under EXPLAIN (ANALYZE, BUFFERS) (instrumented: slower than unobserved).",
        f"Execution {plan['Execution Time']:.2f} ms, planning {plan['Planning Time']:.2f} ms (mean).",
        "",
        "| section (InitPlan) | ms | shared hits | reads |",
        "|---|---:|---:|---|",
    ]
    for ms, name, rels, hits in sorted(rows, reverse=True):
        lines.append(f"| {name} | {ms:.2f} | {hits} | {', '.join(rels)} |")
    out = REPO / "bench" / a.out
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
