"""``get_with`` coalescing across threads (API.md section 3)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from moka_py_conformance._support import EventLog, run_threads, run_with_watchdog

THREADS = 8


def test_initializer_runs_once_for_concurrent_callers(Moka: Any) -> None:
    cache = Moka(100)
    calls: list[int] = []
    value = object()

    def slow_init() -> object:
        calls.append(1)
        time.sleep(0.3)  # long enough that every thread arrives while it runs
        return value

    results = run_threads(lambda: cache.get_with("key", slow_init))
    assert calls == [1]
    assert results == [("ok", value)] * THREADS
    assert cache.get("key") is value


def test_initializer_error_reaches_every_waiter_and_caches_nothing(Moka: Any) -> None:
    cache = Moka(100)
    calls: list[int] = []

    def failing_init() -> object:
        calls.append(1)
        time.sleep(0.3)
        raise ValueError("no value today")

    results = run_threads(lambda: cache.get_with("key", failing_init))
    assert calls == [1]
    assert all(kind == "raised" for kind, _ in results)
    errors = {id(exc) for _, exc in results}
    assert len(errors) == 1, "every caller gets the same exception object"
    assert isinstance(results[0][1], ValueError)
    assert "key" not in cache
    assert cache.get_with("key", lambda: "second try") == "second try"


def test_recursive_get_with_of_the_same_key_raises(Moka: Any) -> None:
    cache = Moka(100)

    def recursive() -> object:
        return cache.get_with("key", lambda: "inner")

    def call() -> None:
        with pytest.raises(
            RuntimeError, match="^get_with: the initializer for this key called get_with for the same key$"
        ):
            cache.get_with("key", recursive)

    run_with_watchdog(call, 10, "recursive get_with")
    assert "key" not in cache
    assert cache.get_with("key", lambda: "fine") == "fine"


def test_nested_get_with_of_another_key_works(Moka: Any) -> None:
    cache = Moka(100)
    assert cache.get_with("outer", lambda: cache.get_with("inner", lambda: 1) + 1) == 2
    assert cache.get("inner") == 1
    assert cache.get("outer") == 2


def test_other_threads_progress_while_an_initializer_runs(Moka: Any) -> None:
    cache = Moka(100)
    started, release = threading.Event(), threading.Event()

    def blocking_init() -> str:
        started.set()
        assert release.wait(30)
        return "slow"

    owner = threading.Thread(target=lambda: cache.get_with("slow", blocking_init), daemon=True)
    owner.start()
    assert started.wait(30)
    waiter = threading.Thread(target=lambda: cache.get_with("slow", lambda: "never"), daemon=True)
    waiter.start()

    def other_work() -> None:
        # A waiter must not hold the GIL or the cache lock: this thread keeps going.
        for i in range(1000):
            cache.set(i, i)
            assert cache.get_with(("other", i), lambda i=i: i) == i
        cache.run_pending_tasks()

    run_with_watchdog(other_work, 30, "work beside a pending get_with")
    release.set()
    owner.join(30)
    waiter.join(30)
    assert not owner.is_alive() and not waiter.is_alive()
    assert cache.get("slow") == "slow"


def test_get_with_over_an_expired_entry_reports_the_old_value_once(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(100, eviction_listener=log)
    cache.set("k", "old", ttl=0.05)
    time.sleep(0.5)  # wide margin: the entry is certainly expired
    assert cache.get_with("k", lambda: "new") == "new"
    cache.run_pending_tasks()
    # "replaced" when the update found the expired entry still in place; "expired" if a timer-wheel
    # tick (about 1.07 s after creation, later on a loaded machine) removed it first.
    [(key, value, cause)] = log.take()
    assert (key, value) == ("k", "old")
    assert cause in ("replaced", "expired")
    assert cache.get("k") == "new"
