"""The size bound (API.md section 6): what a cache keeps alive never outweighs its capacity + slack.

``slack = min(64, capacity // 8)``. The values are counted where it matters to a user: as live
objects (a ``weakref.finalize`` per value), after every call, during long runs of distinct keys,
so a value that the cache has dropped but not yet released still counts.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import pytest

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

CAPACITIES = [1, 2, 7, 8, 16, 100, 1000]


class Value:
    """A cached value that knows its weight; weak-referenceable, so its release can be counted."""

    __slots__ = ("__weakref__", "weight")

    def __init__(self, weight: int) -> None:
        self.weight = weight


class Alive:
    """The total weight of the values made by ``make`` that are still alive."""

    def __init__(self) -> None:
        self.weight = 0

    def make(self, weight: int) -> Value:
        value = Value(weight)
        self.weight += weight
        weakref.finalize(value, self._released, weight)
        return value

    def _released(self, weight: int) -> None:
        self.weight -= weight


def slack(capacity: int) -> int:
    return min(64, capacity // 8)


def weight_of(i: int, weighted: bool) -> int:
    return 1 + i % 3 if weighted else 1


def steps(capacity: int) -> int:
    return 10 * capacity + 300


@pytest.mark.parametrize("weighted", [False, True], ids=["unit", "weigher"])
@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
@pytest.mark.parametrize("capacity", CAPACITIES)
def test_set_keeps_live_values_within_the_bound(
    Moka: Any, capacity: int, policy: str, weighted: bool
) -> None:
    alive = Alive()
    weigher: Callable[[Any, Value], int] | None = (lambda k, v: v.weight) if weighted else None
    cache = Moka(capacity, policy=policy, weigher=weigher)
    limit = capacity + slack(capacity)
    for i in range(steps(capacity)):
        if i % 5 == 4:
            cache.get_with(-i, lambda i=i: alive.make(weight_of(i, weighted)))
        else:
            cache.set(i, alive.make(weight_of(i, weighted)))
        assert alive.weight <= limit, f"step {i}: {alive.weight} alive, bound {limit}"
        if i % 7 == 0:
            cache.get(i)  # some reads, so that TinyLFU admits some newcomers
    cache.run_pending_tasks()
    assert alive.weight == cache.weighted_size() <= capacity


@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
@pytest.mark.parametrize("maxsize", CAPACITIES)
def test_cached_keeps_live_results_within_the_bound(maxsize: int, policy: Any) -> None:
    from moka_py import cached

    alive = Alive()

    @cached(maxsize=maxsize, policy=policy)
    def make(i: int) -> Value:
        return alive.make(1)

    limit = maxsize + slack(maxsize)
    for i in range(steps(maxsize)):
        make(i)
        assert alive.weight <= limit, f"call {i}: {alive.weight} results alive, bound {limit}"
        if i % 7 == 0:
            make(i // 2)


@pytest.mark.parametrize("maxsize", range(1, 8))
def test_small_lru_cached_matches_lru_cache(maxsize: int) -> None:
    """Below capacity 8 there is no slack: with ``policy="lru"``, the same calls hit and miss
    exactly as under ``functools.lru_cache``."""
    import functools
    import random

    from moka_py import cached

    ran: list[int] = []
    reference: list[int] = []

    @cached(maxsize=maxsize, policy="lru")
    def ours(x: int) -> int:
        ran.append(x)
        return x

    @functools.lru_cache(maxsize=maxsize)
    def theirs(x: int) -> int:
        reference.append(x)
        return x

    rng = random.Random(maxsize)
    calls = [rng.randrange(2 * maxsize + 2) for _ in range(2000)] + [7, 9] * 20
    for x in calls:
        assert ours(x) == theirs(x) == x
    assert ran == reference
    assert ours.cache_info().misses == theirs.cache_info().misses
