"""The process's geocoder: built at start-up, rebuilt in the background when the address reference changes.

Requests read `current` and never wait for a database: a re-import of towns or address points starts a rebuild
(rows read through the public role, matcher tables built in a worker thread) and the new geocoder replaces the old
one when it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import asyncpg

from gis import heap
from gis.cache import Cache
from gis.cities import CITIES
from gis.db.versions import LayerVersions
from gis.geocode.addresses import POINTS_SQL, TOWNS_SQL, reference_from_rows
from gis.geocode.landmarks import LANDMARK, Landmarks, Place, candidate, place_answer, place_layers, places_sql
from gis.geocode.matcher import Geocoder
from gis.geocode.model import CITY, NONE, PREF, GeocodeResult

log = logging.getLogger("gis.geocode")
ADDRESS_LAYERS = ("towns", "address_points")
BYTES_PER_TOWN = 3_000  # matcher tables per reference entry (names, keys, aliases), measured roughly
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


def reference_layers() -> tuple[str, ...]:
    """The layers the geocoder is built from: the address reference and the searchable place names."""
    return (*ADDRESS_LAYERS, *(layer.id for layer in place_layers()))


def _cost(built: tuple[Geocoder, Landmarks]) -> int:
    geocoder, landmarks = built
    return (len(geocoder.index.primary_key) + len(geocoder.index.parcels) + len(landmarks)) * BYTES_PER_TOWN


def _with_place(result: GeocodeResult, landmarks: Landmarks) -> GeocodeResult:
    """An address that found no 大字/町 may be a place name of our layers (never overriding an address)."""
    if result.match_level not in (NONE, PREF, CITY) or result.outside_service_area or result.error:
        return result
    groups = landmarks.find(result.input, result.city_code if result.match_level == CITY else None)
    if not groups:
        return result
    if len(groups) > 1:
        result.candidates = [candidate(g) for g in groups[:10]] + result.candidates
        return result
    a = place_answer(groups[0])
    code = a["city_code"]
    result.city_code, result.city = code, CITIES[code].name if code in CITIES else result.city
    result.match_level = result.coordinates_level = LANDMARK
    result.lat, result.lon, result.uncertainty_m = a["lat"], a["lon"], a["uncertainty_m"]
    result.via, result.place = LANDMARK, a
    result.candidates = []
    return result


class GeocoderService:
    """Holds the current Geocoder; `on_version` is subscribed to the layer versions."""

    def __init__(self, data_dir: Path, cache: Cache, versions: LayerVersions, connect: Connect) -> None:
        self.data_dir = data_dir
        self.cache = cache
        self.versions = versions
        self.connect = connect
        self._current: tuple[Geocoder, Landmarks] | None = None
        self._task: asyncio.Task | None = None
        self.rebuilds = 0

    @property
    def current(self) -> Geocoder:
        """The address geocoder to use now."""
        if self._current is None:
            raise RuntimeError("the geocoder is built at start-up: call start() first")
        return self._current[0]

    def geocode(self, text: str) -> GeocodeResult:
        """An address, else a place name of our layers; raises ValueError for invalid input."""
        result = self.current.geocode(text)
        assert self._current is not None
        return _with_place(result, self._current[1])

    async def start(self) -> None:
        """Build the first geocoder (start-up waits for it; requests never do)."""
        await self._refresh()

    def on_version(self, layer_id: str, _version: int) -> None:
        """Rebuild in the background when the address reference changed."""
        if layer_id in reference_layers() and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._refresh_logged())

    async def _refresh_logged(self) -> None:
        try:
            await self._refresh()
        except Exception:  # the old geocoder keeps answering; the next version change tries again
            log.exception("geocoder rebuild failed; the previous reference stays in use")
            return
        heap.settle()  # the new indexes replace the old ones for the process's life

    async def _refresh(self) -> None:
        while True:
            tag = self.versions.snapshot(reference_layers())
            self._current = await self.cache.get_or_build(
                ("meta", "geocoder", tag),
                self._build,
                tag=tag,
                cost=_cost,
            )
            self.rebuilds += 1
            if self.versions.snapshot(reference_layers()) == tag:  # no newer reference arrived meanwhile
                return

    async def _build(self) -> tuple[Geocoder, Landmarks]:
        sql = places_sql()
        async with self.connect() as conn:
            towns = await conn.fetch(TOWNS_SQL)
            points = await conn.fetch(POINTS_SQL)
            places = await conn.fetch(sql) if sql else []
        triple = reference_from_rows(towns, points, self.data_dir)
        landmarks = Landmarks([Place(**dict(r)) for r in places])
        return await asyncio.to_thread(Geocoder, *triple), landmarks

    async def stop(self) -> None:
        """Cancel a rebuild in progress."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
