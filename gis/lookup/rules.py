"""Fixed rules the report applies: 特定建設作業 limits, 特定工場等 limit ranges, 白地 defaults, fire strictness."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

# 騒音規制法/振動規制法 特定建設作業 (DOMAIN.md §4): national, the same in both cities.
CONSTRUCTION = {
    "1号": {
        "area": "第1号区域",
        "noise_db": 85,
        "vibration_db": 75,
        "no_work_hours": "19:00〜翌7:00",
        "max_hours_per_day": 10,
        "max_consecutive_days": 6,
        "sundays_holidays": "禁止",
    },
    "2号": {
        "area": "第2号区域",
        "noise_db": 85,
        "vibration_db": 75,
        "no_work_hours": "22:00〜翌6:00",
        "max_hours_per_day": 14,
        "max_consecutive_days": 6,
        "sundays_holidays": "禁止",
    },
}
CONSTRUCTION_NOTES = [
    "基準は敷地境界での値。作業がその日のうちに終わるものは対象外。災害等の緊急時は時間の制限の適用除外（音量の基準は適用）。",
    "届出: 元請業者が作業開始の7日前までに市へ届け出る（位置図・工程表・機械の仕様を添付）。複数の市にまたがる作業は各市へ届け出る。",
    "窓口: 各市の環境担当課（課名は要確認）。",
]
# 騒音規制法施行令 別表第2 and 振動規制法施行令 別表第2: the works that are 特定建設作業 (plain wording).
CONSTRUCTION_WORKS = [
    "騒音: くい打機・くい抜機を使う作業（もんけん・圧入式を除く）",
    "騒音: びょう打機を使う作業",
    "騒音: さく岩機を使う作業",
    "騒音: 空気圧縮機（電動機以外の原動機で15 kW以上）を使う作業",
    "騒音: コンクリートプラント・アスファルトプラントを設けて行う作業",
    "騒音: バックホウ（80 kW以上）・トラクターショベル（70 kW以上）・ブルドーザー（40 kW以上）を使う作業（低騒音型を除く）",
    "振動: くい打機・くい抜機を使う作業（もんけん・圧入式・油圧式くい抜機を除く）",
    "振動: 鋼球で建物などを壊す作業",
    "振動: 舗装版破砕機を使う作業",
    "振動: ブレーカー（手持式を除く）を使う作業",
]
CONSTRUCTION_FORM = "特定建設作業実施届出書（騒音規制法第14条・振動規制法第14条）"
CONSTRUCTION_OFFICE = "市の環境担当課（作業開始の7日前までに届出）"
CONSTRUCTION_REF = (
    "騒音規制法第14条・第15条, 振動規制法第14条・第15条; 特定建設作業に伴って発生する騒音の規制に関する基準"
)
# The 1号区域 includes 第4種 land within about 80 m of these sites (schools, 保育所, hospitals with beds, ...).
CLASS_1_ZONES = ("第1種", "第2種", "第3種")

# 白地 (用途無指定) in a planning area: the values are set by the 特定行政庁 from the ranges of the law. We hold no
# source for the values that apply in 伊万里市 or 武雄市, so the report cites the law and who sets them, never a number
# borrowed from another city.
SHIROJI = {
    "kenpei": None,
    "yoseki": None,
    "legal_ref": "建築基準法 第52条第1項第8号・第53条第1項第6号",
    "set_by": "特定行政庁（佐賀県または市）",
    "note": "用途地域の指定のない区域（白地）です。建ぺい率・容積率は、特定行政庁（佐賀県または市）が法律の範囲の中から"
    "定めた値になります。このサービスにはその値のデータがないため、市の建築担当課に確認してください。",
}
FIRE_STRICTNESS = {"防火地域": 2, "準防火地域": 1}
AREA_CLASSIFICATION = {"無し": "非線引き（区域区分なし）", "有り": "線引き"}


@cache
def regulation_limits(data_dir: Path) -> dict[tuple[str, str], list[dict]]:
    """(kind, 区域) → the 特定工場等 limit ranges per period, from data/rules/regulation_limits.csv."""
    out: dict[tuple[str, str], list[dict]] = {}
    previous: dict[str, str] = {}
    with (data_dir / "rules" / "regulation_limits.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            # 「同上」 repeats the row above, as in the printed tables.
            row = {k: previous.get(k, v) if v == "同上" else v for k, v in row.items()}
            previous = row
            out.setdefault((row["kind"], row["zone_class"]), []).append(
                {
                    "period": row["period"],
                    "limit_db": f"{row['limit_db_min']}〜{row['limit_db_max']} dB",
                    "legal_ref": row["legal_ref"],
                    "note": row["note"],
                }
            )
    return out
