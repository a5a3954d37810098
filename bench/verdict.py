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


# ----------------------------------------------------------------------------- speed report


def fmt_ms(us):
    if us is None:
        return "–"
    ms = us / 1000.0
    return f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"


def fmt_rps(v):
    if v is None:
        return "–"
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def cell_figures(run: Run | None, system: str, workload: str, r: dict | None) -> dict:
    """Display strings of one cell (r = the measurement, main or variant)."""
    out = dict.fromkeys(("rps", "ratio", "p50", "p99", "size", "cpu"), "–")
    out["p50_us"] = out["na"] = None
    if run is None:
        return out
    if r is None:
        r, why = run.cell(system, workload)
        if r is None:
            out["na"] = why
            if (system, workload) in run.cells:
                out["rps"] = "n/a"
            return out
    n_ok = done(r)
    out["rps"] = fmt_rps(r.get("rps")) + (" ⚠" if few(r, run) else "")
    raw = run.cells.get(("raw", workload))
    if system == "raw":
        out["ratio"] = "1"
    elif raw and raw.get("rps") and r.get("rps") is not None:
        out["ratio"] = fx(r["rps"] / raw["rps"])
    if n_ok > 0:
        out["p50"], out["p99"] = fmt_ms(r.get("p50_us")), fmt_ms(r.get("p99_us"))
        out["p50_us"] = r.get("p50_us")
        if r.get("cpu_total_s") is not None:
            srv, db = r.get("cpu_server_s"), r.get("cpu_db_s")
            out["cpu"] = " · ".join("–" if x is None else f"{x * 1000 / n_ok:.2f}" for x in (srv, db))
    c = run.checks.get((system, workload))
    if c and c.get("bytes_mean"):
        out["size"] = f"{c['bytes_mean'] / 1024:.1f} KiB"
        if c.get("ok", 0) < c.get("checked", 0):
            out["size"] += f" (check {c['ok']}/{c['checked']} ⚠)"
    return out


def side_by_side(r1: Run, r10: Run) -> list[str]:
    L = []
    systems = list(dict.fromkeys(r1.systems + r10.systems))
    workloads = [w for w in ORDER if w in r1.workloads or w in r10.workloads]
    L.append(
        "req/s = successful responses (wrk) or transactions (pgbench) per second; vs raw = req/s ÷ raw SQL's req/s "
        "at the same size; p50/p99 in ms; growth = p50 at 10x ÷ p50 at 1x; avg resp = mean body of the sampled "
        "check; CPU ms/req = the server's own processes · everything else busy (PostgreSQL in practice); for raw the "
        "first figure is – and db is PostgreSQL alone. ⚠ = fewer than 2 × connections requests completed in the "
        "window (see the harness notes below); rows marked (-cN) are the harness's extra run of such a cell."
    )
    L.append("")
    for w in workloads:
        L += [f"### {w}", ""]
        L.append(
            "| System | req/s 1x | req/s 10x | vs raw 1x | vs raw 10x | p50 1x | p50 10x | growth | p99 1x | p99 10x "
            "| avg resp 1x | avg resp 10x | CPU ms/req 1x | CPU ms/req 10x |"
        )
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for s in systems:
            rows = [(s, None, None)]
            labels = {f"-c{v.get('connections')}" for run in (r1, r10) for v in run.variants.get((s, w), [])}
            for lab in sorted(labels):
                v1 = next((v for v in r1.variants.get((s, w), []) if f"-c{v.get('connections')}" == lab), None)
                v10 = next((v for v in r10.variants.get((s, w), []) if f"-c{v.get('connections')}" == lab), None)
                rows.append((f"{s} ({lab})", v1 or {}, v10 or {}))
            for label, v1, v10 in rows:
                if v1 is None:
                    a, b = cell_figures(r1, s, w, None), cell_figures(r10, s, w, None)
                else:
                    a = cell_figures(r1, s, w, v1) if v1 else cell_figures(None, s, w, None)
                    b = cell_figures(r10, s, w, v10) if v10 else cell_figures(None, s, w, None)
                if all(x["rps"] == "–" or (x["na"] or "").endswith("not supported") for x in (a, b)):
                    continue  # not measured at either size, or the system has no URL for this workload
                for x in (a, b):  # why not measured, e.g. "failed to start"
                    if x["rps"] == "n/a" and x["na"]:
                        x["rps"] += f" ({x['na'].split(': ', 1)[-1]})"
                g = fx(b["p50_us"] / a["p50_us"]) if a["p50_us"] and b["p50_us"] else "–"
                L.append(
                    f"| {label} | {a['rps']} | {b['rps']} | {a['ratio']} | {b['ratio']} | {a['p50']} | {b['p50']} "
                    f"| {g} | {a['p99']} | {b['p99']} | {a['size']} | {b['size']} | {a['cpu']} | {b['cpu']} |"
                )
        L.append("")
    return L


def demote(text: str, by: int = 2) -> list[str]:
    """Markdown headings one or more levels down (outside code fences); drops a `## Verdict` section."""
    out, fence, skip = [], False, False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("#"):
            skip = line.strip() == "## Verdict"
            if skip:
                continue
            line = "#" * by + line
        if not skip:
            out.append(line)
    return out


def cmd_speed(a) -> None:
    r1, r10 = Run(a.run_1x, 1), Run(a.run_10x, 10)
    head, lines = verdict_lines(r1, r10)
    L = ["# Speed, round 2 (issue 16): the same workloads at 1x and 10x data", ""]
    L.append(
        "Produced by `bench/run.sh speed`: one `bench/run.sh` run per data size on its own throwaway cluster (1x: "
        "zoning 20,000, farmland 200,000; 10x: the same plus nine translated copies, zoning 200,000, farmland "
        "2,000,000; see bench/README.md), the other cluster stopped meanwhile. Same seeded targets at both sizes. "
        "Ratios are only meaningful within one run; growth compares the two runs."
    )
    L.append("")
    if a.cmdline:
        L += ["```sh", a.cmdline, "```", ""]
    L.append(markdown_section(head, lines))
    if a.timings:
        L += ["Wall time per step:", "", "```", a.timings.rstrip("\n"), "```", ""]
    L += ["## Side by side", ""]
    L += side_by_side(r1, r10)
    for run, rep in ((r1, a.report_1x), (r10, a.report_10x)):
        L += [f"## {run.label} report (run {run.stamp})", ""]
        L.append(
            f"`bench/run.sh` header (how the data got into our service) and the harness report of the {run.label} run, "
            "headings two levels down."
        )
        L.append("")
        try:
            with open(rep, encoding="utf-8") as f:
                L += demote(f.read())
        except OSError as e:
            L.append(f"(report missing: {e})")
        L.append("")
    with open(a.out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(L).rstrip("\n") + "\n")
    os.replace(a.out + ".tmp", a.out)
    print("\n".join(head + lines))


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
