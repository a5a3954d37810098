"""The catalog: layer counts, versions, extents, sample flags and sources, one place, cached per layer version."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from gis.cache import Cache
from gis.db.versions import LayerVersions
from gis.errors import NotFound
from gis.sql import lit, q
from layers import LAYERS
from layers.base import Layer

Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]
# The public columns of sources (the public role cannot read file names, hashes and import reports).
SOURCE_COLUMNS = (
    "id, layer_id, title, publisher, licence, licence_url, attribution, data_date, sample, derived, note, "
    "city_codes, loaded_at"
)
# Rough bytes per cached metadata item (dicts of short strings); the meta partition is small and bounded.
META_ITEM_BYTES = 2_000


def layer_or_404(layer_id: str) -> Layer:
    """The declared layer, or NotFound (a 404 for API clients) naming where the list is."""
    layer = LAYERS.get(layer_id)
    if layer is None:
        raise NotFound(f"unknown collection '{layer_id[:60]}'; see /collections")
    return layer


def jsonable(row: Any) -> dict[str, Any]:
    """A database row as a JSON-ready dict (dates as ISO text)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()}


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
    return " UNION ALL ".join(
        f"SELECT {lit(lid)} AS layer_id, count(*) AS n, count(*) FILTER (WHERE sample) AS s FROM {q(lid)}"
        for lid in LAYERS
    )


def _current_sources_sql() -> str:
    """The sources behind the rows there now (older loads replaced by --replace drop out)."""
    union = " UNION ".join(f"SELECT DISTINCT source_id FROM {q(lid)}" for lid in LAYERS)
    return f"SELECT {SOURCE_COLUMNS} FROM sources WHERE id IN ({union}) ORDER BY id"


def _extents_sql() -> str:
    return " UNION ALL ".join(
        f"SELECT {lit(lid)} AS id, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        f"FROM (SELECT ST_Extent(geom) AS e FROM {q(lid)}) s"
        for lid in LAYERS
    )


STATS_SQL = _stats_sql()
CURRENT_SOURCES_SQL = _current_sources_sql()
EXTENTS_SQL = _extents_sql()
ALL_SOURCES_SQL = f"SELECT {SOURCE_COLUMNS} FROM sources ORDER BY id"


def _meta_cost(value: Any) -> int:
    items = len(value) if hasattr(value, "__len__") else 1
    return sys.getsizeof(value) + items * META_ITEM_BYTES


class Catalog:
    """Metadata every page and API needs, built once per set of layer versions through the one cache."""

    def __init__(self, cache: Cache, versions: LayerVersions, connect: Connect) -> None:
        self.cache = cache
        self.versions = versions
        self.connect = connect

    async def _cached(self, name: str, build: Callable[[asyncpg.Connection], Any]) -> Any:
        tag = self.versions.snapshot()

        async def run() -> Any:
            async with self.connect() as conn:
                return await build(conn)

        return await self.cache.get_or_build(("meta", name, tag), run, tag=tag, cost=_meta_cost)

    async def infos(self) -> list[LayerInfo]:
        """Every declared layer with counts, sample rows, version and current sources."""
        return await self._cached("infos", _infos)

    async def extents(self) -> dict[str, list[float] | None]:
        """Bounding box (lon/lat) per layer."""
        return await self._cached("extents", _extents)

    async def samples(self) -> dict[str, bool]:
        """Which layers hold sample rows."""
        infos = await self.infos()
        return {i.id: i.sample for i in infos}

    async def coverage(self) -> dict[str, set[str]]:
        """The cities each layer holds rows for: the cities of the sources behind its current rows (a --replace
        only ever swaps a city's rows for another file of that city, so a city never loses all its rows)."""
        infos = await self.infos()
        return {i.id: {c for s in i.sources for c in (s.get("city_codes") or [])} for i in infos}

    async def sources(self) -> tuple[dict[int, dict], dict[str, list[dict]]]:
        """Every source by id, and the sources per layer."""
        return await self._cached("sources", _sources)

    async def layer_sources(self, layer_id: str) -> list[dict[str, Any]]:
        """The provenance of the rows a layer holds now (JSON-ready)."""
        infos = await self.infos()
        info = next((i for i in infos if i.id == layer_id), None)
        return [jsonable(s) for s in info.sources] if info else []


async def _infos(conn: asyncpg.Connection) -> list[LayerInfo]:
    stats = {r["layer_id"]: r for r in await conn.fetch(STATS_SQL)}
    versions = {r["layer_id"]: r for r in await conn.fetch("SELECT layer_id, version, updated_at FROM layer_state")}
    sources = await conn.fetch(CURRENT_SOURCES_SQL)
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


async def _extents(conn: asyncpg.Connection) -> dict[str, list[float] | None]:
    rows = await conn.fetch(EXTENTS_SQL)
    return {r["id"]: ([round(v, 6) for v in list(r.values())[1:]] if r[1] is not None else None) for r in rows}


async def _sources(conn: asyncpg.Connection) -> tuple[dict[int, dict], dict[str, list[dict]]]:
    by_id = {r["id"]: jsonable(r) for r in await conn.fetch(ALL_SOURCES_SQL)}
    per_layer: dict[str, list[dict]] = {}
    for s in by_id.values():
        per_layer.setdefault(s["layer_id"], []).append(s)
    return by_id, per_layer
