"""Data types of the address geocoder: reference towns and results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Match levels follow abr-geocoder v3 (without the rsdtdsp_* levels: no 住居表示 in either city).
NONE = "none"
PREF = "pref"
CITY = "city"
MACHIAZA = "machiaza"
MACHIAZA_DETAIL = "machiaza_detail"
PARCEL = "parcel"
LEVELS = (NONE, PREF, CITY, MACHIAZA, MACHIAZA_DETAIL, PARCEL)


@dataclass(frozen=True)
class Town:
    """One 大字/町 (or 小字, or 地番) reference point."""

    city_code: str
    name: str
    lat: float
    lon: float
    level: str = MACHIAZA
    koaza: str | None = None
    chiban: str | None = None
    aliases: tuple[str, ...] = ()
    kana: tuple[str, ...] = ()  # readings (Japan Post 町域 kana), for kana and romaji input
    postal_codes: tuple[str, ...] = ()  # 7-digit postcodes whose 町域 is this town


@dataclass
class GeocodeResult:
    """The outcome of geocoding one address string."""

    input: str
    normalized: str
    city_code: str | None
    city: str | None
    town: str | None
    rest: str
    match_level: str
    coordinates_level: str
    lat: float | None
    lon: float | None
    uncertainty_m: float | None
    candidates: list[dict] = field(default_factory=list)
    pref: str | None = None
    koaza: str | None = None
    chiban: str | None = None
    score: float = 0.0
    outside_service_area: bool = False
    city_inferred: bool = False
    error: str | None = None
    # How the input was read when it was not a written address: kana, romaji, postcode, old_name, city_typo,
    # koaza_ignored (a 小字 unknown to the reference stood between the 町 and 甲/乙/丙, and was skipped),
    # oaza_only (a 大字 written without its 町: 武雄市甘久), landmark (a place name of our layers: 武雄温泉駅).
    via: str | None = None
    ignored: str | None = None
    # A place name of our layers (via landmark): {name, layer, layer_title, sample}; its reach is uncertainty_m.
    place: dict | None = None

    def to_dict(self) -> dict:
        """All fields as a JSON-ready dict."""
        return asdict(self)
