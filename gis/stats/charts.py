"""Charts of the statistics as SVG, drawn on the server with matplotlib (no JavaScript library, no CDN).

Text stays text in the SVG (`svg.fonttype: none`): the staff's browser draws the Japanese labels with its own fonts,
so the server needs no CJK font (one is used for measuring when installed). One chart at a time: matplotlib's
settings are process-wide, and a staff page never needs more.
"""

from __future__ import annotations

import io
import threading
import warnings
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("svg")  # no GUI backend, ever

from matplotlib import font_manager  # noqa: E402
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

CHARTS = {
    "daily": "1日あたりのリクエスト数",
    "api": "API系統別のリクエスト数（応答区分）",
    "layers": "よく使われたレイヤ",
    "pages": "よく見られたページ",
    "towns": "大字別の住所照会・住所検索",
}
TOP = {"layers": 15, "pages": 15, "towns": 30}
_PREFERRED = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "VL Gothic", "DejaVu Sans")
_installed = {f.name for f in font_manager.fontManager.ttflist}
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "gis-stats",  # the same data gives the same bytes
    "font.family": [f for f in _PREFERRED if f in _installed] or ["sans-serif"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS = {"api": "#0b4f6c", "layer": "#1f78b4", "page": "#33a02c", "town": "#e31a1c", "geocode": "#ff7f00"}
CLASS_COLORS = {"2xx": "#33a02c", "3xx": "#a6cee3", "4xx": "#ff7f00", "5xx": "#e31a1c", "aborted": "#999999"}
KIND_NAMES = {"api": "合計", "layer": "レイヤ", "page": "ページ", "town": "住所照会", "geocode": "住所検索"}
_lock = threading.Lock()
# Without a CJK font the labels are measured with a Latin one: the widths are rough, the browser still draws them.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")


def _empty(ax: Any) -> None:
    ax.text(0.5, 0.5, "この期間のデータはありません", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _daily(fig: Figure, s: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    days = [date.fromisoformat(d["day"]) for d in s["days"]]
    if not any(d["by_kind"] for d in s["days"]):
        _empty(ax)
        return
    for kind, name in KIND_NAMES.items():
        values = [d["by_kind"].get(kind, 0) for d in s["days"]]
        if any(values):
            width = 2.2 if kind == "api" else 1.2
            ax.plot(days, values, label=name, color=COLORS[kind], linewidth=width, marker="o", markersize=2.5)
    ax.set_ylabel("件数")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=5, fontsize=9, frameon=False)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _bars(fig: Figure, items: list[dict[str, Any]], color: str, top: int) -> None:
    ax = fig.add_subplot()
    items = items[:top]
    if not items:
        _empty(ax)
        return
    names = [i["label"] if i["label"] == i["key"] else f"{i['label']}（{i['key']}）" for i in items][::-1]
    ax.barh(names, [i["count"] for i in items][::-1], color=color)
    ax.set_xlabel("件数")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)


def _api(fig: Figure, s: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    per: dict[str, dict[str, int]] = {}
    for item in s["totals"].get("api", []):
        fam, _, cls = item["key"].partition(":")
        per.setdefault(fam, {})[cls] = item["count"]
    if not per:
        _empty(ax)
        return
    families = sorted(per, key=lambda f: sum(per[f].values()))
    left = [0] * len(families)
    for cls, color in CLASS_COLORS.items():
        values = [per[f].get(cls, 0) for f in families]
        if any(values):
            ax.barh(families, values, left=left, color=color, label=cls)
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("件数")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=5, fontsize=9, frameon=False)


def _towns(fig: Figure, s: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    looked = {i["key"]: i for i in s["totals"].get("town", [])}
    searched = {i["key"]: i for i in s["totals"].get("geocode", [])}
    keys = sorted(
        set(looked) | set(searched),
        key=lambda k: -(looked.get(k, {}).get("count", 0) + searched.get(k, {}).get("count", 0)),
    )
    keys = keys[: TOP["towns"]][::-1]
    if not keys:
        _empty(ax)
        return
    names = [(looked.get(k) or searched[k])["label"] for k in keys]
    a = [looked.get(k, {}).get("count", 0) for k in keys]
    b = [searched.get(k, {}).get("count", 0) for k in keys]
    ax.barh(names, a, color=COLORS["town"], label="住所照会（/lookup）")
    ax.barh(names, b, left=a, color=COLORS["geocode"], label="住所検索（/geocode）")
    ax.set_xlabel("件数")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=5, fontsize=9, frameon=False)


def render(name: str, s: dict[str, Any]) -> bytes:
    """One chart of a summary (gis.stats.read.summary) as SVG bytes; `name` is a key of CHARTS."""
    rows = {"layers": len(s["totals"].get("layer", [])), "pages": len(s["totals"].get("page", []))}
    rows["towns"] = len({i["key"] for k in ("town", "geocode") for i in s["totals"].get(k, [])})
    rows["api"] = len({i["key"].partition(":")[0] for i in s["totals"].get("api", [])})
    height = 3.8 if name == "daily" else 1.5 + 0.28 * min(max(rows.get(name, 1), 3), TOP.get(name, 40))
    with _lock, matplotlib.rc_context(RC):
        fig = Figure(figsize=(9, height), layout="constrained")
        if name == "daily":
            _daily(fig, s)
        elif name == "api":
            _api(fig, s)
        elif name == "towns":
            _towns(fig, s)
        else:
            kind = "layer" if name == "layers" else "page"
            _bars(fig, s["totals"].get(kind, []), COLORS[kind], TOP[name])
        fig.suptitle(f"{CHARTS[name]}（{s['from']} 〜 {s['to']}、日本時間）", fontsize=11)
        out = io.BytesIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
