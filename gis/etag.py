"""Strong ETags from layer versions and a structured request key, and If-None-Match matching."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Hashable


def make_etag(layer_id: str, version: int, key: tuple[Hashable, ...]) -> str:
    """Strong ETag: changes with the layer version and with the request (the key is JSON-encoded: unambiguous)."""
    text = json.dumps([layer_id, version, key], ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    return f'"{version}-{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """True when an If-None-Match header names this ETag (or *); weak comparison, as RFC 9110 asks for GET."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def live_bucket(seconds: int, now: float | None = None) -> tuple[int, int]:
    """(bucket, seconds left in it): answers of live data are keyed on the bucket, so none is older than `seconds`."""
    now = time.time() if now is None else now
    seconds = max(1, int(seconds))
    return int(now // seconds), max(1, seconds - int(now % seconds))
