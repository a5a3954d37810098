"""A device-side client of `POST /sensors/observations`: retry with backoff on connection errors and 5xx.

Ingest is idempotent on (datastream, phenomenon time), so resending a batch whose answer was lost is always safe:
the server stores what it has not got and counts the rest as duplicates. A 4xx is the batch's own fault and is
never retried. Used by `gis sensors simulate` and the burst bench (bench/sensors_burst.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gis.errors import GisError

OBSERVATIONS = "/sensors/observations"


class Refused(GisError):
    """The service refused a batch (4xx): retrying the same body cannot help."""


class GaveUp(GisError):
    """The service stayed unreachable or failing for longer than the client was willing to wait."""

    status = 503
    code = "ServiceUnavailable"


@dataclass
class Tally:
    """What a poster did: requests sent, retries, failures seen (transport errors and 5xx) and their kinds."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    kinds: dict[str, int] | None = None

    def saw(self, kind: str) -> None:
        """Count a failed attempt of this kind (e.g. ConnectError, 503)."""
        self.failures += 1
        self.kinds = self.kinds or {}
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


class Poster:
    """Posts batches of readings as one device token; one poster per thread (an httpx.Client is not shared)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        give_up_after: float = 300.0,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )
        self.give_up_after = give_up_after
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.tally = Tally()
        self.rng = random.Random()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait(self, attempt: int) -> None:
        """Exponential backoff with jitter: 0.2 s, 0.4 s, 0.8 s … at most max_backoff."""
        delay = min(self.max_backoff, self.backoff * 2**attempt)
        self.sleep(delay * self.rng.uniform(0.5, 1.0))

    def post(self, observations: list[dict[str, Any]]) -> dict[str, Any]:
        """The server's answer {received, stored, duplicates, events}, retrying until it comes or time runs out."""
        started = time.monotonic()
        attempt = 0
        while True:
            self.tally.requests += 1
            try:
                r = self.client.post(OBSERVATIONS, json={"observations": observations})
            except httpx.TransportError as e:
                failure = type(e).__name__
            else:
                if r.status_code == 200:
                    return r.json()
                if r.status_code < 500:
                    raise Refused(_description(r), code="Refused", status=r.status_code)
                failure = str(r.status_code)
            self.tally.saw(failure)
            if time.monotonic() - started > self.give_up_after:
                raise GaveUp(f"no answer after {attempt + 1} attempts in {self.give_up_after:g} s (last: {failure})")
            self.wait(attempt)
            attempt += 1
            self.tally.retries += 1


def _description(r: httpx.Response) -> str:
    try:
        return f"{r.status_code} {r.json().get('description', '')}"[:300]
    except ValueError:
        return f"{r.status_code} {r.text[:200]}"
