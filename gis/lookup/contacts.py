"""Who to ask: each city's main office and the kind of department per topic (data/rules/city_contacts.toml)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any


@cache
def city_contacts(data_dir: Path) -> dict[str, Any]:
    """{cities: {city_code: {...}}, topics: {topic: department}, source, data_date}."""
    raw = tomllib.loads((data_dir / "rules" / "city_contacts.toml").read_text(encoding="utf-8"))
    return {
        "cities": {c["city_code"]: c for c in raw.get("city", [])},
        "topics": raw.get("topics", {}),
        "source": raw.get("source"),
        "data_date": raw.get("data_date"),
    }
