"""The process's long-lived objects out of the garbage collector's sight.

A worker holds hundreds of thousands of objects for its whole life (layer declarations, the geocoder's indexes,
dictionaries). Python's full collections walk all of them: under load that was a pause of a few hundred ms every few
seconds, the p99 of an uncached tile 242 ms instead of 57 (bench/results-speed-profile.md, "tail"). Freezing them
after start-up, and again after a rebuild replaces them, keeps the collector on the short-lived objects of requests.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect once (the previous frozen objects included), then freeze everything alive now."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
