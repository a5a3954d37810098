"""The one cache: bounded in real bytes, keyed by structures that cannot collide, tagged with layer versions.

Every finished thing the service keeps (response bodies, tiles, collection metadata, map pages, the geocoder) lives
here. A key is a tuple whose first element names its partition (`response`, `tile`, `meta`); each partition has its
own byte budget and LRU order. Keys are compared as tuples, never concatenated into strings, so no request value can
make two different questions share an entry. Each entry records the layer versions it was built from: a newer
version of any of them drops it, and an entry built from a version older than the newest one known is not kept.
`get_or_build` merges concurrent misses: N simultaneous requests for one key run one build.

Used from one event loop per process (no locks: nothing between a read and a write awaits).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
Key = tuple[Hashable, ...]
Tag = tuple[tuple[str, int], ...]  # (layer id, version) pairs an entry was built from

# What an entry costs besides its payload: the OrderedDict slot, the entry object, the key tuple and the tag
# (measured with tracemalloc on 100,000 tile entries: 350-420 bytes each; rounded up).
ENTRY_OVERHEAD = 512
PARTITIONS = ("response", "tile", "meta")


@dataclass(frozen=True, slots=True)
class Cached:
    """A finished response body with its media type and extra headers."""

    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def nbytes(self) -> int:
        """Bytes held (body plus headers)."""
        return sys.getsizeof(self.body) + sum(len(k) + len(v) + 100 for k, v in self.headers)


@dataclass(slots=True)
class _Entry:
    value: Any
    cost: int
    tag: Tag


@dataclass
class _Partition:
    max_bytes: int
    size: int = 0
    hits: int = 0
    misses: int = 0
    items: OrderedDict[Key, _Entry] = field(default_factory=OrderedDict)


def size_of(value: Any) -> int:
    """Bytes a cached value holds: `nbytes` when it has one, the buffer size of bytes; else an error."""
    if isinstance(value, bytes | bytearray | memoryview):
        return sys.getsizeof(value)
    nbytes = getattr(value, "nbytes", None)
    if nbytes is None:
        raise TypeError(f"cannot size a {type(value).__name__}: pass cost=")
    return int(nbytes)


def _key_cost(key: Key) -> int:
    return sum(sys.getsizeof(part) for part in key) + sys.getsizeof(key)


class Cache:
    """Partitioned, byte-bounded LRU with version tags and merged concurrent misses."""

    def __init__(self, budgets: Mapping[str, int]) -> None:
        self._parts = {name: _Partition(max(0, int(budgets.get(name, 0)))) for name in PARTITIONS}
        self._by_layer: dict[str, set[Key]] = {}
        self._known: dict[str, int] = {}
        self._inflight: dict[Key, asyncio.Future[Any]] = {}
        self.builds = 0
        self.merged = 0
        self.dropped = 0

    # -- versions --------------------------------------------------------------------------------
    def set_version(self, layer_id: str, version: int) -> None:
        """Record a layer's newest version and drop every entry built from an older one."""
        if self._known.get(layer_id) == version:
            return
        self._known[layer_id] = version
        for key in list(self._by_layer.get(layer_id, ())):
            part = self._parts[key[0]]
            entry = part.items.get(key)
            if entry is not None and dict(entry.tag).get(layer_id) != version:
                self._remove(key)
                self.dropped += 1

    def sync(self, versions: Mapping[str, int]) -> None:
        """set_version for every layer of a mapping (after a reconnect, every version is re-read)."""
        for layer_id, version in versions.items():
            self.set_version(layer_id, version)

    def clock(self, name: str, bucket: int) -> tuple[str, int]:
        """A tag pair for answers valid during one time bucket of `name`; entries of older buckets are dropped."""
        clock = f"{name}@clock"
        if bucket > self._known.get(clock, -1):
            self.set_version(clock, bucket)
        return clock, bucket

    def _stale(self, tag: Tag) -> bool:
        return any(v < self._known.get(lid, v) for lid, v in tag)

    # -- entries ---------------------------------------------------------------------------------
    def _part(self, key: Key) -> _Partition:
        try:
            return self._parts[key[0]]  # type: ignore[index]
        except (KeyError, IndexError):
            raise KeyError(f"cache key must start with one of {PARTITIONS}: {key[:1]}") from None

    def get(self, key: Key) -> Any | None:
        """The cached value, marked recently used, or None."""
        part = self._part(key)
        entry = part.items.get(key)
        if entry is None or self._stale(entry.tag):
            part.misses += 1
            return None
        part.items.move_to_end(key)
        part.hits += 1
        return entry.value

    def put(self, key: Key, value: Any, *, tag: Tag = (), cost: int | None = None) -> bool:
        """Keep a value; not kept when larger than a quarter of its partition or built from an old version."""
        part = self._part(key)
        total = (size_of(value) if cost is None else cost) + _key_cost(key) + ENTRY_OVERHEAD
        if total > part.max_bytes // 4 or self._stale(tag):
            return False
        self._remove(key)
        part.items[key] = _Entry(value, total, tag)
        part.size += total
        for layer_id, _ in tag:
            self._by_layer.setdefault(layer_id, set()).add(key)
        while part.size > part.max_bytes and part.items:
            self._remove(next(iter(part.items)))
        return True

    def _remove(self, key: Key) -> None:
        part = self._parts[key[0]]
        entry = part.items.pop(key, None)
        if entry is None:
            return
        part.size -= entry.cost
        for layer_id, _ in entry.tag:
            keys = self._by_layer.get(layer_id)
            if keys is not None:
                keys.discard(key)

    async def get_or_build(
        self,
        key: Key,
        build: Callable[[], Awaitable[T]],
        *,
        tag: Tag = (),
        cost: Callable[[T], int] | None = None,
    ) -> T:
        """The cached value, or one build shared by every concurrent caller of the same key.

        The build runs as its own task, so a caller that goes away (a closed connection) does not cancel it for
        the others; its exception reaches every waiter and nothing is kept.
        """
        hit = self.get(key)
        if hit is not None:
            return hit
        pending = self._inflight.get(key)
        if pending is not None:
            self.merged += 1
            return await asyncio.shield(pending)
        self.builds += 1
        task = asyncio.ensure_future(build())
        self._inflight[key] = task

        def done(t: asyncio.Future[Any]) -> None:
            self._inflight.pop(key, None)
            if not t.cancelled() and t.exception() is None:
                value = t.result()
                with contextlib.suppress(TypeError):  # a value of unknown size is returned, not kept
                    self.put(key, value, tag=tag, cost=cost(value) if cost else None)

        task.add_done_callback(done)
        return await asyncio.shield(task)

    # -- introspection ---------------------------------------------------------------------------
    def clear(self, partitions: Iterable[str] = PARTITIONS) -> None:
        """Forget every entry of these partitions."""
        for name in partitions:
            for key in list(self._parts[name].items):
                self._remove(key)

    def stats(self) -> dict[str, Any]:
        """Entries, bytes, bound, hits and misses per partition; builds, merged misses and version drops."""
        return {
            "partitions": {
                name: {
                    "entries": len(p.items),
                    "bytes": p.size,
                    "max_bytes": p.max_bytes,
                    "hits": p.hits,
                    "misses": p.misses,
                }
                for name, p in self._parts.items()
            },
            "builds": self.builds,
            "merged": self.merged,
            "dropped": self.dropped,
        }

    @property
    def bytes(self) -> int:
        """Bytes held across partitions."""
        return sum(p.size for p in self._parts.values())

    @property
    def max_bytes(self) -> int:
        """The sum of the partition budgets."""
        return sum(p.max_bytes for p in self._parts.values())
