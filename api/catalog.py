"""Layer statistics and provenance for the landing page, /health and collection metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from layers import LAYERS


@dataclass
class LayerInfo:
    """Counts, version and sources of one layer as the database has them now."""

    id: str
    title: str
    description: str
    count: int = 0
    sample_rows: int = 0
    version: int | None = None
    updated_at: Any = None
    sources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sample(self) -> bool:
        """True when any row is sample data."""
        return self.sample_rows > 0


def _stats_sql() -> str:
    parts = [
        f"SELECT '{lid}' AS layer_id, count(*) AS n, count(*) FILTER (WHERE sample) AS s FROM \"{lid}\""
        for lid in LAYERS
    ]
    return " UNION ALL ".join(parts)


STATS_SQL = _stats_sql()
# The sources behind the rows that are there now (older loads replaced by --replace drop out).
SOURCES_SQL = """
SELECT s.layer_id, s.id, s.title, s.publisher, s.licence, s.licence_url, s.attribution, s.data_date,
       s.sample, s.derived, s.note, s.city_codes, s.loaded_at
FROM sources s
WHERE s.id IN (SELECT DISTINCT source_id FROM {table})
ORDER BY s.id
"""


async def layer_infos(conn: asyncpg.Connection) -> list[LayerInfo]:
    """Every declared layer with counts, sample rows, version and current sources."""
    stats = {r["layer_id"]: r for r in await conn.fetch(STATS_SQL)}
    versions = {r["layer_id"]: r for r in await conn.fetch("SELECT layer_id, version, updated_at FROM layer_state")}
    union = " UNION ".join(f'SELECT DISTINCT source_id FROM "{lid}"' for lid in LAYERS)
    sources = await conn.fetch(SOURCES_SQL.format(table=f"({union}) AS u"))
    out = []
    for lid, layer in LAYERS.items():
        st, ver = stats.get(lid), versions.get(lid)
        out.append(
            LayerInfo(
                id=lid,
                title=layer.title,
                description=layer.description,
                count=st["n"] if st else 0,
                sample_rows=st["s"] if st else 0,
                version=ver["version"] if ver else None,
                updated_at=ver["updated_at"] if ver else None,
                sources=[dict(s) for s in sources if s["layer_id"] == lid],
            )
        )
    return out
