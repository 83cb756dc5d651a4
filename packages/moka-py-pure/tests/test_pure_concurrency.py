"""get_with coalescing across threads, errors, recursion, and re-entrancy without deadlock."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from moka_py_pure import Moka

WATCHDOG = 20.0


def run_threads(n: int, target: Any) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WATCHDOG)
        assert not t.is_alive(), "deadlock or hang"
    return threads


def test_get_with_runs_a_slow_initializer_once_for_8_threads() -> None:
    c: Moka[str, int] = Moka(100)
    calls: list[int] = []
    results: list[Any] = [None] * 8
    barrier = threading.Barrier(8)

    def init() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = c.get_with("k", init)

    run_threads(8, worker)
    assert calls == [1]
    assert results == [42] * 8
    assert c.get("k") == 42


def test_initializer_exception_reaches_every_waiter_and_caches_nothing() -> None:
    c: Moka[str, int] = Moka(100)
    calls: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)
    lock = threading.Lock()

    def init() -> int:
        calls.append(1)
        time.sleep(0.2)
        raise ValueError("init failed")

    def worker(i: int) -> None:
        barrier.wait()
        try:
            c.get_with("k", init)
        except ValueError as exc:
            with lock:
                errors.append(exc)

    run_threads(6, worker)
    assert len(calls) == 1
    assert len(errors) == 6
    assert all(e is errors[0] for e in errors)  # the same exception object
    assert "k" not in c
    assert c.get_with("k", lambda: 7) == 7  # the next call runs a new initializer


def test_base_exception_in_owner_makes_waiters_retry() -> None:
    c: Moka[str, int] = Moka(100)
    started = threading.Event()
    results: list[Any] = []

    def bad_init() -> int:
        started.set()
        time.sleep(0.2)
        raise KeyboardInterrupt

    def owner(_: int) -> None:
        with pytest.raises(KeyboardInterrupt):
            c.get_with("k", bad_init)

    def waiter(_: int) -> None:
        started.wait(5)
        results.append(c.get_with("k", lambda: 5))

    t1 = threading.Thread(target=owner, args=(0,), daemon=True)
    t1.start()
    t2 = threading.Thread(target=waiter, args=(1,), daemon=True)
    t2.start()
    for t in (t1, t2):
        t.join(WATCHDOG)
        assert not t.is_alive()
    assert results == [5]


def test_recursive_get_with_raises_runtime_error() -> None:
    c: Moka[str, int] = Moka(100)

    def init() -> int:
        return c.get_with("k", lambda: 1) + 1

    with pytest.raises(
        RuntimeError, match="get_with: the initializer for this key called get_with for the same key"
    ):
        c.get_with("k", init)
    assert "k" not in c
    assert c.get_with("k", lambda: 3) == 3  # the waiter was cleaned up
    assert c.get_with("other", lambda: c.get_with("k2", lambda: 4)) == 4  # other keys are fine


def test_get_with_hit_does_not_run_initializer() -> None:
    c: Moka[str, int] = Moka(100)
    c.set("k", 1)
    assert c.get_with("k", lambda: pytest.fail("called")) == 1


def test_listener_calling_back_does_not_deadlock_under_threads() -> None:
    holder: list[Moka[int, int]] = []

    def listener(k: int, v: int, cause: str) -> None:
        c = holder[0]
        if cause == "replaced":
            c.set(k, v + 1000) if v < 1000 else None
        c.get(k)
        c.run_pending_tasks()

    c: Moka[int, int] = Moka(16, eviction_listener=listener)
    holder.append(c)

    def worker(i: int) -> None:
        for n in range(300):
            k = (n * 7 + i) % 40
            c.set(k, n)
            c.get(k)
            if n % 13 == 0:
                c.remove(k)
            if n % 50 == 0:
                c.clear()

    run_threads(6, worker)
    c.run_pending_tasks()
    assert c.count() <= 16


def test_concurrent_mixed_operations_keep_counters_consistent() -> None:
    c: Moka[int, int] = Moka(64, weigher=lambda k, v: 1 + v % 3)

    def worker(i: int) -> None:
        for n in range(2000):
            k = (n * 31 + i * 17) % 200
            if n % 3 == 0:
                c.set(k, n)
            elif n % 3 == 1:
                c.get(k)
            else:
                c.get_with(k, lambda: 1)
            if n % 97 == 0:
                c.remove(k)

    run_threads(4, worker)
    c.run_pending_tasks()
    with c._lock:
        admitted = [e for e in c._map.values() if e.admitted]
        assert len(admitted) == len(c._map) == c.count()
        assert sum(e.weight for e in admitted) == c.weighted_size() <= 64
