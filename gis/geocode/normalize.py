"""Input validation and name-preserving text folding for Japanese addresses."""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 200

KANJI_DIGITS = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
KANJI_UNITS = {"十": 10, "拾": 10, "百": 100, "千": 1000, "万": 10000}
KANJI_NUMERALS = frozenset(KANJI_DIGITS) | frozenset(KANJI_UNITS)

# Dash look-alikes left after NFKC (NFKC already maps － ｰ ‑ to - ー ‐).
DASHES = "ー―‐‒–—−-"
IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"
# 地番 heads as in jageocoder's chiban_heads: 十干, 十二支, 続, 新 and いろは.
CHIBAN_HEADS = frozenset("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥続新" + IROHA)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# An unclosed bracket drops the rest of the string: it is a note, never part of the address.
_BRACKETS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?|「[^」]*」?|『[^』]*』?|【[^】]*】?|〔[^〕]*〕?")
_DROP = str.maketrans(dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff)]」』】〕"))
# ー after katakana is a long-vowel mark (センター2階), not a dash.
_DASH_NEAR_DIGIT = re.compile(rf"(?<=[0-9])[{DASHES}]|(?<![\u30a1-\u30fa])[{DASHES}](?=[0-9])")
_NO_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[のノ之](?=[0-9])")
# A space survives only after a 地番-like token, where it separates the 地番 from a building name.
_SPACE_DROP = re.compile(r"(?<![0-9〇一二三四五六七八九十百千番地号])\s+")
_SPACES = re.compile(r"\s+")
_POSTAL = re.compile(r"^(?:〒\s*)?[0-9]{3}-?[0-9]{4}(?![0-9])\s*|^〒\s*")

# One character in, one character out, so indexes of the folded key match the normalised text.
_VARIANTS = {
    "ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "の": "ノ", "之": "ノ",
    "澤": "沢", "濱": "浜", "邊": "辺", "邉": "辺", "嶋": "島", "嶌": "島", "峯": "峰", "髙": "高",
    "﨑": "崎", "嵜": "崎", "冨": "富", "瀨": "瀬", "條": "条", "德": "徳", "黑": "黒", "國": "国",
    "廣": "広", "櫻": "桜", "實": "実", "藏": "蔵", "眞": "真", "惠": "恵", "壽": "寿", "當": "当",
    "發": "発", "豐": "豊", "靜": "静", "與": "与", "驛": "駅", "團": "団", "塲": "場", "舘": "館",
    "桒": "桑", "槇": "槙", "淵": "渕", "渊": "渕", "籠": "篭", "鐵": "鉄", "彌": "弥", "畫": "画",
}  # fmt: skip
_FOLD = str.maketrans(_VARIANTS)


def validate(text: object) -> str:
    """Return the stripped input or raise ValueError for empty, over-long or control-character input."""
    if not isinstance(text, str):
        raise ValueError("address must be a string")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"address is longer than {MAX_LENGTH} characters ({len(text)})")
    stripped = text.strip()
    if not stripped:
        raise ValueError("address is empty")
    if _CONTROL.search(stripped):
        raise ValueError("address contains control characters")
    return stripped


def normalize(text: str) -> str:
    """Fold widths, brackets, spaces and dashes/の between digits; place names are left intact."""
    s = unicodedata.normalize("NFKC", text)
    s = _BRACKETS.sub("", s).translate(_DROP)
    s = _DASH_NEAR_DIGIT.sub("-", s)
    s = _NO_BETWEEN_DIGITS.sub("-", s)
    s = _SPACES.sub(" ", _SPACE_DROP.sub("", s.strip())).strip()
    return _POSTAL.sub("", s)


def fold_key(text: str) -> str:
    """Unify ヶ/ケ/が, の/ノ/之 and old kanji forms for matching (same length as the input)."""
    return text.translate(_FOLD)


def kanji_to_int(text: str) -> int:
    """Convert a kanji numeral (千三百五十五 or 一三五五) to an int."""
    if not any(c in KANJI_UNITS for c in text):
        return int("".join(str(KANJI_DIGITS[c]) for c in text))
    total = section = digit = 0
    for c in text:
        if c in KANJI_DIGITS:
            digit = KANJI_DIGITS[c]
            continue
        unit = KANJI_UNITS[c]
        if unit == 10000:
            total += (section + digit) * unit
            section = 0
        else:
            section += (digit or 1) * unit
        digit = 0
    return total + section + digit


def is_katakana(c: str) -> bool:
    """True for a full-width katakana letter or the long-vowel mark."""
    return "\u30a1" <= c <= "\u30fa" or c == "ー"


def within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance between a and b is at most 1."""
    la, lb = len(a), len(b)
    if la > lb:
        a, b, la, lb = b, a, lb, la
    if lb - la > 1:
        return False
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]
