"""The one cache (gis.cache): byte bounds, version tags, structured keys and merged concurrent misses."""

from __future__ import annotations

import asyncio

import pytest

from gis.cache import ENTRY_OVERHEAD, Cache, Cached

KIB = 1024


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_partitions_stay_within_their_byte_bounds() -> None:
    cache = Cache({"tile": 64 * KIB, "response": 32 * KIB})
    for i in range(500):
        cache.put(("tile", "zoning", i), b"x" * 1000, tag=(("zoning", 1),))
        cache.put(("response", "zoning", i), Cached(b"y" * 1000, "application/json"), tag=(("zoning", 1),))
    stats = cache.stats()["partitions"]
    for name, bound in (("tile", 64 * KIB), ("response", 32 * KIB)):
        assert 0 < stats[name]["bytes"] <= bound == stats[name]["max_bytes"], name
        # Every entry is charged its payload plus the overhead: no more than bound / (1000 + overhead) fit.
        assert stats[name]["entries"] <= bound // (1000 + ENTRY_OVERHEAD)
    assert cache.get(("tile", "zoning", 0)) is None and cache.get(("tile", "zoning", 499)) is not None


def test_an_entry_larger_than_a_quarter_of_its_partition_is_not_kept() -> None:
    cache = Cache({"tile": 40 * KIB})
    assert not cache.put(("tile", "big"), b"h" * (11 * KIB))
    assert cache.get(("tile", "big")) is None and cache.bytes == 0


def test_a_partition_of_zero_bytes_keeps_nothing() -> None:
    cache = Cache({"tile": 0})
    assert not cache.put(("tile", "k"), b"v")
    assert cache.get(("tile", "k")) is None and cache.max_bytes == 0


def test_a_newer_version_drops_that_layers_entries_only() -> None:
    cache = Cache({"tile": 1024 * KIB})
    cache.sync({"a": 1, "b": 1})
    cache.put(("tile", "a"), b"a", tag=(("a", 1),))
    cache.put(("tile", "ab"), b"ab", tag=(("a", 1), ("b", 1)))
    cache.put(("tile", "b"), b"b", tag=(("b", 1),))
    cache.set_version("a", 2)
    assert cache.get(("tile", "a")) is None and cache.get(("tile", "ab")) is None
    assert cache.get(("tile", "b")) == b"b" and cache.stats()["dropped"] == 2
    # Built from the old version while the new one committed: never kept.
    assert not cache.put(("tile", "late"), b"old", tag=(("a", 1),))
    assert cache.put(("tile", "fresh"), b"new", tag=(("a", 2),))


def test_keys_are_structures_not_strings() -> None:
    """The collision of the fault run: a value holding '&limit=5' must never equal a second parameter."""
    cache = Cache({"response": 1024 * KIB})
    one = ("response", "garbage_points", 7, ("items", "json", (("city_code", "41206&limit=5"),)))
    two = ("response", "garbage_points", 7, ("items", "json", (("city_code", "41206"), ("limit", "5"))))
    cache.put(one, Cached(b"zero features", "application/json"))
    assert cache.get(two) is None


def test_keys_must_name_a_partition() -> None:
    with pytest.raises(KeyError):
        Cache({}).get(("nowhere", 1))


def test_concurrent_misses_run_one_build() -> None:
    cache = Cache({"response": 1024 * KIB})
    builds = 0

    async def build() -> Cached:
        nonlocal builds
        builds += 1
        await asyncio.sleep(0.05)
        return Cached(b"body", "text/plain")

    async def main() -> list[Cached]:
        return await asyncio.gather(*(cache.get_or_build(("response", "k"), build) for _ in range(50)))

    results = run(main())
    assert builds == 1 and all(r.body == b"body" for r in results)
    assert cache.stats()["merged"] == 49 and cache.get(("response", "k")).body == b"body"


def test_a_failed_build_reaches_every_waiter_and_is_not_kept() -> None:
    cache = Cache({"response": 1024 * KIB})
    calls = 0

    async def build() -> Cached:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise ValueError("no such feature")

    async def main() -> list:
        return await asyncio.gather(
            *(cache.get_or_build(("response", "k"), build) for _ in range(5)), return_exceptions=True
        )

    results = run(main())
    assert calls == 1 and all(isinstance(r, ValueError) for r in results)
    assert cache.get(("response", "k")) is None


def test_a_caller_that_goes_away_does_not_cancel_the_build_for_the_others() -> None:
    cache = Cache({"response": 1024 * KIB})

    async def build() -> Cached:
        await asyncio.sleep(0.05)
        return Cached(b"done", "text/plain")

    async def main() -> bytes:
        first = asyncio.create_task(cache.get_or_build(("response", "k"), build))
        second = asyncio.create_task(cache.get_or_build(("response", "k"), build))
        await asyncio.sleep(0.01)
        first.cancel()  # a client hung up
        return (await second).body

    assert run(main()) == b"done"


def test_values_without_a_size_need_a_cost() -> None:
    cache = Cache({"meta": 1024 * KIB})
    with pytest.raises(TypeError):
        cache.put(("meta", "infos"), {"a": 1})
    assert cache.put(("meta", "infos"), {"a": 1}, cost=100)

    async def main() -> dict:
        return await cache.get_or_build(("meta", "other"), _dict)

    assert run(main()) == {"b": 2}  # returned, but not kept: its size is unknown
    assert cache.get(("meta", "other")) is None


async def _dict() -> dict:
    return {"b": 2}
