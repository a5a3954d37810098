"""用途地域 names: normalising the spellings and the A29 codes, and the zoning import clean-up."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

# A29 用途地域分類 codes (DOMAIN.md §3): key on the name, never on a source's code.
YOUTO_CODES: dict[str, int] = {
    "第1種低層住居専用地域": 1,
    "第2種低層住居専用地域": 2,
    "第1種中高層住居専用地域": 3,
    "第2種中高層住居専用地域": 4,
    "第1種住居地域": 5,
    "第2種住居地域": 6,
    "準住居地域": 7,
    "近隣商業地域": 8,
    "商業地域": 9,
    "準工業地域": 10,
    "工業地域": 11,
    "工業専用地域": 12,
    "田園住居地域": 21,
}

_KANJI_ORD = {"一": "1", "二": "2", "１": "1", "２": "2"}


def normalize_youto(name: object) -> str | None:
    """Canonical 用途地域 name: 第１種/第一種 → 第1種, spaces dropped; None for blanks."""
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return None
    s = unicodedata.normalize("NFKC", str(name)).strip().replace(" ", "").replace("　", "")
    if not s:
        return None
    s = re.sub(r"第([一二12１２])種", lambda m: f"第{_KANJI_ORD.get(m.group(1), m.group(1))}種", s)
    # Short forms seen in A29 and city tables.
    short = {
        "1低専": "第1種低層住居専用地域",
        "2低専": "第2種低層住居専用地域",
        "1中専": "第1種中高層住居専用地域",
        "2中専": "第2種中高層住居専用地域",
        "1住居": "第1種住居地域",
        "2住居": "第2種住居地域",
        "準住居": "準住居地域",
        "近商": "近隣商業地域",
        "商業": "商業地域",
        "準工": "準工業地域",
        "工業": "工業地域",
        "工専": "工業専用地域",
        "田園住居": "田園住居地域",
    }
    return short.get(s, s)


def clean_zoning(frame: pd.DataFrame, report: list[str]) -> pd.DataFrame:
    """Normalise names, derive codes, and swap 建ぺい率/容積率 where a source swapped them."""
    frame = frame.copy()
    frame["youto_name"] = frame["youto_name"].map(normalize_youto)
    unknown = sorted({n for n in frame["youto_name"].dropna() if n not in YOUTO_CODES})
    if unknown:
        report.append(f"用途地域名が標準の13種にない: {', '.join(unknown)}（コードは空欄）")
    frame["youto_code"] = frame["youto_name"].map(YOUTO_CODES).astype("Int64")
    if "kenpei" in frame and "yoseki" in frame:
        both = frame["kenpei"].notna() & frame["yoseki"].notna()
        # 建ぺい率 cannot exceed 100 % and 容積率 is never under 50 %: such rows had the columns swapped.
        swap = both & (frame["kenpei"] > frame["yoseki"]) & ((frame["kenpei"] > 100) | (frame["yoseki"] < 50))
        if swap.any():
            frame.loc[swap, ["kenpei", "yoseki"]] = frame.loc[swap, ["yoseki", "kenpei"]].to_numpy().copy()
            report.append(f"建ぺい率 > 容積率 の {int(swap.sum())} 件を入れ替えた（元データの列の取り違え）")
        odd = both & ~swap & (frame["kenpei"] > frame["yoseki"])
        if odd.any():
            # 60 % / 50 % is a legal 第1種低層 combination: report, do not change.
            report.append(f"建ぺい率 > 容積率 の {int(odd.sum())} 件（値は有効な範囲のため変更せず、要確認）")
    return frame
