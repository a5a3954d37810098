"""大字・町 representative points: the address reference."""

import pandas as pd

from layers.base import Col, Layer, Lookup, define_table


def _level(frame: pd.DataFrame, report: list[str]) -> pd.DataFrame:
    """Representative points of 大字/町 are machiaza level unless the file says otherwise."""
    frame = frame.copy()
    frame["level"] = frame["level"].fillna("machiaza")
    return frame


LAYER = Layer(
    id="towns",
    title="大字・町（住所参照点）",
    description="大字・町の代表点（位置参照情報ベース）。地番の位置ではないため、精度は大字レベル。",
    geom_type="POINT",
    label="name",
    columns=(
        Col("name", title="大字・町名", required=True, aliases=("oaza_cho",)),
        Col("koaza", title="小字"),
        Col("postal_code", title="郵便番号"),
        Col("level", title="精度（machiaza 等）"),
    ),
    clean=_level,
    style={"color": "#6a3d9a", "radius": 3},
    min_zoom=10,
    cache_seconds=86400,
    lookup=Lookup(
        "nearest",
        "town",
        key="nearest",
        count=2,
        extra={"approximate": True, "message": "大字・町の代表点までの距離（おおよその位置）"},
    ),
)
define_table(LAYER)
