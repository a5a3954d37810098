"""The tile cache: an in-process LRU of tile bytes, bounded in bytes, emptied per layer when the layer changes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

# What an entry costs besides its bytes (key, tuple, dict slots): counted so that many empty tiles stay bounded too.
ENTRY_OVERHEAD = 200


@dataclass(frozen=True)
class TileEntry:
    """Tile bytes (b'' for an empty tile) and the layers they were built from."""

    body: bytes
    layers: tuple[str, ...]

    @property
    def cost(self) -> int:
        """Bytes charged against the bound."""
        return len(self.body) + ENTRY_OVERHEAD


class TileCache:
    """LRU of tiles keyed by (layers, versions, z, x, y, encoding); a version change drops that layer's tiles.

    One per worker process, used from its event loop only (no lock needed: nothing here awaits).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.dropped = 0
        self._items: OrderedDict[str, TileEntry] = OrderedDict()
        self._by_layer: dict[str, set[str]] = {}
        self._seen: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        """False when the bound is 0 (every tile is built by PostgreSQL)."""
        return self.max_bytes > 0

    def sync(self, versions: Mapping[str, int]) -> None:
        """Drop the tiles of every layer whose version changed since the last call (LISTEN/NOTIFY updates it)."""
        for layer_id, version in versions.items():
            seen = self._seen.get(layer_id)
            if seen != version:
                self._seen[layer_id] = version
                if seen is not None:
                    self.drop_layer(layer_id)

    def drop_layer(self, layer_id: str) -> int:
        """Forget every tile built from this layer (combined tiles included); returns how many."""
        keys = self._by_layer.pop(layer_id, set())
        for key in keys:
            self._remove(key)
        self.dropped += len(keys)
        return len(keys)

    def get(self, key: str) -> bytes | None:
        """The cached bytes, marked recently used, or None."""
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item.body

    def put(self, key: str, body: bytes, layers: tuple[str, ...], versions: tuple[int, ...]) -> None:
        """Store a tile built from these layer versions, evicting the least recently used.

        Not kept: a tile larger than a quarter of the bound, or one whose layer changed while it was being built
        (it could never be asked for again and would only take room).
        """
        entry = TileEntry(body, layers)
        if entry.cost > self.max_bytes // 4:
            return
        if any(self._seen.get(lid, v) != v for lid, v in zip(layers, versions, strict=True)):
            return
        self._remove(key)
        self._items[key] = entry
        self.size += entry.cost
        for layer_id in layers:
            self._by_layer.setdefault(layer_id, set()).add(key)
        while self.size > self.max_bytes and self._items:
            self._remove(next(iter(self._items)))

    def _remove(self, key: str) -> None:
        entry = self._items.pop(key, None)
        if entry is None:
            return
        self.size -= entry.cost
        for layer_id in entry.layers:
            keys = self._by_layer.get(layer_id)
            if keys is not None:
                keys.discard(key)

    def stats(self) -> dict[str, int]:
        """Entries, bytes, bound, hits, misses and tiles dropped by version changes."""
        return {
            "entries": len(self._items),
            "bytes": self.size,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "dropped": self.dropped,
        }
