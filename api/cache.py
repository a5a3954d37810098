"""An in-process LRU of finished responses, bounded in bytes; keys include the layer version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Cached:
    """A finished response body with its media type and extra headers."""

    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()


class ByteLRU:
    """Least-recently-used cache whose bound is the total size of the bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Cached | None:
        """The cached entry, marked recently used, or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: str, item: Cached) -> None:
        """Store an entry (entries larger than a quarter of the bound are not kept)."""
        n = len(item.body)
        if n > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._items[key] = item
            self.size += n
            while self.size > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self.size -= len(evicted.body)

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses."""
        return {"entries": len(self._items), "bytes": self.size, "hits": self.hits, "misses": self.misses}
