"""The state rules of a sensor (gis/sensors/rules.py) as a pure function, the batch validation and the webhook's
backoff: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gis.errors import InvalidParameter
from gis.sensors.events import iso, jst
from gis.sensors.ingest import Reading, validate
from gis.sensors.rules import Rules, State, advance, float_level_cm
from gis.sensors.webhook import backoff, check_url

T0 = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
RULES = Rules(wet_minutes=10, silence_factor=2)


def _m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(state: State, readings: list[tuple[float, str, float]], rules: Rules = RULES, float_cm: int | None = 10):
    """Advance with readings given as (minutes after T0, kind, result)."""
    return advance(state, [(_m(t), k, r) for t, k, r in readings], rules, heartbeat=60, float_cm=float_cm)


def test_one_wet_sample_is_wet_never_flooded() -> None:
    s = run(State(1, "S-1"), [(0, "wet", 1)])
    assert (s.state, s.since, s.wet_since, s.level_cm, s.events) == ("wet", _m(0), _m(0), 10, [])


def test_wet_for_wet_minutes_is_flooded_once() -> None:
    s = run(State(1, "S-1"), [(0, "wet", 1), (5, "wet", 1), (9.9, "wet", 1)])
    assert s.state == "wet" and not s.events
    s = run(s, [(10, "wet", 1), (20, "wet", 1)])
    assert s.state == "flooded" and s.since == _m(10)
    assert [e["kind"] for e in s.events] == ["flooded"]  # one event per transition, not one per wet reading
    assert s.events[0]["detail"] == {"wet_since": iso(_m(0)), "wet_minutes": 10.0, "level_cm": 10}
    s = run(s, [(30, "wet", 1)])
    assert s.state == "flooded" and s.events == []


def test_dry_after_flooded_is_receded_and_a_short_wet_spell_is_not() -> None:
    s = run(State(1, "S-1"), [(0, "wet", 1), (10, "wet", 1), (15, "wet", 0)])
    assert s.state == "dry" and s.since == _m(15) and s.wet_since is None and s.level_cm == 0
    assert [e["kind"] for e in s.events] == ["flooded", "receded"]
    s = run(State(1, "S-1"), [(0, "wet", 1), (5, "wet", 0), (6, "wet", 1), (12, "wet", 1)])
    assert s.state == "wet" and s.wet_since == _m(6) and s.events == []  # the dry reading reset the clock


def test_rules_are_configuration() -> None:
    s = run(State(1, "S-1"), [(0, "wet", 1), (3, "wet", 1)], Rules(wet_minutes=3))
    assert s.state == "flooded"


def test_depth_steps_and_readings_out_of_order() -> None:
    s = run(State(1, "S-1"), [(10, "depth", 20), (0, "depth", 10)], float_cm=None)
    assert s.state == "flooded" and s.level_cm == 20 and s.last_seen == _m(10)
    late = run(s, [(5, "depth", 0)], float_cm=None)  # older than last_seen: stored, but never moves the state back
    assert late.state == "flooded" and late.last_seen == _m(10) and late.events == []


def test_battery_and_rssi_are_messages_but_not_water() -> None:
    s = run(State(1, "S-1", state="wet", since=_m(-5), wet_since=_m(-5), last_seen=_m(-5)), [(0, "battery", 3.1)])
    assert (s.state, s.battery_v, s.last_seen) == ("wet", 3.1, _m(0))
    s = run(s, [(1, "rssi", -97.4)])
    assert s.rssi == -97 and s.state == "wet"


def test_a_gap_longer_than_the_silence_window_is_silent_then_back() -> None:
    s = State(1, "S-1", state="dry", since=_m(-60), last_seen=_m(0))
    s = run(s, [(121, "wet", 0)])  # heartbeat 60 x factor 2: quiet for 121 minutes
    assert [e["kind"] for e in s.events] == ["silent", "back"]
    assert s.events[0]["at"] == _m(120) and s.events[1]["at"] == _m(121) and not s.silent
    flagged = run(State(1, "S-1", last_seen=_m(0), silent=True), [(300, "battery", 3.0)])
    assert [e["kind"] for e in flagged.events] == ["back"] and not flagged.silent
    assert run(State(1, "S-1", last_seen=_m(0)), [(119, "wet", 0)]).events == []


def test_float_level_from_the_sensor_type() -> None:
    assert float_level_cm("フロート式40cm") == 40 and float_level_cm("段階式10-20-30cm") == 30
    assert float_level_cm(None) is None


def test_times_for_machines_and_people() -> None:
    assert iso(_m(5)) == "2026-12-02T05:05:00+00:00" and jst(_m(5)) == "2026-12-02 14:05"
    assert iso(None) is None and jst(None) is None


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (Reading("", "wet", T0, 1), "observations[1].sensor_id"),
        (Reading("S-1", "temperature", T0, 1), "observations[1].datastream"),
        (Reading("S-1", "wet", T0.replace(tzinfo=None), 1), "observations[1].phenomenon_time"),
        (Reading("S-1", "wet", _m(11), 1), "observations[1].phenomenon_time"),
        (Reading("S-1", "wet", T0 - timedelta(days=31), 1), "observations[1].phenomenon_time"),
        (Reading("S-1", "wet", T0, 0.5), "observations[1].result"),
        (Reading("S-1", "depth", T0, 15), "observations[1].result"),
        (Reading("S-1", "battery", T0, 12), "observations[1].result"),
        (Reading("S-1", "rssi", T0, float("nan")), "observations[1].result"),
        (Reading("S-1", "wet", T0, 1, quality="x\x00"), "observations[1].quality"),
    ],
)
def test_validation_names_the_field_and_index(reading: Reading, message: str) -> None:
    good = Reading("S-1", "wet", T0, 1)
    with pytest.raises(InvalidParameter) as e:
        validate([good, reading], RULES, T0)
    assert e.value.description.startswith(message)


def test_validation_normalises_to_utc_and_bounds_the_batch() -> None:
    from zoneinfo import ZoneInfo

    r = validate([Reading("S-1", "wet", datetime(2026, 12, 2, 14, 0, tzinfo=ZoneInfo("Asia/Tokyo")), True)], RULES, T0)
    assert r[0].phenomenon_time == T0 and r[0].phenomenon_time.tzinfo == UTC and r[0].result == 1.0
    with pytest.raises(InvalidParameter):
        validate([], RULES, T0)
    with pytest.raises(InvalidParameter):
        validate([Reading("S-1", "wet", T0, 1)] * 1001, RULES, T0)


def test_webhook_backoff_and_address() -> None:
    assert [backoff(n, 10).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30).total_seconds() == 3600
    assert check_url("https://example.org/hook") == "https://example.org/hook" and check_url("") is None
    for bad in ("ftp://example.org/", "https:///nohost", "javascript:alert(1)"):
        with pytest.raises(InvalidParameter):
            check_url(bad)
