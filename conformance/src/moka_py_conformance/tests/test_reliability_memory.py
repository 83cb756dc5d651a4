"""Memory: values that leave the cache are released, a long run returns to its baseline, and
reference cycles through cached values are collected.
"""

from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from moka_py_conformance._reliability import wait_until

CYCLES = 1_000_000  # set/evict cycles in CI; scaled by --moka-soak


class Value:
    """A cached value that can be watched with a weakref."""


def _watch(values: list[Value]) -> list[weakref.ref[Value]]:
    return [weakref.ref(v) for v in values]


def _alive(refs: list[weakref.ref[Value]]) -> int:
    return sum(ref() is not None for ref in refs)


@pytest.mark.parametrize("with_listener", [False, True], ids=["no-listener", "listener"])
def test_values_are_released_when_they_leave(Moka: Any, with_listener: bool) -> None:
    causes: list[str] = []  # the listener keeps no reference to values
    listener = (lambda k, v, cause: causes.append(cause)) if with_listener else None
    cache = Moka(10, eviction_listener=listener)
    # size: 100 values into 10 slots; every value not held any more is released
    values = [Value() for _ in range(100)]
    refs = _watch(values)
    for i, value in enumerate(values):
        cache.set(i, value)
    del values, value
    cache.run_pending_tasks()
    assert _alive(refs) == cache.count() <= 10
    # replaced and removed
    kept = [i for i, ref in enumerate(refs) if ref() is not None]
    cache.set(kept[0], Value())
    assert cache.remove(kept[1]) is not None
    cache.run_pending_tasks()
    assert _alive(refs) == cache.count() - 1  # the replacement is not watched
    # cleared
    cache.clear()
    assert _alive(refs) == 0


def test_expired_values_are_released(Moka: Any) -> None:
    cache = Moka(100, ttl=0.2)
    values = [Value() for _ in range(20)]
    refs = _watch(values)
    for i, value in enumerate(values):
        cache.set(i, value, ttl=0.1 if i % 2 else None)
    del values, value
    # moka removes expired entries when its timer wheel ticks (about every 1.07 s)
    assert wait_until(lambda: _alive(refs) == 0, cache), f"{_alive(refs)} expired values still held"


def test_cycles_through_cached_values_are_collected(Moka: Any) -> None:
    class Holder:
        def __init__(self, cache: Any) -> None:
            self.cache = cache

        def listener(self, key: Any, value: Any, cause: str) -> None:
            self.cache.get(key)

    holder = Holder(None)
    cache = Moka(10, eviction_listener=holder.listener)  # cache -> listener -> holder -> cache
    holder.cache = cache
    value = Holder(cache)  # cache -> value -> cache
    cache.set("self", value)
    cache.set("cache", cache)
    refs = [weakref.ref(holder), weakref.ref(value)]
    del holder, value, cache
    gc.collect()
    assert [ref() for ref in refs] == [None, None]


def _rss() -> int | None:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    import resource

    return int(statm.read_text().split()[1]) * resource.getpagesize()


@pytest.mark.slow
def test_a_million_set_evict_cycles_return_to_the_baseline(Moka: Any, soak: float) -> None:
    """Every cycle inserts a new key into a full cache, so every cycle evicts (or rejects) one.

    A backend may keep bounded caches that fill and empty (e.g. the pure backend memoizes up to
    65,536 sketch positions, then starts over), so memory saw-tooths. The baseline is the highest
    reading during a warm-up long enough to cover such cycles; the reading after a million more
    cycles must not exceed it by more than a slack. gc runs before each reading.
    * Python memory: ``sys.getallocatedblocks()``, the allocator's count of live blocks. It sees
      what tracemalloc would, without tracemalloc's ~8x slow-down (minutes for a million cycles).
      Slack: 10,000 blocks (free lists); a leak of one object per cycle would be a million.
    * RSS (native memory too, e.g. the Rust backend's; Linux only): slack 16 MB for allocator
      noise (arenas and thread caches are not returned at once); 16 bytes per cycle exceed it.
    """
    cycles = int(CYCLES * soak)
    size_events = [0]

    def listener(key: Any, value: Any, cause: str) -> None:
        size_events[0] += cause == "size"

    capacity = 1_000
    cache = Moka(capacity, eviction_listener=listener)
    next_key = [0]

    def run(count: int) -> tuple[int, int]:
        for i in range(next_key[0], next_key[0] + count):
            cache.set(i, Value())
        next_key[0] += count
        cache.run_pending_tasks()
        gc.collect()
        return sys.getallocatedblocks(), _rss() or 0

    warm_up = [run(20_000) for _ in range(12)]  # 240,000 cycles: several memo periods
    blocks, rss = max(b for b, _ in warm_up), max(r for _, r in warm_up)
    end_blocks, end_rss = run(cycles)
    assert size_events[0] >= next_key[0] - capacity - 64, "the cycles did not evict"
    assert cache.count() <= capacity
    assert end_blocks - blocks < 10_000, f"{end_blocks - blocks} more memory blocks after {cycles} cycles"
    if _rss() is not None:
        grown = end_rss - rss
        assert grown < 16 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB after {cycles} cycles"
