"""Looking into a cache and working in bulk (API.md section 7), one rule per test.

Mapping methods, ``peek``, ``expires_in``, ``get_many``, ``set_many``, ``remove_many``,
``remove_if`` and the statistics. Their moka decisions (what a read or a removal does to the policy)
are compared with the reference by the differential tiers; here each call's own contract is checked.
Real-time tests rely on lower bounds only (a sleep is at least as long as asked).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from moka_py_conformance._support import EventLog, run_with_watchdog

MISSING = object()


def filled(Moka: Any, n: int = 3, **kwargs: Any) -> Any:
    cache = Moka(100, **kwargs)
    for i in range(n):
        cache.set(i, i * 10)
    return cache


# mapping methods ---------------------------------------------------------------------------------


def test_len_bool_and_iteration_see_what_get_sees(Moka: Any) -> None:
    cache = Moka(100)
    assert len(cache) == 0
    assert not cache
    cache.set("a", 1)
    cache.set("b", 2)
    # exact at once, unlike count(), which waits for housekeeping
    assert len(cache) == 2
    assert cache
    assert sorted(cache) == ["a", "b"]
    assert sorted(cache.keys()) == ["a", "b"]
    assert sorted(cache.values()) == [1, 2]
    assert sorted(cache.items()) == [("a", 1), ("b", 2)]
    cache.remove("a")
    assert len(cache) == 1
    assert list(cache) == ["b"]


def test_iteration_is_over_a_snapshot(Moka: Any) -> None:
    cache = filled(Moka, 5)
    for key in cache:
        cache.remove(key)  # no "changed size during iteration"
        cache.set(key + 100, key)
    assert sorted(cache) == [100, 101, 102, 103, 104]


def test_a_cache_of_capacity_zero_is_empty(Moka: Any) -> None:
    cache = Moka(0)
    cache[1] = 1
    cache.set_many({2: 2})
    assert len(cache) == 0
    assert not cache
    assert list(cache) == []
    assert cache.get_many([1, 2]) == {}


def test_getitem_setitem_delitem(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache["k"] = 1
    assert cache["k"] == 1
    cache["k"] = 2
    assert cache["k"] == 2
    del cache["k"]
    with pytest.raises(KeyError) as raised:
        _ = cache["k"]
    assert raised.value.args == ("k",)
    with pytest.raises(KeyError):
        del cache["k"]
    assert log.events == [("k", 1, "replaced"), ("k", 2, "explicit")]


def test_getitem_of_none_is_not_a_miss(Moka: Any) -> None:
    cache = Moka(10)
    cache["k"] = None
    assert cache["k"] is None
    assert cache.pop("k") is None
    with pytest.raises(KeyError):
        cache.pop("k")


def test_pop(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set("k", 1)
    assert cache.pop("k") == 1
    assert cache.pop("k", MISSING) is MISSING
    assert cache.pop("k", None) is None
    with pytest.raises(KeyError):
        cache.pop("k")
    assert log.events == [("k", 1, "explicit")]


def test_setdefault(Moka: Any) -> None:
    cache = Moka(10)
    assert cache.setdefault("k", 1) == 1
    assert cache.setdefault("k", 2) == 1
    assert cache.setdefault("none") is None
    assert "none" in cache and cache.setdefault("none", 3) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (2, 2)  # each call reads once
    assert cache["k"] == 1


def test_update(Moka: Any) -> None:
    cache = Moka(10)
    cache.update({"a": 1})
    cache.update([("b", 2), ["c", 3]], d=4)
    cache.update(e=5)
    cache.update()
    assert sorted(cache.items()) == [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]


# peek and expires_in ----------------------------------------------------------------------------


def test_peek_reads_without_recording(Moka: Any) -> None:
    cache = Moka(10)
    cache.set("k", 1)
    assert cache.peek("k") == 1
    assert cache.peek("absent") is None
    assert cache.peek("absent", MISSING) is MISSING
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (0, 0)


def test_peek_does_not_renew_the_idle_time(Moka: Any) -> None:
    cache = Moka(10, tti=1.0)
    cache.set("k", 1)
    time.sleep(0.6)
    assert cache.peek("k", MISSING) in (1, MISSING)  # MISSING only if the machine stalled 0.4 s
    time.sleep(0.6)
    # 1.2 s since the write, which was the last access: expired, whenever the peek ran
    assert cache.peek("k", MISSING) is MISSING
    assert cache.get("k", MISSING) is MISSING


def test_getitem_renews_the_idle_time(Moka: Any) -> None:
    cache = Moka(10, tti=1.0)
    cache.set("k", 1)
    time.sleep(0.6)
    before = time.monotonic()
    try:
        assert cache["k"] == 1
    except KeyError:
        return  # the machine stalled 0.4 s: the entry expired before the read, nothing to check
    left = cache.expires_in("k", 0.0)
    after = time.monotonic()
    # renewed by the read: a full idle second from then (unrenewed, at most 0.4 s would be left)
    assert left >= 1.0 - (after - before) - 0.001


def test_expires_in(Moka: Any) -> None:
    cache = Moka(10, ttl=100)
    assert cache.expires_in("absent") is None
    assert cache.expires_in("absent", MISSING) is MISSING
    cache.set("k", 1)
    assert 0 < cache.expires_in("k") <= 100
    cache.set("short", 1, ttl=10)
    assert 0 < cache.expires_in("short") <= 10
    unbounded = Moka(10)
    unbounded.set("k", 1)
    assert unbounded.expires_in("k") == math.inf
    unbounded.set("k", 1, tti=5)
    assert 0 < unbounded.expires_in("k") <= 5
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (0, 0)  # not a read


def test_expires_in_of_an_expired_entry_is_the_default(Moka: Any) -> None:
    cache = Moka(10)
    cache.set("k", 1, ttl=0.05)
    time.sleep(0.2)
    assert cache.expires_in("k", MISSING) is MISSING
    assert len(cache) == 0
    assert list(cache) == []


# bulk operations ---------------------------------------------------------------------------------


def test_get_many(Moka: Any) -> None:
    cache = filled(Moka, 3)
    assert cache.get_many([0, 2, 5]) == {0: 0, 2: 20}
    assert cache.get_many(iter([1])) == {1: 10}
    assert cache.get_many([]) == {}
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (3, 1)


def test_set_many_and_remove_many(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set_many({"a": 1, "b": 2})
    cache.set_many([("c", 3)], ttl=60)
    assert 0 < cache.expires_in("c") <= 60
    assert cache.expires_in("a") == math.inf
    cache.set_many({"a": 10})
    assert cache.remove_many(["a", "c", "absent"]) == {"a": 10, "c": 3}
    assert sorted(cache.items()) == [("b", 2)]
    assert log.events == [("a", 1, "replaced"), ("a", 10, "explicit"), ("c", 3, "explicit")]


@pytest.mark.parametrize("method", ["get_many", "remove_many"])
def test_key_iterables_are_checked(Moka: Any, method: str) -> None:
    cache = Moka(10)
    with pytest.raises(TypeError, match=f"{method} expects an iterable of keys, not int"):
        getattr(cache, method)(5)


@pytest.mark.parametrize("method", ["get_many", "remove_many"])
def test_an_unhashable_key_stops_the_call_after_the_keys_before_it(Moka: Any, method: str) -> None:
    cache = filled(Moka, 3)
    with pytest.raises(TypeError):
        getattr(cache, method)([0, [1], 2])
    if method == "remove_many":
        assert sorted(cache) == [1, 2]  # 0 was removed, 2 was not reached
    else:
        assert (cache.stats().hits, cache.stats().misses) == (1, 0)


def test_set_many_checks_its_arguments_before_writing(Moka: Any) -> None:
    cache = Moka(10)
    with pytest.raises(TypeError, match="set_many expects a mapping or an iterable of"):
        cache.set_many(5)
    with pytest.raises(ValueError, match="ttl"):
        cache.set_many({"a": 1}, ttl=-1)
    with pytest.raises(TypeError, match="tti"):
        cache.set_many({"a": 1}, tti="1")
    assert len(cache) == 0


def test_set_many_stops_at_a_bad_item_keeping_the_items_before(Moka: Any) -> None:
    cache = Moka(10)
    with pytest.raises(TypeError, match=r"set_many: item 1 is not a \(key, value\) pair"):
        cache.set_many([("a", 1), ("b", 2, 3), ("c", 3)])
    assert sorted(cache.items()) == [("a", 1)]
    with pytest.raises(TypeError):
        cache.set_many([("d", 4), ([], 5), ("e", 6)])  # unhashable key
    assert sorted(cache) == ["a", "d"]


class RaisingMapping:
    """A mapping whose third item raises."""

    def keys(self) -> Iterator[str]:
        return iter(["x", "y", "boom", "z"])

    def __getitem__(self, key: str) -> int:
        if key == "boom":
            raise LookupError("no boom")
        return ord(key)


def test_set_many_of_a_mapping_that_raises_midway(Moka: Any) -> None:
    cache = Moka(10)
    with pytest.raises(LookupError, match="no boom"):
        cache.set_many(RaisingMapping())
    assert sorted(cache.items()) == [("x", ord("x")), ("y", ord("y"))]
    with pytest.raises(LookupError):
        cache.update(RaisingMapping())


def test_bulk_calls_deliver_every_event(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(2, eviction_listener=log, policy="lru")
    cache.set_many({i: i for i in range(4)})
    cache.run_pending_tasks()
    assert sorted(log.take()) == [(0, 0, "size"), (1, 1, "size")]
    assert len(cache) == 2


# remove_if ---------------------------------------------------------------------------------------


def test_remove_if(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(100, eviction_listener=log)
    for i in range(10):
        cache.set(i, i)
    seen: list[tuple[int, int]] = []

    def odd(key: int, value: int) -> bool:
        seen.append((key, value))
        return key % 2 == 1

    assert cache.remove_if(odd) == 5
    assert sorted(seen) == [(i, i) for i in range(10)]
    assert sorted(cache) == [0, 2, 4, 6, 8]
    assert sorted(log.events) == [(i, i, "explicit") for i in range(1, 10, 2)]
    assert cache.remove_if(lambda k, v: False) == 0
    cache.run_pending_tasks()
    assert cache.count() == 5


def test_remove_if_wants_a_callable(Moka: Any) -> None:
    with pytest.raises(TypeError, match="predicate must be callable, not int"):
        Moka(10).remove_if(5)


def test_a_raising_predicate_stops_the_sweep(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(100, eviction_listener=log)
    for i in range(10):
        cache.set(i, i)
    calls = []

    def predicate(key: int, value: int) -> bool:
        calls.append(key)
        if len(calls) == 4:
            raise LookupError("stop")
        return True

    with pytest.raises(LookupError, match="stop"):
        cache.remove_if(predicate)
    removed = calls[:3]
    assert sorted(log.events) == sorted((k, k, "explicit") for k in removed)
    assert sorted(cache) == sorted(set(range(10)) - set(removed))
    cache.run_pending_tasks()
    assert cache.count() == 7


def test_the_predicate_may_use_the_cache(Moka: Any) -> None:
    """No lock is held while it runs; an entry written meanwhile is not removed."""
    log = EventLog()
    cache = Moka(100, eviction_listener=log)
    for i in range(4):
        cache.set(i, i)

    def predicate(key: int, value: int) -> bool:
        assert cache.peek(key) == value
        cache.set(key, value + 100)  # replaced: remove_if must then leave it
        cache.set(key + 1000, 0)
        return True

    run_with_watchdog(lambda: cache.remove_if(predicate), 30, "remove_if calling back into the cache")
    expected = [(i, i + 100) for i in range(4)] + [(i + 1000, 0) for i in range(4)]
    assert sorted(cache.items()) == sorted(expected)


# statistics --------------------------------------------------------------------------------------


def test_statistics_count_recorded_reads_only(Moka: Any) -> None:
    cache = filled(Moka, 2)
    cache.get(0)
    cache.get(9)
    _ = cache[1]
    with pytest.raises(KeyError):
        _ = cache[9]
    cache.get_many([0, 9])
    cache.get_with(0, lambda: 0)
    # none of these count
    _ = 0 in cache
    cache.peek(0)
    cache.expires_in(0)
    len(cache)
    list(cache)
    cache.items()
    bool(cache)
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (4, 3)
    assert stats.hit_rate == pytest.approx(4 / 7)


def test_statistics_count_loads(Moka: Any) -> None:
    cache = Moka(10)

    def slow() -> int:
        time.sleep(0.05)
        return 1

    def failing() -> int:
        raise LookupError("no")

    assert cache.get_with("a", slow) == 1
    assert cache.get_with("a", slow) == 1
    with pytest.raises(LookupError):
        cache.get_with("b", failing)
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.loads, stats.load_failures) == (1, 2, 2, 1)
    assert stats.load_time >= 0.05


@pytest.mark.parametrize("listener", [True, False])
def test_statistics_count_evictions_with_or_without_a_listener(Moka: Any, listener: bool) -> None:
    log = EventLog()
    cache = Moka(3, eviction_listener=log if listener else None, policy="lru", weigher=lambda k, v: v)
    cache.set("a", 1)
    cache.set("a", 2)  # replaced
    cache.set("b", 1)
    cache.remove("b")  # explicit
    cache.set("c", 2)
    cache.run_pending_tasks()  # a (2) and c (2) weigh 4 > 3: one goes for size
    stats = cache.stats()
    assert dict(stats.evictions) == {"explicit": 1, "size": 1, "expired": 0, "replaced": 1}
    assert stats.eviction_weight == 2
    assert len(log.events) == (3 if listener else 0)


def test_statistics_reset_and_are_snapshots(Moka: Any) -> None:
    cache = filled(Moka, 1)
    cache.get(0)
    before = cache.stats()
    cache.get(0)
    assert before.hits == 1
    assert cache.stats().hits == 2
    with pytest.raises(AttributeError):
        before.hits = 5
    with pytest.raises(TypeError):
        before.evictions["size"] = 1
    cache.reset_stats()
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.loads, stats.load_failures) == (0, 0, 0, 0)
    assert stats.load_time == 0
    assert dict(stats.evictions) == {"explicit": 0, "size": 0, "expired": 0, "replaced": 0}
    assert stats.eviction_weight == 0
    assert stats.hit_rate == 1.0
    assert "hits=0" in repr(stats)
