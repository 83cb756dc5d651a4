"""The everyday contract of ``Moka`` (API.md section 3), one rule per test."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from moka_py_conformance._support import EventLog

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

MISSING = object()


def test_set_get_remove_contains(Moka: Any) -> None:
    cache = Moka(10)
    assert cache.get("k") is None
    assert cache.get("k", MISSING) is MISSING
    assert "k" not in cache
    assert cache.set("k", [1]) is None
    assert cache.get("k") == [1]
    assert "k" in cache
    assert cache.remove("k") == [1]
    assert cache.remove("k") is None
    assert cache.remove("k", MISSING) is MISSING
    assert "k" not in cache


def test_values_are_stored_by_reference(Moka: Any) -> None:
    cache = Moka(10)
    value: list[int] = []
    cache.set("k", value)
    assert cache.get("k") is value
    assert cache.get_with("k", list) is value


def test_none_is_a_value(Moka: Any) -> None:
    cache = Moka(10)
    cache.set("k", None)
    assert cache.get("k", MISSING) is None
    assert "k" in cache
    assert cache.get_with("k", lambda: 1) is None
    assert cache.remove("k", MISSING) is None
    assert cache.remove("k", MISSING) is MISSING


def test_keys_follow_dict_equality(Moka: Any) -> None:
    cache = Moka(10)
    cache.set(1, "one")
    assert cache.get(1.0) == "one"
    assert cache.get(True) == "one"
    cache.set((1, "a"), "tuple")
    assert cache.get((1, "a")) == "tuple"
    cache.set(frozenset({1, 2}), "set")
    assert cache.get(frozenset({2, 1})) == "set"
    nan = float("nan")
    cache.set(nan, "nan")
    assert cache.get(nan) == "nan"  # the same object: identity, as in dict
    assert cache.get(float("nan")) is None  # another NaN never equals
    cache.set(None, "none")
    assert cache.get(None) == "none"


def test_equal_keys_are_one_key(Moka: Any) -> None:
    """As in a dict: 1, 1.0 and True are one key. (Which of the equal key objects an event carries
    is not part of the contract: the shipped backends differ.)"""
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set(1, "int")
    assert 1.0 in cache and True in cache
    cache.set(True, "bool")
    assert cache.get(1.0) == "bool"
    assert log.take() == [(1, "int", "replaced")]
    assert cache.remove(1.0) == "bool"
    assert log.take() == [(1, "bool", "explicit")]
    assert 1 not in cache and True not in cache
    cache.run_pending_tasks()
    assert cache.count() == 0


def test_nan_keys_by_identity(Moka: Any) -> None:
    cache = Moka(10)
    nan = float("nan")
    cache.set(nan, "a")
    cache.set(float("nan"), "b")  # another NaN: another key
    cache.run_pending_tasks()
    assert cache.count() == 2
    assert cache.get(nan) == "a"


def test_str_bytes_and_nested_keys(Moka: Any) -> None:
    cache = Moka(100)
    cache.set("abc", 1)
    cache.set(b"abc", 2)
    assert cache.get("".join(["ab", "c"])) == 1  # an equal, not identical, str
    assert cache.get(bytes([97, 98, 99])) == 2
    long_key = "long key " * 20
    cache.set(long_key, 3)
    assert cache.get("".join(["long key "] * 20)) == 3
    cache.set((1, "a", (2.0, None)), "t")
    assert cache.get((True, "a", (2, None))) == "t"
    assert cache.get((1, "a")) is None


def test_keys_with_colliding_hashes(Moka: Any) -> None:
    class Key:
        def __init__(self, v: int) -> None:
            self.v = v

        def __hash__(self) -> int:
            return self.v % 3  # plenty of collisions

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Key) and other.v == self.v

    cache = Moka(1000)
    for i in range(50):
        cache.set(Key(i), i)
    assert [cache.get(Key(i)) for i in range(50)] == list(range(50))
    assert cache.get(Key(99)) is None
    for i in range(0, 50, 2):
        assert cache.remove(Key(i)) == i
    assert [Key(i) in cache for i in range(50)] == [i % 2 == 1 for i in range(50)]
    cache.run_pending_tasks()
    assert cache.count() == 25


def test_numpy_ints_are_equal_int_keys(Moka: Any) -> None:
    np = pytest.importorskip("numpy")
    cache = Moka(10)
    cache.set(5, "five")
    assert cache.get(np.int64(5)) == "five"


def test_replacing_keeps_one_entry(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set("k", 1)
    cache.set("k", 2)
    assert cache.get("k") == 2
    assert log.take() == [("k", 1, "replaced")]
    cache.run_pending_tasks()
    assert cache.count() == 1
    assert cache.weighted_size() == 1


def test_remove_notifies_explicit_synchronously(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set("k", 1)
    assert cache.remove("k") == 1
    assert log.take() == [("k", 1, "explicit")]
    assert cache.remove("k") is None
    assert log.take() == []


def test_counts_settle_after_run_pending_tasks(Moka: Any) -> None:
    cache = Moka(None)
    for i in range(100):
        cache.set(i, i)
    cache.run_pending_tasks()
    assert cache.count() == 100
    assert cache.weighted_size() == 100
    for i in range(40):
        cache.remove(i)
    cache.run_pending_tasks()
    assert cache.count() == 60


def test_size_bound_after_run_pending_tasks(Moka: Any) -> None:
    for policy in ("tiny_lfu", "lru"):
        log = EventLog()
        cache = Moka(16, eviction_listener=log, policy=policy)
        for i in range(200):
            cache.get(i)
            cache.set(i, i)
        cache.run_pending_tasks()
        assert cache.count() <= 16
        stored = {i for i in range(200) if i in cache}
        evicted = {key for key, _, cause in log.events if cause == "size"}
        assert len(stored) == cache.count()
        assert stored.isdisjoint(evicted)
        assert stored | evicted == set(range(200)), "every value is readable or was reported"


@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
def test_one_run_settles_many_evictions_without_a_listener(Moka: Any, policy: str) -> None:
    cache = Moka(10, policy=policy)
    for i in range(1000):
        cache.set(i, i)
    cache.run_pending_tasks()
    assert 0 < cache.count() <= 10
    assert cache.count() == sum(i in cache for i in range(1000))


def test_lru_policy_evicts_least_recently_used(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(3, eviction_listener=log, policy="lru")
    for key in "abc":
        cache.set(key, key)
        cache.run_pending_tasks()
    cache.get("a")
    cache.run_pending_tasks()
    cache.set("d", "d")
    cache.run_pending_tasks()
    assert log.take() == [("b", "b", "size")]
    assert sorted(k for k in "abcd" if k in cache) == ["a", "c", "d"]


def test_tiny_lfu_rejects_a_cold_newcomer(Moka: Any, exact_backend: Any) -> None:
    log = EventLog()
    cache = Moka(2, eviction_listener=log)
    for key in "ab":
        cache.set(key, key)
    cache.run_pending_tasks()
    for _ in range(3):
        cache.get("a")
        cache.get("b")
    cache.run_pending_tasks()
    # A third entry would pass capacity 2, which has no slack (API.md section 6), so the write runs
    # housekeeping before it returns: c's one write (frequency 1) does not beat the LRU resident's
    # three reads, and the newcomer is rejected at once.
    cache.set("c", "c")
    assert log.take() == [("c", "c", "size")]
    assert "c" not in cache


@pytest.mark.parametrize("policy", ["lru", "tiny_lfu"])
def test_a_key_removed_before_housekeeping_evicts_nothing(
    Moka: Any, exact_backend: Any, policy: str
) -> None:
    """moka 0.12.16 (moka#590): a queued insert whose key has left the map is skipped, so it is
    neither admitted nor makes room by evicting a resident (0.12.14's TinyLFU admitted it, evicting
    a resident for size, and then unlinked it)."""
    log = EventLog()
    cache = Moka(16, eviction_listener=log, policy=policy)  # a slack of 2: c's insert stays queued
    residents = [f"r{i}" for i in range(16)]
    for key in residents:
        cache.set(key, key)
    cache.run_pending_tasks()
    for _ in range(3):
        cache.get("c")  # frequency for c, so that TinyLFU would admit it over a resident
    cache.set("c", "c")
    assert cache.remove("c") == "c"
    cache.run_pending_tasks()
    assert log.take() == [("c", "c", "explicit")]
    assert all(key in cache for key in residents) and "c" not in cache
    assert (cache.count(), cache.weighted_size()) == (16, 16)


def test_weigher_bounds_total_weight(Moka: Any) -> None:
    cache = Moka(10, weigher=lambda k, v: len(v), policy="lru")
    cache.set("a", "xxxx")
    cache.set("b", "yyyy")
    cache.set("c", "zzzz")
    cache.run_pending_tasks()
    assert cache.weighted_size() <= 10
    assert cache.count() == 2


@pytest.mark.parametrize("weights", [(7, 5), (5, 7), (1, 40)], ids=["lighter", "heavier", "much-heavier"])
def test_weighted_size_stays_exact_when_an_updated_entry_is_removed(
    Moka: Any, weights: tuple[int, int]
) -> None:
    """An update to another weight, then a remove, both before housekeeping, many times over.

    moka 0.12.16 alone skips the queued update of an entry that has left the map, and the cache's
    weighted size then drifts by the difference each time: up until an empty cache evicts every
    new entry, or down until it holds more than its capacity.
    """
    old, new = weights
    cache = Moka(100, weigher=lambda k, v: v)
    for k in range(1000, 1010):
        cache.set(k, 1)  # entries that stay, so that a drift downwards shows too
    for k in range(60):
        cache.set(k, old)
        cache.run_pending_tasks()
        cache.set(k, new)
        cache.remove(k)
    cache.run_pending_tasks()
    assert (cache.count(), cache.weighted_size()) == (10, 10)
    for k in range(100, 120):
        cache.set(k, 1)
    cache.run_pending_tasks()
    assert (cache.count(), cache.weighted_size()) == (30, 30)


def test_entry_heavier_than_capacity_is_rejected(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(5, eviction_listener=log, weigher=lambda k, v: len(v))
    cache.set("big", "x" * 6)
    cache.run_pending_tasks()
    assert log.take() == [("big", "x" * 6, "size")]
    assert cache.count() == 0


def test_zero_weight_entries_always_fit(Moka: Any) -> None:
    cache = Moka(1, weigher=lambda k, v: 0)
    for i in range(50):
        cache.set(i, i)
    cache.run_pending_tasks()
    assert cache.count() == 50
    assert cache.weighted_size() == 0


def test_capacity_zero_stores_nothing(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(0, eviction_listener=log)
    cache.set("k", 1)
    assert cache.get("k") is None
    calls: list[int] = []

    def initializer(value: int) -> int:
        calls.append(value)
        return value

    assert cache.get_with("k", lambda: initializer(5)) == 5
    assert cache.get_with("k", lambda: initializer(6)) == 6
    assert calls == [5, 6]
    cache.run_pending_tasks()
    assert cache.count() == 0
    assert log.events == []


def test_clear_reports_every_entry_and_empties(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(100, eviction_listener=log)
    for i in range(10):
        cache.set(i, str(i))
    cache.run_pending_tasks()
    cache.set(10, "10")  # still pending when clear() starts: settled first
    cache.clear()
    assert cache.count() == 0
    assert cache.weighted_size() == 0
    assert all(i not in cache for i in range(11))
    assert sorted(log.take()) == sorted((i, str(i), "explicit") for i in range(11))
    cache.set("after", 1)
    assert cache.get("after") == 1


def test_get_with_stores_and_returns(Moka: Any) -> None:
    cache = Moka(10)
    assert cache.get_with("k", lambda: "v") == "v"
    assert cache.get_with("k", lambda: "other") == "v"
    assert cache.get("k") == "v"


def test_properties_and_repr(Moka: Any, backend: Any) -> None:
    cache = Moka(100, ttl=30, tti=5.5, policy="lru")
    assert cache.capacity == 100
    assert cache.ttl == 30.0
    assert cache.tti == 5.5
    assert cache.policy == "lru"
    default = Moka(None)
    assert (default.capacity, default.ttl, default.tti, default.policy) == (None, None, None, "tiny_lfu")
    assert repr(cache) == f"Moka(capacity=100, ttl=30.0, tti=5.5, policy='lru', backend={backend.name!r})"
    for name in ("capacity", "ttl", "tti", "policy"):
        with pytest.raises(AttributeError):
            setattr(cache, name, 1)


def test_subscripting_at_runtime(Moka: Any) -> None:
    alias = Moka[str, int]
    assert alias.__origin__ is Moka
    assert alias.__args__ == (str, int)
    cache: Any = alias(10)
    assert isinstance(cache, Moka)


def test_moka_py_exposes_the_backend_class(Moka: Any, backend: Any) -> None:
    import moka_py

    assert moka_py.Moka is Moka
    info = moka_py.backend()
    assert info.module is backend
    assert info.name == backend.name
    assert isinstance(backend.priority, int)
    assert isinstance(backend.exact, bool)


def test_values_are_released(Moka: Any) -> None:
    class Value:
        pass

    cache = Moka(10)
    value = Value()
    ref = weakref.ref(value)
    cache.set("k", value)
    del value
    cache.remove("k")
    cache.run_pending_tasks()
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("listener", [False, True], ids=["no-listener", "listener"])
def test_cycle_through_cached_value_is_collected(Moka: Any, listener: bool) -> None:
    class Holder:
        cache: Any = None

    cache = Moka(10, eviction_listener=EventLog() if listener else None)
    holder = Holder()
    holder.cache = cache
    cache.set("self", holder)
    ref = weakref.ref(cache)
    del cache, holder
    gc.collect()
    assert ref() is None
