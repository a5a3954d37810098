"""The municipalities this service covers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A covered city: 5-digit code, 6-digit ABR lg_code, names."""

    code: str
    lg_code: str
    name: str
    name_kana: str
    name_en: str


CITIES: dict[str, City] = {
    "41205": City("41205", "412058", "伊万里市", "イマリシ", "Imari"),
    "41206": City("41206", "412066", "武雄市", "タケオシ", "Takeo"),
}
PREFECTURE = "佐賀県"
