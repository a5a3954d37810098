"""Sample 分別 dictionary for both cities: common household items, their category per city, notices, fees and
names in English, Chinese, Korean and Vietnamese for some (so item search can be tried in those languages).

The categories each item goes to are invented (plausible, not the cities' real rules); the item names themselves
are ordinary words and carry no 「（サンプル）」 prefix, so search by name, kana and romaji works on them; every row
is flagged sample and its 備考 says so.
"""

from __future__ import annotations

from gis.garbage.cities import city_name, lg_code
from gis.garbage.standard import COLUMNS, NAME_COLUMNS
from gis.sample.common import IMARI, TAKEO

# Category keys → the category of each city (N: not collected by the city).
KEYS = {
    IMARI: {
        "B": "もえるごみ",
        "K": "空き缶・金属類・ガラス類・陶磁器・複合素材",
        "V": "ビン類",
        "P": "ペットボトル",
        "T": "発泡スチロール製トレイ",
        "S": "粗大ごみ",
        "R": "収集しないもの",
        "N": "収集しないもの",
    },
    TAKEO: {
        "B": "燃えるごみ",
        "K": "燃えないごみ",
        "V": "資源物",
        "P": "ペットボトル",
        "T": "燃えるごみ",
        "S": "粗大ごみ",
        "R": "資源物",
        "N": "収集しないもの",
    },
}
NOT_COLLECTED = "収集しないもの"
STICKER = ("有料", "500", "粗大ごみ処理券（シール）を貼り、事前に申し込む")
NOTE = "サンプルデータ（実際の分別は市の案内で確認してください）"
LANGS = tuple(NAME_COLUMNS)  # en, zh, ko, vi

# name, Imari key, Takeo key, notice, (en, zh, ko, vi) or None, fee or None
Row = tuple[str, str, str, str, tuple[str, str, str, str] | None, tuple[str, str, str] | None]
ITEMS: list[Row] = [
    ("生ごみ", "B", "B", "水をよく切ってから出してください。",
     ("Food waste", "厨余垃圾", "음식물 쓰레기", "Rác thực phẩm"), None),
    ("紙くず", "B", "B", "", None, None),
    ("木くず", "B", "B", "長さ50cm以内に切って指定袋に入れてください。", None, None),
    ("草・木の枝", "B", "B", "長さ50cm以内に切り、ひもで束ねてください。",
     ("Grass and branches", "草和树枝", "풀·나뭇가지", "Cỏ và cành cây"), None),
    ("プラスチック製品", "B", "B", "", ("Plastic products", "塑料制品", "플라스틱 제품", "Đồ nhựa"), None),
    ("ペットボトルのキャップ", "B", "B", "ペットボトル本体とは分けて出してください。", None, None),
    ("衣類", "B", "R", "汚れたものは燃やせるごみへ。",
     ("Clothes", "衣物", "의류", "Quần áo"), None),
    ("使い捨てカイロ", "B", "B", "", None, None),
    ("食用油", "B", "B", "紙や布にしみこませるか、固めて出してください。",
     ("Cooking oil", "食用油", "식용유", "Dầu ăn"), None),
    ("発泡スチロール", "B", "B", "梱包材は小さく割って指定袋に入れてください。",
     ("Styrofoam", "泡沫塑料", "스티로폼", "Xốp"), None),
    ("食品トレイ", "T", "T", "汚れを洗い流してから出してください。",
     ("Food tray", "食品托盘", "식품 트레이", "Khay đựng thực phẩm"), None),
    ("ペットボトル", "P", "P", "キャップとラベルを外し、中をすすいでつぶしてください。",
     ("PET bottle", "塑料瓶", "페트병", "Chai nhựa"), None),
    ("空き缶", "K", "V", "中をすすいでください。", ("Empty can", "空罐", "빈 캔", "Lon rỗng"), None),
    ("スプレー缶", "K", "K", "中身を使い切ってから出してください。",
     ("Spray can", "喷雾罐", "스프레이 캔", "Bình xịt"), None),
    ("乾電池", "K", "K", "端子にテープを貼って透明な袋に入れてください。",
     ("Dry-cell battery", "干电池", "건전지", "Pin khô"), None),
    ("蛍光管", "K", "K", "割れないよう購入時のケースに入れてください。",
     ("Fluorescent tube", "荧光灯管", "형광등", "Bóng đèn huỳnh quang"), None),
    ("傘", "K", "K", "", ("Umbrella", "雨伞", "우산", "Ô"), None),
    ("ライター", "K", "K", "ガスを使い切ってから出してください。", ("Lighter", "打火机", "라이터", "Bật lửa"), None),
    ("鍋・フライパン", "K", "K", "", ("Pots and pans", "锅", "냄비·프라이팬", "Nồi chảo"), None),
    ("茶わん・皿", "K", "K", "", ("Dishes", "碗碟", "그릇·접시", "Bát đĩa"), None),
    ("割れたガラス", "K", "K", "厚紙で包み「キケン」と書いてください。", None, None),
    ("体温計", "K", "K", "水銀体温計は透明な袋に入れてください。", None, None),
    ("空き瓶", "V", "V", "キャップを外し、中をすすいでください。",
     ("Empty glass bottle", "空玻璃瓶", "빈 병", "Chai thủy tinh"), None),
    ("化粧品のびん", "V", "K", "中身を使い切ってから出してください。", None, None),
    ("新聞紙", "R", "R", "地域の資源回収や古紙回収ボックスへ。",
     ("Newspaper", "报纸", "신문지", "Báo giấy"), None),
    ("段ボール", "R", "R", "たたんでひもで束ねてください。", ("Cardboard", "纸箱", "골판지", "Bìa các-tông"), None),
    ("雑誌", "R", "R", "ひもで十文字に束ねてください。", None, None),
    ("布団", "S", "S", "指定袋に入らないものは粗大ごみです。",
     ("Futon (bedding)", "被褥", "이불", "Chăn nệm"), STICKER),
    ("自転車", "S", "S", "", ("Bicycle", "自行车", "자전거", "Xe đạp"), STICKER),
    ("電子レンジ", "S", "S", "", ("Microwave oven", "微波炉", "전자레인지", "Lò vi sóng"), STICKER),
    ("テレビ", "N", "N", "家電リサイクル法の対象です。購入した販売店に引き取りを依頼してください。",
     ("Television", "电视机", "텔레비전", "Ti vi"), None),
    ("冷蔵庫", "N", "N", "家電リサイクル法の対象です。購入した販売店に引き取りを依頼してください。",
     ("Refrigerator", "冰箱", "냉장고", "Tủ lạnh"), None),
    ("パソコン", "N", "N", "メーカーの回収を利用してください。", ("Computer", "电脑", "컴퓨터", "Máy tính"), None),
    ("タイヤ", "N", "N", "販売店に相談してください。", None, None),
    ("消火器", "N", "N", "専門の回収窓口に相談してください。", None, None),
]  # fmt: skip


def item_rows() -> tuple[list[str], list[list[str]]]:
    """Header and rows of garbage_items_sample.csv: the standard columns, item names per language, sample."""
    header = COLUMNS + list(NAME_COLUMNS.values()) + ["sample"]
    rows = []
    for city in (IMARI, TAKEO):
        name = "佐賀県" + city_name(city)
        for n, (item, ki, kt, notice, names, fee) in enumerate(ITEMS, start=1):
            category = KEYS[city][ki if city == IMARI else kt]
            fee_type, fee_yen, fee_note = fee or ("", "", "")
            langs = list(names) if names else ["", "", "", ""]
            rows.append(
                [lg_code(city), str(n), name, item, category, notice, fee_type, fee_yen, fee_note, NOTE, *langs, "true"]
            )
    return header, rows


__all__ = ["ITEMS", "KEYS", "NOT_COLLECTED", "item_rows"]
