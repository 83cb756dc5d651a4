"""``get_with`` coalescing across threads (API.md section 3)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any

import pytest

from moka_py_conformance._support import EventLog, run_threads, run_with_watchdog

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

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


def test_interrupt_in_the_owner_makes_a_waiter_the_new_owner(Moka: Any) -> None:
    """A ``BaseException`` (such as ``KeyboardInterrupt``) in the initializer reaches only the thread
    that ran it; each waiter retries, and one of them runs its own initializer for everyone."""
    cache = Moka(100)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def interrupted_init() -> str:
        calls.append("owner")
        started.set()
        assert release.wait(30)
        raise KeyboardInterrupt

    owner_saw: list[str] = []

    def owner() -> None:
        try:
            cache.get_with("k", interrupted_init)
        except KeyboardInterrupt:
            owner_saw.append("interrupted")

    owner_thread = threading.Thread(target=owner, daemon=True)
    owner_thread.start()
    assert started.wait(30)
    waiter_got: list[object] = []

    def fresh() -> str:
        calls.append("waiter")
        return "fresh"

    def waiter() -> None:
        waiter_got.append(cache.get_with("k", fresh))

    waiters = [threading.Thread(target=waiter, daemon=True) for _ in range(3)]
    for thread in waiters:
        thread.start()
    time.sleep(0.2)  # let the waiters block (if one has not yet, it finds "fresh" and no owner)
    release.set()
    for thread in [owner_thread, *waiters]:
        thread.join(30)
        assert not thread.is_alive(), "deadlock"
    assert owner_saw == ["interrupted"]
    assert waiter_got == ["fresh"] * 3
    assert calls == ["owner", "waiter"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_reaches_the_main_thread_waiting_in_get_with(Moka: Any) -> None:
    """A main thread that waits for another thread's initializer still gets ``KeyboardInterrupt``."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    cache = Moka(100)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_init() -> int:
        started.set()
        release.wait(30)
        finished.set()
        return 1

    owner = threading.Thread(target=lambda: cache.get_with("k", slow_init), daemon=True)
    owner.start()
    assert started.wait(30)
    # Python's own Ctrl-C handler, whatever this process inherited: a shell without job control
    # starts background commands with SIGINT ignored, and Python then keeps ignoring it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cache.get_with("k", lambda: 2)
        # Interrupted while waiting, not after the owner was done:
        assert not finished.is_set()
    finally:
        release.set()
        timer.cancel()
        owner.join(30)
        signal.signal(signal.SIGINT, previous)
    assert cache.get("k") == 1


def test_get_with_per_entry_ttl(Moka: Any) -> None:
    cache = Moka(100)
    assert cache.get_with("k", lambda: 1, ttl=0.1) == 1
    time.sleep(0.6)  # wide margin
    assert cache.get("k") is None
    assert cache.get_with("k", lambda: 2) == 2


def test_listener_may_call_get_with_for_the_replaced_key(Moka: Any) -> None:
    seen: list[object] = []

    def listener(key: Any, value: Any, cause: str) -> None:
        seen.append((key, value, cause))
        if cause == "replaced":
            seen.append(cache.get_with(key, lambda: "from listener"))

    cache = Moka(100, eviction_listener=listener)

    def scenario() -> None:
        cache.set("k", "old")
        cache.remove("k")
        assert cache.get_with("k", lambda: "new") == "new"
        cache.set("k", "newer")

    run_with_watchdog(scenario, 10, "get_with from a listener")
    assert seen == [("k", "old", "explicit"), ("k", "new", "replaced"), "newer"]

