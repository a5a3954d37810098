"""Address geocoder for 伊万里市 and 武雄市: table-driven normaliser and 町字 matcher."""

from __future__ import annotations

from pathlib import Path

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
    "geocoder_from_data_dir",
    "load_reference",
    "normalize",
    "validate",
]


def geocoder_from_data_dir(data_dir: Path) -> Geocoder:
    """A Geocoder built from the bundled CSVs under data_dir."""
    return Geocoder(*load_reference(data_dir))
