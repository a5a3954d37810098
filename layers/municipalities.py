"""市区町村界 (N03 administrative boundaries)."""

import pandas as pd

from gis.cities import CITIES
from layers.base import Col, Layer, define_table


def _fill_codes(frame: pd.DataFrame, report: list[str]) -> pd.DataFrame:
    """Add the 6-digit lg_code (with check digit) and the prefecture."""
    frame = frame.copy()
    frame["lg_code"] = frame["city_code"].map(lambda c: CITIES[c].lg_code)
    frame["pref"] = frame["pref"].fillna("佐賀県")
    return frame


LAYER = Layer(
    id="municipalities",
    title="行政区域（市町界）",
    description="伊万里市・武雄市の行政区域（国土数値情報 N03）。島を含むマルチポリゴン。",
    geom_type="MULTIPOLYGON",
    label="name",
    columns=(
        Col("name", title="市区町村名", required=True, aliases=("N03_004",)),
        Col("pref", title="都道府県名", aliases=("N03_001",)),
        Col("lg_code", title="全国地方公共団体コード（6桁）"),
    ),
    clean=_fill_codes,
    style={"color": "#444444", "weight": 2, "fillOpacity": 0.0},
    cache_seconds=86400,
)
define_table(LAYER)
