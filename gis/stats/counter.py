"""The in-memory counts of one worker: a dict increment per key on the hot path, taken whole by the flusher.

Everything runs on the worker's event loop, so there is no lock: `take` swaps the dict in one step, `restore`
merges a failed flush back. Memory is bounded: at most `max_keys` pending (day, kind, key) entries, and at most
`max_per_kind` distinct keys of one kind per day and flush round (more fold into 'other'). When the bound is hit
during a long database outage, increments of keys already pending still count; a key not yet pending is dropped and
counted as (day, 'dropped', its kind), so staff see how much was lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from gis.stats.keys import OTHER

JST = timezone(timedelta(hours=9), "JST")  # Japan has no daylight saving time
Key = tuple[date, str, str]


class AccessCounts:
    """Pending counts per (JST day, kind, key)."""

    def __init__(self, max_keys: int = 20_000, max_per_kind: int = 2_000, clock: Callable[[], float] = time.time):
        self.max_keys = max_keys
        self.max_per_kind = max_per_kind
        self.clock = clock  # seconds since the epoch (tests set it)
        self.pending: dict[Key, int] = {}
        self._distinct: dict[tuple[date, str], int] = {}
        self._day = date.min
        self._start = self._end = 0.0

    def today(self) -> date:
        """The JST day of now (recomputed only when the clock leaves the current day)."""
        now = self.clock()
        if not self._start <= now < self._end:
            midnight = datetime.fromtimestamp(now, JST).replace(hour=0, minute=0, second=0, microsecond=0)
            self._day, self._start = midnight.date(), midnight.timestamp()
            self._end = self._start + 86400
        return self._day

    def add(self, day: date, kind: str, key: str, n: int = 1) -> None:
        """Count n for (day, kind, key)."""
        k = (day, kind, key)
        pending = self.pending
        if k in pending:
            pending[k] += n
            return
        if kind == "dropped":  # one entry per day and kind at most: never refused
            pending[k] = n
            return
        per = (day, kind)
        if self._distinct.get(per, 0) >= self.max_per_kind and key != OTHER:
            self.add(day, kind, OTHER, n)
            return
        if len(pending) >= self.max_keys:
            self.add(day, "dropped", kind, n)
            return
        pending[k] = n
        self._distinct[per] = self._distinct.get(per, 0) + 1

    def take(self) -> dict[Key, int]:
        """Everything pending, leaving nothing (what a flush writes)."""
        pending, self.pending = self.pending, {}
        self._distinct = {}
        return pending

    def restore(self, counts: dict[Key, int]) -> None:
        """Put a failed flush's counts back (within the same bounds)."""
        for (day, kind, key), n in counts.items():
            self.add(day, kind, key, n)

    def total(self) -> int:
        """The sum of what is pending."""
        return sum(self.pending.values())
