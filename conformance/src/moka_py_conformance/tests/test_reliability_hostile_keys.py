"""Hostile keys: all-colliding hashes, slow or inconsistent ``__eq__``, huge keys and values,
``None`` and NaN. Results stay correct (like ``dict``), nothing crashes, and no value is lost.

Documented cost: like a dict, colliding keys make each operation on them O(number of colliding
keys) calls of ``__eq__``; a key's ``__hash__`` runs on each call that takes it, so a huge key
costs its hash each time (``str`` and ``tuple`` keys cache or recompute it as Python does).
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from moka_py_conformance._support import run_threads, run_with_watchdog


class Colliding:
    """Every instance hashes to the same value."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __hash__(self) -> int:
        return 42

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Colliding) and other.n == self.n

    def __repr__(self) -> str:
        return f"Colliding({self.n})"


class SlowEq(Colliding):
    """Colliding, and ``__eq__`` sleeps, which lets other threads run in the middle of a lookup."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        time.sleep(0.0005)
        return isinstance(other, SlowEq) and other.n == self.n

    __hash__ = Colliding.__hash__


class Fickle(Colliding):
    """Colliding, and ``__eq__`` answers at random: no correct answer exists, but nothing may break."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return random.random() < 0.5

    __hash__ = Colliding.__hash__


def _listener(log: list[tuple[Any, str]]) -> Any:
    lock = threading.Lock()

    def listener(key: Any, value: Any, cause: str) -> None:
        with lock:
            log.append((value, cause))

    return listener


def test_all_colliding_keys(Moka: Any) -> None:
    cache = Moka(None)
    n = 300
    for i in range(n):
        cache.set(Colliding(i), i)
    assert all(cache.get(Colliding(i)) == i for i in range(n))
    for i in range(0, n, 2):
        assert cache.remove(Colliding(i)) == i
    cache.run_pending_tasks()
    assert cache.count() == n // 2
    assert [Colliding(i) in cache for i in range(4)] == [False, True, False, True]
    bounded = Moka(50, policy="lru")  # LRU admits every newcomer: each is readable once written
    for i in range(n):
        bounded.set(Colliding(i), i)
        assert bounded.get(Colliding(i)) == i
    bounded.run_pending_tasks()
    assert bounded.count() <= 50
    assert all(bounded.get(Colliding(i)) in (None, i) for i in range(n))


def test_slow_eq_from_many_threads_loses_nothing(Moka: Any) -> None:
    log: list[tuple[Any, str]] = []
    cache = Moka(None, eviction_listener=_listener(log))
    counter = iter(range(10**9))
    lock = threading.Lock()
    stored: list[int] = []

    def work() -> None:
        rng = random.Random()
        for _ in range(40):
            with lock:
                value = next(counter)
            cache.set(SlowEq(rng.randrange(8)), value)
            with lock:
                stored.append(value)
            got = cache.get(SlowEq(rng.randrange(8)))
            assert got is None or isinstance(got, int)

    assert all(kind == "ok" for kind, _ in run_threads(work, 4))
    readable = {cache.get(SlowEq(i)) for i in range(8)} - {None}
    cache.clear()
    reported = [value for value, _ in log]
    assert len(reported) == len(set(reported)), "a value was reported twice"
    assert sorted(reported) == sorted(stored), "every stored value is reported once by clear()"
    assert readable <= set(reported)


def test_inconsistent_eq_breaks_nothing(Moka: Any) -> None:
    log: list[tuple[Any, str]] = []
    cache = Moka(20, eviction_listener=_listener(log))

    def scenario() -> None:
        for value in range(2_000):
            cache.set(Fickle(value % 40), value)
            cache.get(Fickle(value % 40))
            if value % 7 == 0:
                cache.remove(Fickle(value % 40))
        cache.run_pending_tasks()
        assert cache.count() <= 20
        cache.clear()

    run_with_watchdog(scenario, 120, "inconsistent __eq__")
    assert cache.count() == 0
    reported = [value for value, _ in log]
    assert sorted(reported) == list(range(2_000)), "every value reported exactly once"


def test_inconsistent_eq_reports_no_error(Moka: Any) -> None:
    """An ``__eq__`` that answers at random but never raises gives no error report either: no
    key raised, so nothing may reach ``sys.unraisablehook`` (a dict can find an entry in one
    lookup and miss it in the next; that is the key's doing, not an error to print). Repeated,
    since a given run of random answers may not hit such a pair of lookups."""
    reports: list[str] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda info: reports.append(repr(info.exc_value))
    try:
        for _ in range(100):
            cache = Moka(20)
            for value in range(1_000):
                cache.set(Fickle(value % 40), value)
                if value % 7 == 0:
                    cache.remove(Fickle(value % 40))
            cache.clear()
            assert cache.count() == 0
    finally:
        sys.unraisablehook = previous_hook
    assert reports == []


def test_inconsistent_eq_in_get_with_from_threads_raises_nothing(Moka: Any) -> None:
    """The same keys in ``get_with`` from 4 threads at once, which keeps several waiters in
    flight: no call raises (no key raised), and each returns the value of some initializer."""
    cache = Moka(20)

    def initializer(value: int) -> Callable[[], int]:
        def init() -> int:
            time.sleep(0)  # let another thread in while this key's waiter is registered
            return value

        return init

    def work() -> None:
        for value in range(2_000):
            got = cache.get_with(Fickle(value % 40), initializer(value))
            assert isinstance(got, int)

    outcomes = run_threads(work, 4)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4, outcomes


def test_huge_keys_and_values(Moka: Any) -> None:
    cache = Moka(4)
    key = "k" * 10_000_000
    big_tuple = tuple(range(1_000_000))
    value = bytearray(50_000_000)
    cache.set(key, value)
    cache.set(big_tuple, key)
    assert cache.get("k" * 10_000_000) is value  # an equal, not identical, huge key
    assert cache.get(tuple(range(1_000_000))) is key
    assert cache.remove(key) is value
    assert key not in cache


def test_none_and_nan_keys_follow_dict(Moka: Any) -> None:
    cache = Moka(10)
    nan = float("nan")
    cache.set(None, "none")
    cache.set(nan, "nan")
    reference = {None: "none", nan: "nan"}
    assert cache.get(None) == reference[None] == "none"
    assert None in cache
    assert cache.get(nan) == "nan"  # the same NaN object: found by identity
    assert cache.get(float("nan"), "miss") == reference.get(float("nan"), "miss") == "miss"
    assert cache.get_with(float("nan"), lambda: "another") == "another"  # a different key
    cache.run_pending_tasks()
    assert cache.count() == 3
    assert cache.remove(None) == "none"
    assert cache.remove(nan) == "nan"
