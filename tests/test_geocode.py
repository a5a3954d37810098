"""Address geocoder: regression set, DOMAIN §2 rules, result shape, validation and the batch path (pure Python)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from gis.geocode import Geocoder, GeocodeResult, Town, load_reference, normalize
from gis.geocode.chiban import parse_rest
from gis.geocode.normalize import kanji_to_int

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
REGRESSION = Path(__file__).parent / "data" / "addresses_regression.csv"
LEVELS = {"none", "pref", "city", "machiaza", "machiaza_detail", "parcel"}


def _rows() -> list[dict[str, str]]:
    with REGRESSION.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


ROWS = _rows()


@pytest.fixture(scope="module")
def reference() -> tuple:
    return load_reference(DATA)


@pytest.fixture(scope="module")
def geocoder(reference: tuple) -> Geocoder:
    return Geocoder(*reference)


def test_regression_set_size_and_coverage() -> None:
    assert len(ROWS) >= 100
    cities = {r["city_code"] for r in ROWS}
    assert {"41205", "41206"} <= cities
    assert {r["match_level"] for r in ROWS} >= {"none", "pref", "city", "machiaza", "machiaza_detail"}


@pytest.mark.parametrize("row", ROWS, ids=[r["input"] for r in ROWS])
def test_regression(geocoder: Geocoder, row: dict[str, str]) -> None:
    r = geocoder.geocode(row["input"])
    got = (r.city_code or "", r.town or "", r.rest, r.match_level)
    assert got == (row["city_code"], row["town"], row["rest"], row["match_level"]), row["note"]


def test_postal_office_addresses_all_match(geocoder: Geocoder) -> None:
    with (DATA / "addresses" / "imari_takeo_postal_offices_japanpost.csv").open(encoding="utf-8") as f:
        offices = list(csv.DictReader(f))
    assert len(offices) == 11
    for o in offices:
        r = geocoder.geocode(o["city"] + o["neighborhood"] + o["banchi"])
        assert r.city_code == o["jis"]
        assert r.town == o["neighborhood"]
        assert r.match_level == "machiaza"
        assert r.chiban and r.chiban[-1].isdigit()


# --- DOMAIN.md §2 examples -------------------------------------------------------------------------------


def test_domain_city_hall_and_library(geocoder: Geocoder) -> None:
    hall = geocoder.geocode("伊万里市立花町1355番地1")
    assert (hall.town, hall.chiban, hall.coordinates_level) == ("立花町", "1355-1", "machiaza")
    lib = geocoder.geocode("武雄市武雄町大字武雄5304番地1")
    assert (lib.town, lib.chiban) == ("武雄町大字武雄", "5304-1")


def test_domain_oaza_optional(geocoder: Geocoder) -> None:
    a = geocoder.geocode("武雄市武雄町大字昭和1-1")
    b = geocoder.geocode("武雄市武雄町昭和1-1")
    assert a.town == b.town == "武雄町大字昭和"
    assert (a.lat, a.lon) == (b.lat, b.lon)


def test_domain_kanji_numerals_never_inside_names(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市大坪町一ノ坂乙4580番地2")
    assert "10000" not in r.normalized and "伊万里市" in r.normalized
    assert r.city_code == "41205"
    # 大坪町甲/乙/丙 are 町字 of their own; the 小字 一ノ坂 written before 乙 is skipped and reported as ignored.
    got = (r.town, r.rest, r.match_level, r.via, r.ignored)
    assert got == ("大坪町乙", "4580-2", "machiaza", "koaza_ignored", "一ノ坂")
    plain = geocoder.geocode("伊万里市大坪町4580")  # no 甲/乙/丙: still ambiguous, candidates, city level
    assert plain.match_level == "city" and {c["town"] for c in plain.candidates} >= {"大坪町甲", "大坪町乙", "大坪町丙"}
    assert normalize("伊万里市二里町一ノ坂") == "伊万里市二里町一ノ坂"


def test_domain_koh_town_and_koh_prefix(geocoder: Geocoder) -> None:
    town = geocoder.geocode("伊万里市大坪町甲4580")
    assert (town.town, town.rest) == ("大坪町甲", "4580")
    prefix = geocoder.geocode("武雄市山内町三間坂甲13350-1")
    assert (prefix.town, prefix.rest, prefix.chiban) == ("山内町大字三間坂", "甲13350-1", "甲13350-1")


def test_domain_iroha_branch_is_not_parcel(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市山代町楠久360番地ロ")
    assert (r.match_level, r.coordinates_level, r.rest) == ("machiaza", "machiaza", "360-ロ")


def test_domain_folding() -> None:
    assert normalize("１３５５番地１") == "1355番地1"
    assert normalize("360の1") == "360-1"
    assert normalize("一ノ坂") == "一ノ坂"  # ノ between names is not a separator
    assert normalize("センター2階") == "センター2階"  # long-vowel mark after katakana is not a dash
    assert normalize("100ー2") == normalize("100―2") == normalize("100–2") == "100-2"
    assert normalize("立花町（市役所）1355") == "立花町1355"
    assert parse_rest("千三百五十五番地一").chiban == "1355-1"
    assert parse_rest("1355番地1 伊万里市役所").text() == "1355-1 伊万里市役所"
    assert kanji_to_int("一万三千三百五十") == 13350
    assert kanji_to_int("三六〇") == 360


# --- levels, typo rule, outside area -----------------------------------------------------------------------


def test_small_aza_is_machiaza_detail(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市立花町字通谷100")
    assert (r.match_level, r.coordinates_level, r.koaza, r.uncertainty_m) == (
        "machiaza_detail",
        "machiaza_detail",
        "通谷",
        300.0,
    )


def test_typo_unique_fit_has_lower_score_and_candidate(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市立化町1355-1")
    assert r.town == "立花町" and r.score < 1.0
    assert [c["town"] for c in r.candidates] == ["立花町"]


def test_typo_ambiguous_is_city(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市黒川町長屋10")
    assert r.match_level == "city" and r.town is None
    assert {c["town"] for c in r.candidates} == {"黒川町長尾", "黒川町塩屋"}


def test_ambiguous_town_is_city_with_at_most_five_candidates(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市山代町")
    assert r.match_level == r.coordinates_level == "city"
    assert 0 < len(r.candidates) <= 5
    assert all(c["town"].startswith("山代町") for c in r.candidates)
    assert r.uncertainty_m is not None and r.uncertainty_m >= 5000
    assert (r.lat, r.lon) == (33.264741, 129.880702)


def test_candidates_never_exceed_five(geocoder: Geocoder) -> None:
    for row in ROWS:
        assert len(geocoder.geocode(row["input"]).candidates) <= 5


def test_outside_service_area(geocoder: Geocoder) -> None:
    karatsu = geocoder.geocode("佐賀県唐津市西城内1-1")
    assert (karatsu.match_level, karatsu.city_code, karatsu.city, karatsu.outside_service_area) == (
        "pref",
        None,
        "唐津市",
        True,
    )
    assert geocoder.geocode("西松浦郡有田町1").city == "有田町"
    tokyo = geocoder.geocode("東京都千代田区霞が関1-1-1")
    assert (tokyo.match_level, tokyo.outside_service_area, tokyo.lat) == ("none", True, None)
    unknown = geocoder.geocode("hello")
    assert (unknown.match_level, unknown.outside_service_area) == ("none", False)


def test_city_inferred_only_for_unique_town(geocoder: Geocoder) -> None:
    r = geocoder.geocode("立花町1355-1")
    assert (r.city_code, r.city_inferred) == ("41205", True)
    assert geocoder.geocode("伊万里市立花町1355-1").city_inferred is False
    assert geocoder.geocode("山代町100").match_level == "none"


def test_uncertainty_per_level(geocoder: Geocoder) -> None:
    r = geocoder.geocode("伊万里市立花町1355-1")
    assert r.uncertainty_m is not None and 300 <= r.uncertainty_m <= 3000


# --- parcel level (no parcel data is bundled: synthetic entries as ABR 地番 would provide) ----------------


def test_parcel_level_only_for_exact_chiban(reference: tuple) -> None:
    towns, cities, others, _readings = reference
    parcel = Town("41205", "山代町楠久", 33.2931, 129.8241, level="parcel", chiban="360-1")
    g = Geocoder([*towns, parcel], cities, others)
    hit = g.geocode("伊万里市山代町楠久360番地1 楠久ビル")
    assert (hit.match_level, hit.coordinates_level, hit.lat, hit.uncertainty_m) == ("parcel", "parcel", 33.2931, 10.0)
    assert (hit.chiban, hit.rest) == ("360-1", "楠久ビル")
    for text in ("伊万里市山代町楠久360番地ロ", "伊万里市山代町楠久360", "伊万里市山代町楠久360-2"):
        miss = g.geocode(text)
        assert (miss.match_level, miss.coordinates_level) == ("machiaza", "machiaza"), text


def test_towns_from_database_rows() -> None:
    towns = [
        Town("41206", "武雄町大字武雄", 33.186132, 130.008302, aliases=("武雄町武雄",)),
        Town("41206", "武雄町大字昭和", 33.195461, 130.027497),
    ]
    g = Geocoder(towns, {"41206": ("武雄市", 33.194733, 130.021171)}, ["唐津市"])
    assert g.geocode("武雄市武雄町武雄1").town == "武雄町大字武雄"
    assert g.geocode("伊万里市立花町1").match_level == "none"  # city not served by this instance


# --- result shape and validation ---------------------------------------------------------------------------


def test_to_dict_carries_every_field(geocoder: Geocoder) -> None:
    r = geocoder.geocode("武雄市武雄町大字武雄5304番地1")
    d = r.to_dict()
    assert set(d) == {f.name for f in dataclasses.fields(GeocodeResult)}
    for name in ("input", "normalized", "city_code", "city", "town", "rest", "match_level", "coordinates_level"):
        assert name in d
    for name in ("lat", "lon", "uncertainty_m", "candidates", "outside_service_area", "score"):
        assert name in d
    assert d["match_level"] in LEVELS and d["coordinates_level"] in LEVELS


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "\u3000", "伊" * 201, "伊万里市\x00立花町", "伊万里市\t立花町1", "武雄市\x1b[31m", None, 123],
)
def test_bad_input_raises_value_error(geocoder: Geocoder, bad: object) -> None:
    with pytest.raises(ValueError):
        geocoder.geocode(bad)  # type: ignore[arg-type]


def test_geocode_many_batch(geocoder: Geocoder) -> None:
    lines = [ROWS[i % len(ROWS)]["input"] + "\n" for i in range(5000)]
    results = list(geocoder.geocode_many(lines))
    assert len(results) == 5000
    assert all(isinstance(r, GeocodeResult) for r in results)
    assert results[0].rest == geocoder.geocode(ROWS[0]["input"]).rest


def test_geocode_many_invalid_lines(geocoder: Geocoder) -> None:
    results = list(geocoder.geocode_many(["伊万里市立花町1", "", "武雄市"]))
    assert [r.match_level for r in results] == ["machiaza", "none", "city"]
    assert results[1].error
    with pytest.raises(ValueError):
        list(geocoder.geocode_many(["", "武雄市"], strict=True))
