"""The Geocoder: prefecture → city → 町字 (longest match, typo rule) → 地番 (parcel when the reference has it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .chiban import RestParts, parse_rest
from .forms import Readings, city_splits, kana_key, postcode, reading_towns, rewrite_old_name, romaji_key
from .index import TownIndex
from .model import CITY, MACHIAZA, MACHIAZA_DETAIL, NONE, PARCEL, PREF, GeocodeResult, Town
from .normalize import CHIBAN_HEADS, KANJI_NUMERALS, fold_key, normalize, validate, within_one_edit

SAGA = "佐賀県"
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県",
    "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",
    "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県",
    "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県",
    "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip

SCORE_EXACT = 1.0
SCORE_LOOSE_END = 0.9  # exact 町字 followed by text that cannot start a 地番
SCORE_TYPO = 0.7
SCORE_CITY = 0.3
SCORE_PREF = 0.1
MAX_CANDIDATES = 5
PARCEL_UNCERTAINTY_M = 10.0
DETAIL_UNCERTAINTY_M = 300.0
MACHIAZA_UNCERTAINTY_M = 1000.0  # fallback when no per-town radius was computed
MIN_TYPO_KEY_LEN = 3
MAX_KOAZA = 8  # characters of an unknown 小字 skipped between the 町 and 甲/乙/丙

_BOUNDARY = frozenset("0123456789 -字番") | KANJI_NUMERALS


def _boundary_ok(s: str, i: int) -> bool:
    """True when position i can end a 町字: end, digit, kanji numeral, 字, space, dash, or 地番 head + number."""
    if i >= len(s) or s[i] in _BOUNDARY:
        return True
    return s[i] in CHIBAN_HEADS and i + 1 < len(s) and ("0" <= s[i + 1] <= "9" or s[i + 1] in KANJI_NUMERALS)


def _via(result: GeocodeResult, text: str, via: str) -> GeocodeResult:
    """The result as answered for the user's own input, saying how it was read."""
    result.input = text
    result.via = result.via or via
    return result


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class Geocoder:
    """Table-driven geocoder for the covered cities; construct once, call geocode() many times."""

    def __init__(
        self,
        towns: Iterable[Town],
        cities: Mapping[str, tuple[str, float, float]],
        other_saga_cities: Iterable[str],
        readings: Readings | None = None,
    ) -> None:
        self.readings = readings or Readings()
        self.cities = dict(cities)
        self.index = TownIndex(towns, self.cities)
        self._city_keys = sorted(((fold_key(n), c) for c, (n, _, _) in self.cities.items()), key=lambda kv: -len(kv[0]))
        own = {name for name, _, _ in self.cities.values()}
        # 西松浦郡有田町 is reported as 有田町; both spellings are recognised.
        other = {fold_key(n): n.split("郡", 1)[-1] for n in other_saga_cities if n not in own}
        self._other_saga = sorted(other.items(), key=lambda kv: -len(kv[0]))
        self._other_prefs = tuple(p for p in PREFECTURES if p != SAGA)

    def geocode(self, text: str) -> GeocodeResult:
        """Geocode one address; raises ValueError for empty, over-long or control-character input."""
        plain = validate(text)
        other_form = self._other_form(text, plain)
        if other_form is not None:
            return other_form
        norm = normalize(plain)
        key = fold_key(norm)
        pos, pref = 0, None
        if key.startswith(SAGA):
            pos, pref = len(SAGA), SAGA
        elif key.startswith("佐賀") and not key.startswith("佐賀市"):
            pos, pref = 2, SAGA
        else:
            for other in self._other_prefs:
                if key.startswith(other):
                    return self._plain(text, norm, NONE, other, None, norm[len(other) :], outside=True)
        for city_key, code in self._city_keys:
            if key.startswith(city_key, pos):
                return self._in_city(text, norm, key, code, pos + len(city_key))
        old = rewrite_old_name(key[pos:], self.readings.old_names)
        if old is not None:
            code, rewritten, _ = old
            return _via(self.geocode(self.cities[code][0] + rewritten), text, "old_name")
        for other_key, name in self._other_saga:
            if key.startswith(other_key, pos):
                rest = norm[pos + len(other_key) :]
                return self._plain(text, norm, PREF, SAGA, name, rest, outside=True)
        typo = self._city_typo(text, norm, key, pos)
        if typo is not None:
            return typo
        inferred = self._infer_city(text, norm, key, pos)
        if inferred is not None:
            return inferred
        return self._plain(text, norm, PREF if pref else NONE, pref, None, norm[pos:], outside=False)

    def geocode_many(self, lines: Iterable[str], *, strict: bool = False) -> Iterator[GeocodeResult]:
        """Geocode lines lazily; invalid lines yield an error result unless strict, which re-raises."""
        for line in lines:
            line = line.rstrip("\r\n")
            try:
                yield self.geocode(line)
            except ValueError as exc:
                if strict:
                    raise
                yield self._plain(line, "", NONE, None, None, "", outside=False, error=str(exc))

    def _other_form(self, text: str, plain: str) -> GeocodeResult | None:
        """A postcode alone, or a reading in kana or romaji (never mixed with a written address)."""
        code = postcode(plain)
        if code is not None:
            towns = self.readings.postal.get(code, [])
            city = None if towns else self.readings.postal_city(code)
            return _via(self._from_towns(text, towns, exact=True, code=city), text, "postcode")
        r = self.readings
        for key, city_table, town_tables, via in (
            (kana_key(plain), r.city_kana, (r.town_kana, r.part_kana), "kana"),
            (romaji_key(plain), r.city_roma, (r.town_roma, r.part_roma), "romaji"),
        ):
            if key:
                splits = city_splits(key, city_table)
                city = splits[0][0]
                for code, rest in splits if splits[0][1] else splits[:1]:
                    towns, exact = reading_towns(rest, town_tables, code)
                    if towns:
                        return _via(self._from_towns(text, towns, exact=exact, code=code), text, via)
                return _via(self._from_towns(text, [], exact=True, code=city), text, via)
        return None

    def _from_towns(self, text: str, towns: list[Town], *, exact: bool, code: str | None) -> GeocodeResult:
        """One town → its result; several → the city (or nothing) with them as candidates; none → the city or none."""
        if len(towns) == 1:
            town = towns[0]
            score = SCORE_EXACT if exact else SCORE_TYPO
            return self._town_result(text, "", town, 0, score, [] if exact else self._candidates([(town, score)]))
        cities = {t.city_code for t in towns} or ({code} if code else set())
        if len(cities) == 1:
            return self._city_result(text, "", cities.pop(), 0, self._candidates((t, 0.5) for t in towns))
        result = self._plain(text, text, NONE, None, None, text if not towns else "", outside=False)
        result.candidates = self._candidates((t, 0.5) for t in towns)
        return result

    def _city_typo(self, text: str, norm: str, key: str, pos: int) -> GeocodeResult | None:
        """A one-character typo in the city name (武男市), taken only when an exact, unique 町字 follows it."""
        for city_key, code in self._city_keys:
            for length in (len(city_key), len(city_key) + 1, len(city_key) - 1):
                if not within_one_edit(key[pos : pos + length], city_key):
                    continue
                start = pos + length
                hit = self.index.longest(self.index.keys[code], key[start:])
                if hit and len(hit[1]) == 1 and _boundary_ok(key, start + len(hit[0])):
                    result = self._town_result(text, norm, hit[1][0], start + len(hit[0]), SCORE_TYPO, [])
                    return _via(result, text, "city_typo")
        return None

    def _koaza_before_head(self, text: str, norm: str, key: str, code: str, pos: int) -> GeocodeResult | None:
        """大坪町一ノ坂乙4580: a 小字 the reference does not know, written between the 町 and 甲/乙/丙 of the 町字."""
        idx = self.index
        rem = key[pos:]
        stem = idx.longest(idx.stems[code], rem)
        if stem is None:
            return None
        start = len(stem[0])
        for j in range(start + 1, min(len(rem), start + MAX_KOAZA + 1)):
            if rem[j] not in "甲乙丙":
                continue
            towns = idx.keys[code].get(stem[0] + rem[j], [])
            if len(towns) == 1 and _boundary_ok(rem, j + 1):
                result = self._town_result(text, norm, towns[0], pos + j + 1, SCORE_LOOSE_END, [])
                result.ignored = norm[pos + start : pos + j]
                return _via(result, text, "koaza_ignored")
            return None
        return None

    def _infer_city(self, text: str, norm: str, key: str, pos: int) -> GeocodeResult | None:
        # Without a city only an exact, unique 町字 at the very start counts; no typo tolerance here.
        hit = self.index.longest(self.index.all_keys, key[pos:])
        if not hit or len(hit[1]) != 1 or not _boundary_ok(key, pos + len(hit[0])):
            bare = self._bare_oaza(key, self.index.all_bare, pos)
            if bare is None or len(bare[1]) != 1:
                return None
            result = _via(self._town_result(text, norm, bare[1][0], bare[0], SCORE_EXACT, []), text, "oaza_only")
            result.city_inferred = True
            return result
        town = hit[1][0]
        result = self._town_result(text, norm, town, pos + len(hit[0]), SCORE_EXACT, [])
        result.city_inferred = True
        return result

    def _bare_oaza(self, key: str, table: dict[str, list[Town]], pos: int) -> tuple[int, list[Town]] | None:
        """A 大字 written without its 町 (武雄市甘久 → 朝日町大字甘久): (end, towns having it) or None."""
        for prefix in ("大字", "字", ""):
            if key.startswith(prefix, pos):
                start = pos + len(prefix)
                hit = self.index.longest(table, key[start:])
                if hit and _boundary_ok(key, start + len(hit[0])):
                    return start + len(hit[0]), hit[1]
        return None

    def _in_city(self, text: str, norm: str, key: str, code: str, pos: int) -> GeocodeResult:
        idx = self.index
        rem = key[pos:]
        hit = idx.longest(idx.keys[code], rem)
        if hit:
            matched, towns = hit
            if len(towns) == 1:
                end = pos + len(matched)
                score = SCORE_EXACT if _boundary_ok(key, end) else SCORE_LOOSE_END
                return self._town_result(text, norm, towns[0], end, score, [])
            return self._koaza_before_head(text, norm, key, code, pos) or self._city_result(
                text, norm, code, pos, self._rank(rem, towns)
            )
        bare = self._bare_oaza(key, idx.bare[code], pos)
        if bare is not None and len(bare[1]) == 1:
            return _via(self._town_result(text, norm, bare[1][0], bare[0], SCORE_EXACT, []), text, "oaza_only")
        if bare is not None:
            return self._city_result(text, norm, code, pos, self._rank(rem, bare[1]))
        stem = idx.longest(idx.stems[code], rem)
        fits = self._typo_fits(code, rem, (set(stem[1]), len(stem[0])) if stem else None)
        if len(fits) == 1:
            town, length = fits[0]
            cands = self._candidates([(town, SCORE_TYPO)])
            return self._town_result(text, norm, town, pos + length, SCORE_TYPO, cands)
        if fits:
            return self._city_result(text, norm, code, pos, self._rank(rem, [t for t, _ in fits]))
        koaza = self._koaza_before_head(text, norm, key, code, pos)
        if koaza is not None:
            return koaza
        return self._city_result(text, norm, code, pos, self._rank(rem, stem[1]) if stem else [])

    def _typo_fits(self, code: str, rem: str, stem: tuple[set[Town], int] | None) -> list[tuple[Town, int]]:
        """Towns within one edit of a prefix of rem that ends on a 町字 boundary.

        When rem starts with a known 町 part (山代町), only that 町's towns qualify and the edit must fall in the
        大字 part: "松浦町123" must not become 松島町, and "山代町" alone is ambiguous, not a typo. A 大字 part of one
        character (山代町城) is never typo-matched, since one edit would replace the whole name.
        """
        fits: dict[Town, int] = {}
        min_length = stem[1] + 1 if stem else 2
        for key, town, head in self.index.typo_keys[code]:
            if town in fits or (stem is not None and town not in stem[0]):
                continue
            if len(key) < MIN_TYPO_KEY_LEN or (head and len(key) - head < 2):
                continue
            # Substitution first: 山代町楠九1 is 楠久 + "1", not 楠 + "九1".
            for length in (len(key), len(key) + 1, len(key) - 1):
                if (
                    min_length <= length <= len(rem)
                    and _boundary_ok(rem, length)
                    and within_one_edit(rem[:length], key)
                ):
                    fits[town] = length
                    break
        return list(fits.items())

    def _rank(self, rem: str, towns: Iterable[Town]) -> list[dict]:
        pk = self.index.primary_key
        common = [(t, _common_prefix(rem, pk[t])) for t in towns]
        common.sort(key=lambda tc: (-tc[1], tc[0].name, tc[0].koaza or ""))
        return self._candidates((t, round(c / max(len(pk[t]), 1), 2)) for t, c in common)

    @staticmethod
    def _candidates(scored: Iterable[tuple[Town, float]]) -> list[dict]:
        return [
            {"town": t.name, "koaza": t.koaza, "city_code": t.city_code, "lat": t.lat, "lon": t.lon, "score": s}
            for t, s in list(scored)[:MAX_CANDIDATES]
        ]

    def _town_result(
        self, text: str, norm: str, town: Town, end: int, score: float, candidates: list[dict]
    ) -> GeocodeResult:
        code = town.city_code
        city = self.cities[code][0]
        parts = parse_rest(norm[end:])
        parcel = self.index.parcels.get((code, town.name, parts.chiban)) if parts.chiban else None
        if parcel is not None:
            level, point, radius = PARCEL, parcel, PARCEL_UNCERTAINTY_M
            rest = RestParts(parts.prefix, None, parts.tail).text()
        elif town.koaza:
            level, point, radius, rest = MACHIAZA_DETAIL, town, DETAIL_UNCERTAINTY_M, parts.text()
        else:
            level, point, rest = MACHIAZA, town, parts.text()
            radius = self.index.uncertainty.get(town, MACHIAZA_UNCERTAINTY_M)
        return GeocodeResult(
            input=text,
            normalized=f"{SAGA}{city}{town.name}{town.koaza or ''}{parts.text()}",
            city_code=code,
            city=city,
            town=town.name,
            rest=rest,
            match_level=level,
            coordinates_level=point.level if level != MACHIAZA_DETAIL else MACHIAZA_DETAIL,
            lat=point.lat,
            lon=point.lon,
            uncertainty_m=radius,
            candidates=candidates,
            pref=SAGA,
            koaza=town.koaza,
            chiban=parts.chiban,
            score=score,
        )

    def _city_result(self, text: str, norm: str, code: str, pos: int, candidates: list[dict]) -> GeocodeResult:
        name, lat, lon = self.cities[code]
        rest = norm[pos:]
        return GeocodeResult(
            input=text,
            normalized=f"{SAGA}{name}{rest}",
            city_code=code,
            city=name,
            town=None,
            rest=rest,
            match_level=CITY,
            coordinates_level=CITY,
            lat=lat,
            lon=lon,
            uncertainty_m=self.index.city_uncertainty[code],
            candidates=candidates,
            pref=SAGA,
            score=SCORE_CITY,
        )

    @staticmethod
    def _plain(
        text: str,
        norm: str,
        level: str,
        pref: str | None,
        city: str | None,
        rest: str,
        *,
        outside: bool,
        error: str | None = None,
    ) -> GeocodeResult:
        """A result above 町字 level without coordinates (no match, prefecture only, or outside the area)."""
        return GeocodeResult(
            input=text,
            normalized=norm,
            city_code=None,
            city=city,
            town=None,
            rest=rest,
            match_level=level,
            coordinates_level=NONE,
            lat=None,
            lon=None,
            uncertainty_m=None,
            pref=pref,
            score=SCORE_PREF if level == PREF else 0.0,
            outside_service_area=outside,
            error=error,
        )
