"""What people type besides the written address (issue 15 part 4): readings, old names, postcodes, typos, bare 大字.

Every case names the town it must land on, or the honest lower level it must stay at; none may give a wrong town.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.geocode.forms import city_splits, kana_key, postcode, romaji_key
from gis.geocode.matcher import Geocoder
from gis.geocode.reference import load_reference

DATA = Path(__file__).resolve().parents[1] / "data"
IMARI, TAKEO = "41205", "41206"


@pytest.fixture(scope="module")
def geocoder() -> Geocoder:
    return Geocoder(*load_reference(DATA))


# (input, city, town, via) — town None means the city level (or nothing, when city is None too).
LANDS = [
    # kana and romaji readings (Japan Post kana of the 町域, pykakasi Hepburn)
    ("たけおし あさひちょう あまく", TAKEO, "朝日町大字甘久", "kana"),
    ("タケオシ アサヒチョウ アマク", TAKEO, "朝日町大字甘久", "kana"),
    ("ﾀｹｵｼ ｱｻﾋﾁｮｳ ｱﾏｸﾞ", TAKEO, "朝日町大字甘久", "kana"),
    ("たけおし あさひまち あまく", TAKEO, "朝日町大字甘久", "kana"),
    ("あまく", TAKEO, "朝日町大字甘久", "kana"),
    ("たけおちょう たけお", TAKEO, "武雄町大字武雄", "kana"),
    ("きたがたまち おおわたり", TAKEO, "北方町大字大渡", "kana"),
    ("いまりし やましろちょう くすく", IMARI, "山代町楠久", "kana"),
    ("いまりし いまりちょう こう", IMARI, "伊万里町甲", "kana"),
    ("takeo-shi asahi-machi amaku", TAKEO, "朝日町大字甘久", "romaji"),
    ("Takeo-shi Kitagata-machi Oowatari", TAKEO, "北方町大字大渡", "romaji"),
    ("Takeo Kitakata Owatari", TAKEO, "北方町大字大渡", "romaji"),
    ("imari tachibana-cho", IMARI, "立花町", "romaji"),
    ("Imari Tatibana", IMARI, "立花町", "romaji"),
    ("imari", IMARI, None, "romaji"),
    ("いまり", IMARI, None, "kana"),
    # old municipality names of the mergers, with their 郡
    ("杵島郡北方町大字大渡", TAKEO, "北方町大字大渡", "old_name"),
    ("佐賀県杵島郡山内町大字宮野", TAKEO, "山内町大字宮野", "old_name"),
    ("杵島郡山内町宮野1234", TAKEO, "山内町大字宮野", "old_name"),
    # postcodes: a 7-digit code → its 町域; the city-wide code → the city
    ("843-0022", TAKEO, "武雄町大字武雄", "postcode"),
    ("〒8430022", TAKEO, "武雄町大字武雄", "postcode"),
    ("８４３－００２２", TAKEO, "武雄町大字武雄", "postcode"),
    ("8430000", TAKEO, None, "postcode"),
    # a one-character typo in the city name when the town is unique
    ("武男市武雄町大字昭和", TAKEO, "武雄町大字昭和", "city_typo"),
    ("伊万理市立花町1355", IMARI, "立花町", "city_typo"),
    # a 小字 between the 町 and 甲/乙, ignored when it is the only thing unknown
    ("伊万里市大坪町一ノ坂乙4580", IMARI, "大坪町乙", "koaza_ignored"),
    # a 大字 written without its 町
    ("武雄市甘久", TAKEO, "朝日町大字甘久", "oaza_only"),
    ("武雄市大字甘久1234", TAKEO, "朝日町大字甘久", "oaza_only"),
    ("伊万里市楠久", IMARI, "山代町楠久", "oaza_only"),
]


@pytest.mark.parametrize(("text", "city", "town", "via"), LANDS, ids=[c[0] for c in LANDS])
def test_what_people_type_lands_on_the_right_place(
    geocoder: Geocoder, text: str, city: str, town: str | None, via: str
) -> None:
    r = geocoder.geocode(text)
    assert (r.city_code, r.town, r.via) == (city, town, via), r
    assert r.match_level == ("machiaza" if town else "city")
    assert r.input == text


# (input, expected city or None, candidate towns that must be offered) — ambiguous: never one town picked.
AMBIGUOUS = [
    ("たけおし あさひちょう", TAKEO, {"朝日町大字甘久", "朝日町大字中野", "朝日町大字芦原"}),
    ("やまうち", TAKEO, {"山内町大字宮野", "山内町大字大野"}),
    ("kitagata", TAKEO, {"北方町大字大渡", "北方町大字志久"}),
    ("tachibana", None, {"立花町", "橘町大字永島"}),  # 立花町 (Imari) and 橘町 (Takeo) read alike
    ("武雄市永島", TAKEO, {"武雄町大字永島", "橘町大字永島"}),
    ("なかの", TAKEO, {"朝日町大字中野"}),  # 中野 and 永野 fold together without dakuten
]


@pytest.mark.parametrize(("text", "city", "towns"), AMBIGUOUS, ids=[c[0] for c in AMBIGUOUS])
def test_ambiguous_readings_offer_candidates_and_pick_no_town(
    geocoder: Geocoder, text: str, city: str | None, towns: set[str]
) -> None:
    r = geocoder.geocode(text)
    assert r.town is None and r.city_code == city, r
    assert towns <= {c["town"] for c in r.candidates}


NOTHING = [
    "とうきょう",  # a reading that is not ours
    "tokyo",
    "100-0001",  # a postcode outside both cities
    "849-2300",
    "東松浦郡山代村",  # not one of the recorded old names
    "永島",  # two towns, no city to choose between them
]


@pytest.mark.parametrize("text", NOTHING)
def test_unknown_forms_give_no_town(geocoder: Geocoder, text: str) -> None:
    r = geocoder.geocode(text)
    assert r.town is None and r.match_level in {"none", "city", "prefecture"}, r


def test_a_reading_in_the_other_city_does_not_move_the_city(geocoder: Geocoder) -> None:
    r = geocoder.geocode("いまりし あさひちょう あまく")  # 朝日町甘久 is in Takeo, the user said Imari
    assert (r.city_code, r.town) == (IMARI, None)


def test_reading_typo_is_offered_as_a_candidate(geocoder: Geocoder) -> None:
    r = geocoder.geocode("いまりし たちばなちょ")
    assert r.town == "立花町" and r.score < 1.0
    assert [c["town"] for c in r.candidates] == ["立花町"]


def test_written_addresses_do_not_take_the_reading_path(geocoder: Geocoder) -> None:
    assert kana_key("武雄市朝日町") is None and romaji_key("武雄市") is None
    r = geocoder.geocode("武雄市朝日町大字甘久1234")
    assert (r.town, r.via) == ("朝日町大字甘久", None)


def test_keys_fold_spellings_together() -> None:
    assert kana_key("あまぐ") == kana_key("アマク") == kana_key("ｱﾏｸﾞ")
    assert romaji_key("Tachibana-chō") == romaji_key("tatibana cho") == romaji_key("TACHIBANACHOU")
    assert postcode("〒 843 - 0022") == "8430022" and postcode("843-00221") is None and postcode("8430") is None
    splits = city_splits("タケオチヨウタケオ", {"タケオ": TAKEO})
    assert splits == [(TAKEO, "チヨウタケオ"), (None, "タケオチヨウタケオ")]
