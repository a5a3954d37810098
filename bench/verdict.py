#!/usr/bin/env python3
"""Verdict lines for the goals of issue 16 ("Speed, round 2") from harness run directories (stdlib only).

    python bench/verdict.py RUN_DIR [--other RUN_DIR] [--scale 1|10] [--other-scale 1|10] [--markdown]
    python bench/verdict.py speed --run-1x DIR --run-10x DIR --report-1x FILE --report-10x FILE --out FILE
                                  [--cmdline TEXT] [--timings TEXT]

RUN_DIR is a run of the shared harness (bench/.work/shared-bench/out/runs/<UTC time>/ with results.jsonl,
checks.jsonl and meta.json). --other is a run of the other data size: with both, the growth goals (p50 at 10x ÷ p50
at 1x) are judged too. The data size of a run is read from its meta.json (farmland rows: 200,000 = 1x,
2,000,000 = 10x) unless --scale / --other-scale say it.

One line per goal: `PASS|FAIL|SKIP goal: measured figure (threshold) [detail]`, e.g.
`PASS W1 uncached vs raw: 0.18x (>= 0.15x) at 1x; 0.17x at 10x`. A goal holds when it holds at every size measured;
a cell whose sampled responses failed the harness check counts as failed. A goal whose systems are not in the run is
SKIP. `speed` writes bench/results-speed.md (bench/run.sh speed): the verdict, one side-by-side table per workload
with both sizes, then the two per-size reports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

# The goals (issue 16). "uncached" = gis-nocache for W1-W3 and gis-tiles-nocache for the tiles; the report is the
# gis-lookup system's W1 (GET /lookup at the W1 points).
# (label, metric, (system, workload), (baseline system, workload), op, threshold)
RATIO_GOALS = [
    ("W1 uncached vs raw", "rps", ("gis-nocache", "W1"), ("raw", "W1"), ">=", 0.15),
    ("W2 uncached vs raw", "rps", ("gis-nocache", "W2"), ("raw", "W2"), ">=", 0.5),
    ("W3 uncached vs raw", "rps", ("gis-nocache", "W3"), ("raw", "W3"), ">=", 0.6),
    ("report vs tipg", "rps", ("gis-lookup", "W1"), ("tipg", "W1"), ">=", 4.0),
    ("W2 body vs raw", "bytes", ("gis-nocache", "W2"), ("raw", "W2"), "<=", 1.2),
    ("W3 body vs raw", "bytes", ("gis-nocache", "W3"), ("raw", "W3"), "<=", 1.2),
    ("W4a tiles uncached vs raw", "rps", ("gis-tiles-nocache", "W4a"), ("raw", "W4a"), ">=", 0.9),
    ("W4b tiles uncached vs raw", "rps", ("gis-tiles-nocache", "W4b"), ("raw", "W4b"), ">=", 0.9),
]
# (label, system, workload): p50 at 10x ÷ p50 at 1x <= GROWTH_MAX; raw's and tipg's growth shown for context
GROWTH_MAX = 1.3
GROWTH_GOALS = [
    ("W1 growth", "gis-nocache", "W1"),
    ("W2 growth", "gis-nocache", "W2"),
    ("W3 growth", "gis-nocache", "W3"),
    ("W4a growth", "gis-tiles-nocache", "W4a"),
    ("W4b growth", "gis-tiles-nocache", "W4b"),
    ("report growth", "gis-lookup", "W1"),
]
GROWTH_CONTEXT = ("raw", "tipg")
ORDER = ["W1", "W2", "W3", "W4a", "W4b"]


# ----------------------------------------------------------------------------- runs


class Run:
    def __init__(self, path: str, scale: int | None = None):
        self.path = os.path.abspath(path)
        self.stamp = os.path.basename(self.path.rstrip("/"))
        res = os.path.join(self.path, "results.jsonl")
        if not os.path.exists(res):
            sys.exit(f"verdict: no results.jsonl in {path}")
        self.cells: dict[tuple[str, str], dict] = {}
        self.variants: dict[tuple[str, str], list[dict]] = {}
        for r in _jsonl(res):
            key = (r.get("system"), r.get("workload"))
            if r.get("variant"):
                self.variants.setdefault(key, []).append(r)
            else:
                self.cells[key] = r
        self.checks = {(c.get("system"), c.get("workload")): c for c in _jsonl(os.path.join(self.path, "checks.jsonl"))}
        mp = os.path.join(self.path, "meta.json")
        self.meta = {}
        if os.path.exists(mp):
            with open(mp, encoding="utf-8") as f:
                self.meta = json.load(f)
        self.systems = self.meta.get("systems") or list(dict.fromkeys(s for s, _ in self.cells))
        self.workloads = self.meta.get("workloads") or [w for w in ORDER if any(k[1] == w for k in self.cells)]
        self.scale = scale or self._scale_from_meta()
        if self.scale is None:
            sys.exit(f"verdict: cannot tell the data size of {path} (no meta.json): pass --scale / --other-scale")

    def _scale_from_meta(self) -> int | None:
        rows = {d.get("table"): d.get("rows") for d in self.meta.get("data", [])}
        if rows.get("farmland") is None:
            return None
        return 10 if rows["farmland"] >= 1_000_000 else 1

    @property
    def label(self) -> str:
        return f"{self.scale}x"

    def describe(self) -> str:
        m = self.meta
        bits = [f"{self.label} = run {self.stamp}"]
        if m:
            bits.append(f"{m.get('duration_s')} s cells, {m.get('connections')} connections")
            bits.append("systems " + " ".join(m.get("systems", [])))
        return "; ".join(bits)

    def cell(self, system: str, workload: str) -> tuple[dict | None, str | None]:
        """The main measurement of a cell, or None and why not."""
        if system not in self.systems:
            return None, f"system {system} not in this run"
        if workload not in self.workloads:
            return None, f"workload {workload} not in this run"
        r = self.cells.get((system, workload))
        if r is None:
            return None, f"no result for {system} {workload}"
        if r.get("na"):
            return None, f"{system} {workload}: {r['na']}"
        return r, None


def _jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def done(r: dict) -> int:
    return r.get("requests", 0) - r.get("err_status", 0)


def few(r: dict, run: Run) -> bool:
    return r.get("requests", 0) < 2 * r.get("connections", run.meta.get("connections", 16))


def check_note(run: Run, system: str, workload: str) -> tuple[bool, str]:
    """(passed, note): the harness's sampled response check of a cell."""
    c = run.checks.get((system, workload))
    if c is None:
        return True, ""
    if c.get("ok", 0) < c.get("checked", 0):
        return False, f"check {c.get('ok')}/{c.get('checked')} failed"
    return True, ""


# ----------------------------------------------------------------------------- goals


def ratio_at(run: Run, goal) -> tuple[float | None, bool, str]:
    """(value, ok, note or reason) of one ratio goal in one run; value None = not measurable."""
    _label, metric, (s, w), (bs, bw), op, thr = goal
    r, why = run.cell(s, w)
    if r is None:
        return None, False, why
    b, why = run.cell(bs, bw)
    if b is None:
        return None, False, why
    notes = []
    if metric == "rps":
        if not r.get("rps") or not b.get("rps"):
            return None, False, f"no req/s for {s} or {bs} {w}"
        val = r["rps"] / b["rps"]
        if few(r, run):
            notes.append(f"{s}: fewer than 2 x connections requests ⚠")
    else:
        cs, cb = run.checks.get((s, w)), run.checks.get((bs, bw))
        if not cs or not cb or not cs.get("bytes_mean") or not cb.get("bytes_mean"):
            return None, False, f"no response sizes for {s} / {bs} {w}"
        val = cs["bytes_mean"] / cb["bytes_mean"]
        notes.append(f"{cs['bytes_mean'] / 1024:.1f} vs {cb['bytes_mean'] / 1024:.1f} KiB")
    ok = val >= thr if op == ">=" else val <= thr
    passed, cn = check_note(run, s, w)
    if not passed:
        ok = False
        notes.append(cn)
    if r.get("errors"):
        notes.append(f"{r['errors']} errors")
    return val, ok, "; ".join(notes)


def fx(v: float) -> str:
    if v < 0.1:
        return f"{v:.3f}x"
    return f"{v:.2f}x" if v < 10 else f"{v:.1f}x"


def fthr(v: float) -> str:
    return f"{v:g}x"


def ratio_line(goal, runs: list[Run]) -> str:
    label, _metric, _c, _b, op, thr = goal
    parts, oks, skips = [], [], []
    for run in runs:
        val, ok, note = ratio_at(run, goal)
        if val is None:
            skips.append((run, note))
            parts.append(f"n/a at {run.label} ({note})")
            continue
        fig = fx(val) + ("" if oks else f" ({op} {fthr(thr)})")  # the threshold after the first figure
        oks.append((run, ok))
        parts.append(f"{fig} at {run.label}" + (f" [{note}]" if note else ""))
    if not oks:
        return f"SKIP {label}: " + "; ".join(n for _r, n in skips)
    verdict = "PASS" if all(ok for _r, ok in oks) else "FAIL"
    tail = ""
    failed = [r.label for r, ok in oks if not ok]
    if failed and len(failed) < len(oks):
        tail = f" — fails at {', '.join(failed)}"
    return f"{verdict} {label}: " + "; ".join(parts) + tail


def p50(run: Run, system: str, workload: str) -> tuple[float | None, str | None]:
    r, why = run.cell(system, workload)
    if r is None:
        return None, why
    if done(r) <= 0 or not r.get("p50_us"):
        return None, f"{system} {workload}: no successful requests"
    return r["p50_us"], None


def growth_line(goal, r1: Run | None, r10: Run | None, why_missing: str) -> str:
    label, s, w = goal
    if r1 is None or r10 is None:
        return f"SKIP {label} ({s} p50 10x ÷ 1x): {why_missing}"
    a, why1 = p50(r1, s, w)
    b, why10 = p50(r10, s, w)
    if a is None or b is None:
        return f"SKIP {label} ({s} p50 10x ÷ 1x): " + "; ".join(
            f"{x} at {lab}" for x, lab in ((why1, "1x"), (why10, "10x")) if x
        )
    g = b / a
    ok = g <= GROWTH_MAX
    notes = [f"{a / 1000:.1f} → {b / 1000:.1f} ms"]
    for run in (r1, r10):
        passed, cn = check_note(run, s, w)
        if not passed:
            ok = False
            notes.append(f"{cn} at {run.label}")
    ctx = []
    for cs in GROWTH_CONTEXT:
        ca, _ = p50(r1, cs, w)
        cb, _ = p50(r10, cs, w)
        ctx.append(f"{cs} {fx(cb / ca)}" if ca and cb else f"{cs} n/a")
    return (
        f"{'PASS' if ok else 'FAIL'} {label} ({s} p50 10x ÷ 1x): {fx(g)} (<= {fthr(GROWTH_MAX)}) "
        f"[{'; '.join(notes)}]; context: {', '.join(ctx)}"
    )


def verdict_lines(run: Run, other: Run | None) -> tuple[list[str], list[str]]:
    """(header lines, verdict lines)."""
    notes = []
    why_missing = f"no run of the other data size (only {run.label} run {run.stamp})"
    if other is not None and other.scale == run.scale:
        notes.append(f"NOTE {other.stamp} is also a {run.label} run: left out (growth needs one run of each size)")
        why_missing = f"both runs are {run.label}"
        other = None
    runs = sorted([run] + ([other] if other else []), key=lambda r: r.scale)
    head = ["Runs: " + " | ".join(r.describe() for r in runs)] + notes
    r1 = next((r for r in runs if r.scale == 1), None)
    r10 = next((r for r in runs if r.scale == 10), None)
    if r1 and r10 and r1.meta and r10.meta:
        for k, name in (("duration_s", "cell duration"), ("connections", "connections"), ("targets_n", "targets")):
            if r1.meta.get(k) != r10.meta.get(k):
                head.append(f"NOTE the runs differ in {name}: {r1.meta.get(k)} at 1x, {r10.meta.get(k)} at 10x")
    lines = [ratio_line(g, runs) for g in RATIO_GOALS]
    lines += [growth_line(g, r1, r10, why_missing) for g in GROWTH_GOALS]
    return head, lines


def markdown_section(head: list[str], lines: list[str], level: str = "##") -> str:
    L = [f"{level} Verdict", ""]
    L.append(
        "Goals of issue 16, from `results.jsonl` / `checks.jsonl` of the runs named below (`bench/verdict.py`): "
        "ratios are req/s ÷ req/s in the same run (uncached = `gis-nocache` for W1-W3, `gis-tiles-nocache` for "
        "W4a/W4b; report = `gis-lookup` W1), bodies = mean response size of the sampled check, "
        "growth = p50 at 10x ÷ p50 at 1x."
    )
    L += ["", "```"] + head + lines + ["```", ""]
    return "\n".join(L)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "speed":
        ap = argparse.ArgumentParser(
            prog="verdict.py speed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        ap.add_argument("--run-1x", required=True)
        ap.add_argument("--run-10x", required=True)
        ap.add_argument("--report-1x", required=True)
        ap.add_argument("--report-10x", required=True)
        ap.add_argument("--out", required=True)
        ap.add_argument("--cmdline", default="")
        ap.add_argument("--timings", default="")
        from speed_report import cmd_speed  # the report writer reads this module's runs and goals

        cmd_speed(ap.parse_args(sys.argv[2:]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="harness run directory")
    ap.add_argument("--other", help="a run directory of the other data size (for the growth goals)")
    ap.add_argument("--scale", type=int, choices=(1, 10))
    ap.add_argument("--other-scale", type=int, choices=(1, 10))
    ap.add_argument("--markdown", action="store_true", help="a `## Verdict` section instead of plain lines")
    a = ap.parse_args()
    run = Run(a.run, a.scale)
    other = Run(a.other, a.other_scale) if a.other else None
    head, lines = verdict_lines(run, other)
    print(markdown_section(head, lines) if a.markdown else "\n".join(head + lines))


if __name__ == "__main__":
    main()
