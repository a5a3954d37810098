"""The service's one gzip setting, shared by the response middleware, cached pages and tiles.

Level 4, not Python's 9: a page of 1,000 farmland parcels (397 KB) takes 21.9 ms of CPU at level 9 and 5.7 ms at
level 4 for a body 5 % larger (bench/results-speed-profile.md, "gzip").
"""

from __future__ import annotations

import gzip

GZIP_LEVEL = 4
MIN_BYTES = 1024  # smaller bodies go out as they are: the gzip header and the CPU are not worth it


def pack(body: bytes) -> bytes:
    """The body gzipped at the service's level, reproducibly (no timestamp)."""
    return gzip.compress(body, GZIP_LEVEL, mtime=0)
