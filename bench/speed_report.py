#!/usr/bin/env python3
"""bench/results-speed.md from a 1x and a 10x harness run: the verdict, one side-by-side table per workload, and the two
per-size reports (`python bench/verdict.py speed ...`, run by `bench/run.sh speed`; stdlib only)."""

from __future__ import annotations

import os

from verdict import ORDER, Run, done, few, fx, markdown_section, verdict_lines


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
