"""`gis sensors simulate`: realistic readings from the registered sensors, posted to a running service.

The sensors come from GET /sensors (nothing is created). Each reports like a one-coin inundation sensor: a message
(water, battery, RSSI) on its heartbeat, at once when the water changes, and every `wet_every` minutes while wet.
A rain event floods the sensors nearest a centre (a random sensor); K sensors fall silent part way. The transport
misbehaves on purpose: repeated readings, answers lost and the batch retried, late (out-of-order) readings. Ingest
is idempotent, so the server stores each reading once; the summary says what it stored and what it reported.

Time: the simulated clock runs `speed` times faster than the real one and ends at the real time the run ends, so it
is never ahead of the server's clock (nothing beyond the ingest window's future limit). `speed` 60 is one simulated
minute per real second; 0 is as fast as the service answers, every reading back-dated into the last `minutes`.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gis.errors import InvalidParameter
from gis.sensors.events import jst
from gis.sensors.poster import GaveUp, Poster, Refused
from gis.sensors.rules import DEFAULT_HEARTBEAT, float_level_cm

MAX_MINUTES = 7 * 24 * 60  # well inside the ingest window's past limit (30 days by default)
STEP_SENSOR = re.compile(r"段階|depth|step", re.IGNORECASE)  # the datastream trigger of migration 0006 says the same


@dataclass(frozen=True)
class Options:
    """What to simulate: `minutes` of readings from the first `sensors` sensors (all when None)."""

    minutes: int = 120
    sensors: int | None = None
    rain: tuple[float, float] | None = None  # (start, duration) in simulated minutes
    rain_fraction: float = 0.3
    silent: int = 0
    duplicates: float = 0.0
    out_of_order: float = 0.0
    lost_answers: float = 0.02
    speed: float = 60.0
    seed: int | None = None
    wet_every: int = 5
    batch: int = 1000

    def check(self) -> None:
        """400-style errors naming the option."""
        if not 1 <= self.minutes <= MAX_MINUTES:
            raise InvalidParameter(f"--minutes: 1 to {MAX_MINUTES} (got {self.minutes})")
        if self.sensors is not None and self.sensors < 1:
            raise InvalidParameter("--sensors: at least 1")
        for name in ("rain_fraction", "duplicates", "out_of_order", "lost_answers"):
            if not 0 <= getattr(self, name) <= 1:
                raise InvalidParameter(f"--{name.replace('_', '-')}: a fraction between 0 and 1")
        if self.speed != 0 and self.speed < 1:
            raise InvalidParameter("--speed: 0 (as fast as possible) or at least 1 (the clock never runs ahead)")
        if self.silent < 0 or not 1 <= self.batch <= 1000 or self.wet_every < 1:
            raise InvalidParameter("--silent ≥ 0, --batch 1–1000, --wet-every ≥ 1")
        if self.rain and (self.rain[0] < 0 or self.rain[1] <= 0):
            raise InvalidParameter("--rain-event: START_MIN:DURATION_MIN, start ≥ 0 and duration > 0")


def rain_event(text: str | None) -> tuple[float, float] | None:
    """'30:90' → (30.0, 90.0)."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*", text)
    if not m:
        raise InvalidParameter(f"--rain-event: START_MIN:DURATION_MIN, e.g. 30:90 (got '{text[:40]}')")
    return float(m.group(1)), float(m.group(2))


@dataclass(frozen=True)
class Sensor:
    """A registered sensor as GET /sensors serves it, and how it reads water."""

    sensor_id: str
    kind: str  # 'wet' (float switch) or 'depth' (step sensor)
    wet_cm: int  # the water depth at which it reads wet: its float's level, 10 for a step sensor
    max_cm: int  # the highest step it reports
    heartbeat: int
    lon: float
    lat: float

    @classmethod
    def of(cls, feature: dict[str, Any]) -> Sensor:
        """From one feature of GET /sensors."""
        p = feature["properties"]
        kind_text = p.get("sensor_type") or ""
        lon, lat = feature["geometry"]["coordinates"][:2]
        heartbeat = p.get("heartbeat_minutes") or DEFAULT_HEARTBEAT
        if STEP_SENSOR.search(kind_text):
            steps = [int(n) for n in re.findall(r"\d+", kind_text) if int(n) in (10, 20, 30, 40)]
            return cls(p["sensor_id"], "depth", 10, max(steps, default=30), heartbeat, lon, lat)
        return cls(p["sensor_id"], "wet", float_level_cm(kind_text) or 10, 40, heartbeat, lon, lat)

    def reading(self, depth_cm: float) -> float:
        """What it reports for this water depth: 1/0, or the step in cm."""
        if self.kind == "wet":
            return 1.0 if depth_cm >= self.wet_cm else 0.0
        return float(min(self.max_cm, 10 * math.floor(depth_cm / 10))) if depth_cm >= 10 else 0.0


@dataclass(frozen=True)
class Flood:
    """The water at one sensor during the rain event: up to `peak_cm`, held while it rains, then receding."""

    onset: float
    peak_cm: float
    rise: float
    end: float
    recede: float = 45.0

    def depth(self, minute: float) -> float:
        """Water depth in cm at a simulated minute."""
        if minute < self.onset:
            return 0.0
        if minute < self.onset + self.rise:
            return self.peak_cm * (minute - self.onset) / self.rise
        if minute <= self.end:
            return self.peak_cm
        return max(0.0, self.peak_cm * (1 - (minute - self.end) / self.recede))


@dataclass
class Plan:
    """Who floods (and how deep), who falls silent when, and every message each sensor sends."""

    sensors: list[Sensor]
    floods: dict[str, Flood]
    silent_at: dict[str, int]
    opts: Options
    rng: random.Random

    @classmethod
    def make(cls, sensors: list[Sensor], opts: Options) -> Plan:
        """Choose the flooded and the silent sensors (reproducible with a seed)."""
        rng = random.Random(opts.seed)
        floods: dict[str, Flood] = {}
        if opts.rain and sensors:
            centre = rng.choice(sensors)
            k = max(1, round(len(sensors) * opts.rain_fraction))
            near = sorted(sensors, key=lambda s: _km(s, centre))[:k]
            start, duration = opts.rain
            for rank, s in enumerate(near):
                share = rank / max(1, k - 1)
                floods[s.sensor_id] = Flood(
                    onset=start + 10 * share, peak_cm=50 - 35 * share, rise=min(30, duration / 2), end=start + duration
                )
        dry = [s for s in sensors if s.sensor_id not in floods] or sensors
        chosen = rng.sample(dry, min(opts.silent, len(dry)))
        silent_at = {
            s.sensor_id: rng.randint(opts.minutes // 4, max(opts.minutes // 4, opts.minutes // 2)) for s in chosen
        }
        return cls(sensors, floods, silent_at, opts, rng)

    def depth(self, s: Sensor, minute: float) -> float:
        """The water at a sensor at a simulated minute."""
        flood = self.floods.get(s.sensor_id)
        return flood.depth(minute) if flood else 0.0

    def wet_minutes(self, s: Sensor) -> tuple[int, int] | None:
        """The first and last simulated minute it reads wet, before it falls silent; None when never."""
        last = min(self.opts.minutes, self.silent_at.get(s.sensor_id, self.opts.minutes))
        wet = [m for m in range(last) if s.reading(self.depth(s, m)) > 0]
        return (wet[0], wet[-1]) if wet else None

    def expect_flooded(self, wet_minutes: int) -> list[str]:
        """Sensors that read wet long enough (with a report after wet_minutes) to be flooded by the rules."""
        out = []
        for s in self.sensors:
            span = self.wet_minutes(s)
            if span and span[1] - span[0] >= wet_minutes + self.opts.wet_every:
                out.append(s.sensor_id)
        return out

    def messages(self, t0: datetime) -> list[tuple[int, list[dict[str, Any]]]]:
        """(simulated minute, readings) of every message, in time order: heartbeat, change, or wet_every."""
        out: list[tuple[int, list[dict[str, Any]]]] = []
        for s in self.sensors:
            rng = random.Random(self.rng.random())
            second = rng.randrange(60)
            battery, rssi = rng.uniform(3.0, 3.6), rng.uniform(-115, -70)
            first = rng.randrange(min(s.heartbeat, 10))
            last_at: int | None = None
            last_value: float | None = None
            sent = 0
            for m in range(first, min(self.opts.minutes, self.silent_at.get(s.sensor_id, self.opts.minutes))):
                value = s.reading(self.depth(s, m))
                since = m - last_at if last_at is not None else None
                due = since is None or since >= s.heartbeat or value != last_value
                if not due and not (value > 0 and since >= self.opts.wet_every):
                    continue
                at = (t0 + timedelta(minutes=m, seconds=second)).isoformat()
                volts = max(0.0, battery - 0.001 * sent + rng.gauss(0, 0.003))
                dbm = min(0, max(-150, round(rssi + rng.gauss(0, 3))))
                out.append(
                    (
                        m,
                        [
                            _obs(s.sensor_id, s.kind, at, value),
                            _obs(s.sensor_id, "battery", at, round(volts, 3)),
                            _obs(s.sensor_id, "rssi", at, dbm),
                        ],
                    )
                )
                last_at, last_value, sent = m, value, sent + 1
        out.sort(key=lambda x: x[0])
        return out


def _obs(sensor_id: str, datastream: str, at: str, result: float) -> dict[str, Any]:
    return {"sensor_id": sensor_id, "datastream": datastream, "phenomenon_time": at, "result": result}


def _km(a: Sensor, b: Sensor) -> float:
    dx = (a.lon - b.lon) * 111.32 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, (a.lat - b.lat) * 110.57)


@dataclass
class Summary:
    """What a run sent and what the service answered."""

    sensors: int = 0
    minutes: int = 0
    rain: list[str] = field(default_factory=list)
    flooded_expected: list[str] = field(default_factory=list)
    silent: dict[str, int] = field(default_factory=dict)
    unique: int = 0
    posted: int = 0
    stored: int = 0
    duplicates: int = 0
    events: Counter = field(default_factory=Counter)
    requests: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The summary for people (times in JST)."""
        events = ", ".join(f"{k} {n}" for k, n in sorted(self.events.items())) or "none"
        return [
            f"sensors {self.sensors}, {self.minutes} simulated minutes ({jst(self.first)} – {jst(self.last)} JST) "
            f"in {self.seconds:.1f} s",
            f"rain event: {len(self.rain)} sensors, {len(self.flooded_expected)} wet long enough to flood; "
            f"silent: {len(self.silent)}",
            f"readings: {self.unique} unique, {self.posted} posted (duplicates, retries and late ones included)",
            f"server: stored {self.stored}, duplicates {self.duplicates}; events: {events}",
            f"requests {self.requests}, retries {self.retries}, errors {len(self.errors)}",
            *(f"  error: {e}" for e in self.errors[:5]),
        ]


def fetch_sensors(base_url: str, limit: int | None) -> tuple[list[Sensor], dict]:
    """The first `limit` sensors of GET /sensors (in its order, by sensor_id) and the rules it serves."""
    try:
        r = httpx.get(base_url.rstrip("/") + "/sensors", timeout=30)
        r.raise_for_status()
    except httpx.HTTPError as e:
        raise GaveUp(f"GET /sensors at {base_url}: {type(e).__name__} {str(e)[:120]}") from None
    body = r.json()
    sensors = [Sensor.of(f) for f in body["features"]][:limit]
    if not sensors:
        raise InvalidParameter(f"{base_url}/sensors serves no sensors: import the inundation_sensors layer first")
    return sensors, body.get("rules", {})


def simulate(base_url: str, token: str, opts: Options, *, log: Callable[[str], None] | None = None) -> Summary:
    """Run the simulation against a service and summarise what it stored."""
    opts.check()
    sensors, rules = fetch_sensors(base_url, opts.sensors)
    plan = Plan.make(sensors, opts)
    wet_minutes = int(rules.get("wet_minutes", 10))
    start = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    back = opts.minutes if opts.speed == 0 else opts.minutes * (1 - 1 / opts.speed)
    t0 = now - timedelta(minutes=math.ceil(back) + 1)  # the last minute's readings lie before the run's end
    s = Summary(len(sensors), opts.minutes, sorted(plan.floods), plan.expect_flooded(wet_minutes), plan.silent_at)
    s.first, s.last = t0, t0 + timedelta(minutes=opts.minutes)
    msgs = plan.messages(t0)
    s.unique = sum(len(r) for _, r in msgs)
    with Poster(base_url, token) as p:
        try:
            _run(p, plan, msgs, s, start, log)
        finally:
            s.requests, s.retries = p.tally.requests, p.tally.retries + s.retries
    s.seconds = time.monotonic() - start
    return s


def _run(
    p: Poster,
    plan: Plan,
    msgs: list[tuple[int, list[dict[str, Any]]]],
    s: Summary,
    start: float,
    log: Callable[[str], None] | None,
) -> None:
    opts, rng = plan.opts, plan.rng
    late: dict[int, list[dict[str, Any]]] = {}
    again: list[dict[str, Any]] = []
    i = 0
    for minute in range(opts.minutes):
        if opts.speed:  # this minute's readings are sent once the simulated clock has passed it
            ahead = start + (minute + 1) * 60 / opts.speed - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        due, again = again + late.pop(minute, []), []
        while i < len(msgs) and msgs[i][0] == minute:
            readings = msgs[i][1]
            i += 1
            if rng.random() < opts.out_of_order:  # held back: arrives after newer readings of the same sensor
                late.setdefault(minute + rng.randint(2, 15), []).extend(readings)
            else:
                due.extend(readings)
        for r in list(due):
            if rng.random() < opts.duplicates:  # the device sends it twice: now or with the next batch
                (due if rng.random() < 0.5 else again).append(r)
        _batches(p, due, s, plan, log)
    rest = again + [r for m in sorted(late) for r in late[m]]  # the late ones still held back, at the end
    _batches(p, rest, s, plan, log)


def _batches(p: Poster, due: list[dict[str, Any]], s: Summary, plan: Plan, log: Callable[[str], None] | None) -> None:
    size = plan.opts.batch
    for k in range(0, len(due), size):
        _send(p, due[k : k + size], s, plan.rng.random() < plan.opts.lost_answers, log)


def _send(p: Poster, batch: list[dict[str, Any]], s: Summary, lose: bool, log: Callable[[str], None] | None) -> None:
    for attempt in range(2 if lose else 1):  # a lost answer: the device times out and sends the batch again
        s.retries += attempt
        try:
            answer = p.post(batch)
        except Refused as e:
            if e.status in (401, 403):
                raise  # a wrong token: every batch would fail the same way
            s.errors.append(e.description)
            return
        except GaveUp as e:
            s.errors.append(e.description)
            return
        s.posted += answer["received"]
        s.stored += answer["stored"]
        s.duplicates += answer["duplicates"]
        for e in answer["events"]:
            s.events[e["kind"]] += 1
            if log:
                log(f"{e['kind']:8} {e['sensor_id']} at {e['at_jst']} JST" if e.get("at_jst") else str(e))
