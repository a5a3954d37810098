#!/usr/bin/env python3
"""Sensor ingest under a burst: every unique reading stored exactly once, also across a PostgreSQL restart.

    .venv/bin/python bench/sensors_burst.py [--sensors 500] [--readings 20] [--batch 50] [--clients 8]
                                            [--duplicates 0.1] [--lost 0.05] [--workers 2] [--outage 3]
                                            [--restart-at 0.3] [--only plain|restart]

`--sensors` generated Things (bench/sensors.py's `things`, imported through the importer) each send `--readings`
water readings 10 minutes apart, ending now. The readings are shuffled (so they arrive out of order), 10 % are sent
a second time in another batch (duplicates), and 5 % of the batches are sent twice as if their answer had been lost
(retries). `--clients` threads post batches of `--batch` to `gis serve --workers N` through the simulator's client
(gis/sensors/poster.py: retry with backoff on connection errors and 5xx until an answer comes).

  plain     the burst as it is
  restart   the same, with PostgreSQL stopped (`pg_ctl stop -m fast`) once `--restart-at` of the batches are
            answered and started again `--outage` seconds later; the clients retry until they get an answer

Checked after each: the set of (datastream, phenomenon_time) stored equals the set sent (nothing lost, nothing
extra), the row count equals the unique readings (nothing duplicated), every stored result is the one sent, and
every sensor's last_seen is its newest reading. The database is a private embedded cluster under
bench/.work/sensors-burst. Never run it next to other benchmarks or test runs. Writes bench/results-sensors-burst.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench import sensors as api_bench  # noqa: E402
from gis.sensors.poster import GaveUp, Poster, Refused  # noqa: E402

WORK = REPO / "bench" / ".work" / "sensors-burst"
OUT = REPO / "bench" / "results-sensors-burst.md"
RESET_SQL = """
TRUNCATE sensor_observations, sensor_events;
UPDATE sensor_state SET state = 'dry', since = NULL, wet_since = NULL, last_seen = NULL, level_cm = NULL,
  battery_v = NULL, rssi = NULL, silent = false;
"""
STORED_SQL = """
SELECT d.sensor_id, d.kind, o.phenomenon_time, o.result
FROM sensor_observations o JOIN sensor_datastreams d ON d.id = o.datastream_id
"""
LAST_SEEN_SQL = "SELECT sensor_id, last_seen FROM sensor_state"


def streams(url: str) -> list[tuple[str, str]]:
    """(sensor_id, kind) of every water datastream (wet for float switches, depth for step sensors)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT sensor_id, kind FROM sensor_datastreams WHERE kind IN ('wet', 'depth') ORDER BY sensor_id"
        ).fetchall()


def readings(water: list[tuple[str, str]], per_sensor: int, seed: int = 41206) -> list[dict[str, Any]]:
    """`per_sensor` unique readings of each water datastream, 10 minutes apart and ending now."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    out = []
    for sensor_id, kind in water:
        second = rng.randrange(60)
        for j in range(per_sensor):
            at = now - timedelta(minutes=10 * (per_sensor - j), seconds=-second)
            value = rng.choice((0, 1)) if kind == "wet" else rng.choice((0, 10, 20, 30))
            out.append({"sensor_id": sensor_id, "datastream": kind, "phenomenon_time": at.isoformat(), "result": value})
    return out


def batches(unique: list[dict[str, Any]], size: int, duplicates: float, seed: int = 7) -> list[list[dict[str, Any]]]:
    """The readings shuffled into batches, a `duplicates` share of them a second time (in another batch)."""
    rng = random.Random(seed)
    sent = unique + rng.sample(unique, round(len(unique) * duplicates))
    rng.shuffle(sent)
    return [sent[k : k + size] for k in range(0, len(sent), size)]


@dataclass
class Burst:
    """What the clients sent and what the service answered."""

    batches: int = 0
    requests: int = 0
    retries: int = 0
    lost: int = 0
    posted: int = 0
    stored: int = 0
    duplicates: int = 0
    failures: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    slowest: float = 0.0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def burst(
    base: str,
    token: str,
    work: list[list[dict[str, Any]]],
    clients: int,
    lost: float,
    *,
    on_progress: Callable[[int], None] | None = None,
    give_up_after: float = 300.0,
) -> Burst:
    """Post every batch from `clients` threads (each with its own retrying client); `lost` share sent twice."""
    b = Burst()
    queue = list(enumerate(work))
    rng = random.Random(5)
    twice = {i for i, _ in queue if rng.random() < lost}
    take = threading.Lock()
    started = time.monotonic()

    def client() -> None:
        with Poster(base, token, give_up_after=give_up_after) as p:
            while True:
                with take:
                    if not queue:
                        break
                    i, batch = queue.pop(0)
                t = time.monotonic()
                answers = []
                try:
                    for _ in range(2 if i in twice else 1):  # a lost answer: the client sends the batch again
                        answers.append(p.post(batch))
                except (Refused, GaveUp) as e:
                    with b.lock:
                        b.errors.append(e.description)
                    continue
                with b.lock:
                    b.batches += 1
                    b.lost += len(answers) - 1
                    b.slowest = max(b.slowest, time.monotonic() - t)
                    for a in answers:
                        b.posted += a["received"]
                        b.stored += a["stored"]
                        b.duplicates += a["duplicates"]
                    done = b.batches
                if on_progress:
                    on_progress(done)
            with b.lock:
                b.requests += p.tally.requests
                b.retries += p.tally.retries
                b.failures.update(p.tally.kinds or {})

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.seconds = time.monotonic() - started
    return b


def verify(url: str, unique: list[dict[str, Any]]) -> dict[str, Any]:
    """Stored against sent: lost, extra, duplicated rows, wrong results, wrong last_seen."""
    sent = {
        (r["sensor_id"], r["datastream"], datetime.fromisoformat(r["phenomenon_time"])): r["result"] for r in unique
    }
    with psycopg.connect(url) as conn:
        rows = conn.execute(STORED_SQL).fetchall()
        seen = dict(conn.execute(LAST_SEEN_SQL).fetchall())
    stored = {(s, k, t): v for s, k, t, v in rows}
    newest: dict[str, datetime] = {}
    for s, _, t in sent:
        newest[s] = max(newest.get(s, t), t)
    return {
        "sent": len(sent),
        "rows": len(rows),
        "lost": len(sent.keys() - stored.keys()),
        "extra": len(stored.keys() - sent.keys()),
        "duplicated": len(rows) - len(stored),
        "wrong_result": sum(1 for k, v in sent.items() if k in stored and stored[k] != v),
        "wrong_last_seen": sum(1 for s, t in newest.items() if seen.get(s) != t),
    }


def reset(url: str) -> None:
    """No observations, events or states: each scenario starts from the same empty store."""
    with psycopg.connect(url) as conn:
        conn.execute(RESET_SQL)


class Restart:
    """Stops PostgreSQL once `at` batches are answered (in the client thread that answered the `at`-th, so the
    stop always lands inside the burst) and starts it `outage` seconds later from a thread of its own."""

    def __init__(self, emb: Any, at: int, outage: float) -> None:
        self.emb, self.at, self.outage = emb, at, outage
        self.thread: threading.Thread | None = None
        self.times: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, done: int) -> None:
        with self.lock:
            if done < self.at or self.thread is not None:
                return
            t = time.monotonic()
            self.emb.stop()
            self.times["stop"] = time.monotonic() - t
            self.thread = threading.Thread(target=self.start)
            self.thread.start()

    def start(self) -> None:
        time.sleep(self.outage)
        t = time.monotonic()
        self.emb.start()
        self.times["start"] = time.monotonic() - t

    def join(self) -> None:
        """Wait for the restart to finish (the burst may end before the database is back)."""
        if self.thread:
            self.thread.join()


def ok(check: dict[str, Any], b: Burst, *, outage: bool = False) -> bool:
    """Zero lost, zero extra, zero duplicated, results and states right, no batch given up; with an outage, the
    clients must have met it (failed attempts), or the restart missed the burst and proved nothing."""
    wrong = ("lost", "extra", "duplicated", "wrong_result", "wrong_last_seen")
    met = b.retries > 0 or not outage
    return met and check["rows"] == check["sent"] and not b.errors and not any(check[k] for k in wrong)


def row(name: str, b: Burst, check: dict[str, Any], note: str = "", *, outage: bool = False) -> str:
    failures = ", ".join(f"{k} ×{n}" for k, n in b.failures.most_common()) or "none"
    return (
        f"| {name} | {b.batches} | {b.posted:,} | {check['sent']:,} | {check['rows']:,} | {check['lost']} | "
        f"{check['duplicated']} | {check['extra']} | {check['wrong_result']} | {check['wrong_last_seen']} | "
        f"{b.stored:,} / {b.duplicates:,} | {b.lost} | {b.retries} ({failures}) | {b.seconds:.1f} | "
        f"{b.slowest:.1f} | {'pass' if ok(check, b, outage=outage) else 'FAIL'}{note} |"
    )


def main() -> None:
    """Prepare, serve, burst (plain and with a restart), verify, write."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sensors", type=int, default=500)
    ap.add_argument("--readings", type=int, default=20)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duplicates", type=float, default=0.1)
    ap.add_argument("--lost", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--outage", type=float, default=3.0)
    ap.add_argument("--restart-at", type=float, default=0.3)
    ap.add_argument("--only", choices=("plain", "restart"))
    ap.add_argument("--port", type=int, default=8773)
    a = ap.parse_args()
    from gis.db.embedded import EmbeddedPostgres
    from gis.db.tokens import create_token

    WORK.mkdir(parents=True, exist_ok=True)
    api_bench.WORK = WORK  # its helpers write their sensor file and server log here, not in the API bench's dir
    started = datetime.now(UTC).isoformat(timespec="seconds")
    emb = EmbeddedPostgres(root=WORK, preferred_port=55436)
    emb.start()
    url = emb.url()
    api_bench.things(url, a.sensors)
    water = streams(url)
    with psycopg.connect(url) as conn:
        token = create_token(conn, "bench sensors burst", "device")
    proc = api_bench.serve(url, emb.public_password, a.port, a.workers)
    base = f"http://127.0.0.1:{a.port}"
    lines = []
    try:
        for scenario in ("plain", "restart"):
            if a.only and a.only != scenario:
                continue
            reset(url)
            unique = readings(water, a.readings)
            work = batches(unique, a.batch, a.duplicates)
            restart = Restart(emb, max(1, round(len(work) * a.restart_at)), a.outage) if scenario == "restart" else None
            b = burst(base, token, work, a.clients, a.lost, on_progress=restart)
            note = ""
            if restart:
                restart.join()
                note = (
                    f"; stopped after {restart.at} of {len(work)} batches (stop {restart.times.get('stop', 0):.1f} s), "
                    f"down {a.outage:g} s, start {restart.times.get('start', 0):.1f} s"
                )
            check = verify(url, unique)
            print(scenario, check, b.failures, b.errors[:3], flush=True)
            lines.append(row(scenario, b, check, note, outage=restart is not None))
    finally:
        api_bench.stop(proc)
        emb.stop()
    head = [
        "# bench: sensor ingest under a burst, and across a PostgreSQL restart",
        "",
        f"Run {started} on this machine (2 cores shared by the clients, the server and PostgreSQL): "
        f"`{' '.join(sys.argv)}`, `gis serve --workers {a.workers}`.",
        f"{a.sensors} sensors × {a.readings} water readings = {a.sensors * a.readings:,} unique readings, shuffled, "
        f"{a.duplicates:.0%} sent twice, in batches of {a.batch} from {a.clients} client threads; "
        f"{a.lost:.0%} of the batches sent again as if their answer was lost. Clients retry connection errors and "
        "5xx with backoff (0.2 s doubling, at most 5 s) until they get an answer.",
        "",
        "| scenario | batches | readings posted | unique sent | rows stored | lost | duplicated | extra | "
        "wrong result | wrong last_seen | answers: stored / duplicates | answers lost (resent) | "
        "retries (failed attempts) | s | slowest batch s | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
        *lines,
        "",
        "`lost`/`extra`: (datastream, phenomenon_time) sent but not stored / stored but never sent; `duplicated`: rows "
        "minus distinct keys; `wrong last_seen`: sensors whose state's last_seen is not their newest reading. The "
        "answers' `stored` can be below the unique count when a batch was committed but its answer lost in the "
        "restart: its retry is answered as duplicates, and the database still holds each reading once. Failed "
        "attempts by status: 503 is the service's answer while the database is away; a 500 is a defect of the "
        f"service (its traceback is in {WORK.relative_to(REPO)}/serve.log), retried like a 503.",
    ]
    text = "\n".join(head) + "\n"
    print(text)
    OUT.write_text(text)


if __name__ == "__main__":
    main()
