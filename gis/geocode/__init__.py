"""Address geocoder for 伊万里市 and 武雄市: table-driven normaliser and 町字 matcher."""

from __future__ import annotations

from .matcher import Geocoder
from .model import LEVELS, GeocodeResult, Town
from .normalize import fold_key, normalize, validate
from .reference import load_reference

__all__ = [
    "LEVELS",
    "GeocodeResult",
    "Geocoder",
    "Town",
    "fold_key",
    "load_reference",
    "normalize",
    "validate",
]
