"""市区町村界 (N03 administrative boundaries)."""

import pandas as pd

from layers.base import Col, Layer, Lookup, define_table


def lg_code(code: str) -> str:
    """The 6-digit 全国地方公共団体コード: the 5-digit code and its JIS X 0402 check digit."""
    # 11 minus the weighted sum's remainder, last digit only: remainder 0 gives 1, remainder 1 gives 0.
    remainder = sum(int(d) * w for d, w in zip(code, (6, 5, 4, 3, 2), strict=True)) % 11
    return code + str((11 - remainder) % 10)


def _fill_codes(frame: pd.DataFrame, report: list[str]) -> pd.DataFrame:
    """Add the 6-digit lg_code (with check digit) and the prefecture."""
    frame = frame.copy()
    frame["lg_code"] = frame["city_code"].map(lg_code)
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
    lookup=Lookup(
        "containing",
        "municipality",
        role="municipality",
        key="municipalities",
        columns=("city_code", "name", "lg_code"),
    ),
)
define_table(LAYER)
