"""Eviction listener timing, re-entrancy and errors.

The rules: API.md section 3, and docs/internals/moka-algorithms.md, "Listener causes and timing".
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from moka_py_conformance._support import EventLog, run_with_watchdog

pytestmark = pytest.mark.contract  # the contract tier (conformance README)


def test_listener_may_set_the_key_being_replaced(Moka: Any) -> None:
    seen: list[tuple[Any, Any, str]] = []

    def listener(key: Any, value: Any, cause: str) -> None:
        seen.append((key, value, cause))
        if cause == "replaced" and value == 1:
            cache.set(key, "from listener")

    cache = Moka(10, eviction_listener=listener)

    def scenario() -> None:
        cache.set("k", 1)
        cache.set("k", 2)  # listener replaces 2 with "from listener" -> a second "replaced" for 2

    run_with_watchdog(scenario, 10, "set of the replaced key from its listener")
    assert seen == [("k", 1, "replaced"), ("k", 2, "replaced")]
    assert cache.get("k") == "from listener"


def test_listener_may_call_every_method(Moka: Any) -> None:
    calls: list[str] = []

    def listener(key: Any, value: Any, cause: str) -> None:
        calls.append(cause)
        cache.get(key)
        _ = key in cache
        cache.count()
        cache.weighted_size()
        if not isinstance(key, tuple):  # one level deep, so the events cannot cascade forever
            cache.get_with(("again", key), lambda: value)
            cache.remove(("again", key))
        cache.run_pending_tasks()

    cache = Moka(4, eviction_listener=listener)

    def scenario() -> None:
        for i in range(50):
            cache.get(i)
            cache.set(i, i)
        cache.run_pending_tasks()
        cache.clear()

    run_with_watchdog(scenario, 30, "a listener calling back into its cache")
    assert "size" in calls and "explicit" in calls


def test_listener_may_clear_the_cache(Moka: Any) -> None:
    def listener(key: Any, value: Any, cause: str) -> None:
        if cause == "explicit" and key == "trigger":
            cache.clear()

    cache = Moka(10, eviction_listener=listener)
    cache.set("trigger", 1)
    cache.set("other", 2)

    run_with_watchdog(lambda: cache.remove("trigger"), 10, "clear() from a listener")
    assert "other" not in cache
    assert cache.count() == 0


def test_listener_errors_do_not_stop_delivery(Moka: Any) -> None:
    log = EventLog()

    def listener(key: Any, value: Any, cause: str) -> None:
        log(key, value, cause)
        if key in ("b", "c"):
            raise RuntimeError(f"listener failed for {key}")

    cache = Moka(100, eviction_listener=listener)
    for key in "abcd":
        cache.set(key, key.upper())
    with pytest.raises(RuntimeError, match="^listener failed for b$"):
        cache.clear()  # all four are reported; the first error is raised afterwards
    assert sorted(log.take()) == [(k, k.upper(), "explicit") for k in "abcd"]
    assert cache.count() == 0
    cache.set("b", 1)
    with pytest.raises(RuntimeError, match="^listener failed for b$"):
        cache.remove("b")
    assert "b" not in cache
    cache.set("x", 1)  # the listener keeps working after errors
    cache.remove("x")
    assert log.take() == [("b", 1, "explicit"), ("x", 1, "explicit")]


def test_replaced_is_delivered_before_set_returns(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set("k", 1)
    assert log.events == []
    cache.set("k", 2)
    assert log.events == [("k", 1, "replaced")]


def test_size_events_come_from_housekeeping(Moka: Any, exact_backend: Any) -> None:
    log = EventLog()
    cache = Moka(16, eviction_listener=log, policy="lru")  # a slack of 2 (API.md section 6)
    for i in range(16):
        cache.set(i, i)
    cache.run_pending_tasks()
    cache.set("a", 1)
    cache.set("b", 2)
    assert log.events == []  # within the slack: decided late, by housekeeping
    cache.run_pending_tasks()
    assert log.take() == [(0, 0, "size"), (1, 1, "size")]


def test_the_size_bound_decides_at_the_write(Moka: Any, exact_backend: Any) -> None:
    """Past capacity + slack, the write itself runs housekeeping (capacity 1: no slack)."""
    log = EventLog()
    cache = Moka(1, eviction_listener=log, policy="lru")
    cache.set("a", 1)
    assert log.events == []  # one entry fits
    cache.set("b", 2)
    assert log.take() == [("a", 1, "size")]
    assert "a" not in cache and cache.get("b") == 2


def test_causes_and_lru_order(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(3, eviction_listener=log, policy="lru")
    for i in range(3):
        cache.set(i, f"v{i}")
    cache.run_pending_tasks()
    cache.set(0, "new0")  # an update: 0 becomes the most recently used
    assert log.take() == [(0, "v0", "replaced")]
    assert cache.remove(1) == "v1"
    assert log.take() == [(1, "v1", "explicit")]
    for i in range(3, 6):
        cache.set(i, f"v{i}")
    cache.run_pending_tasks()
    assert log.take() == [(2, "v2", "size"), (0, "new0", "size")]  # least recently used first
    cache.clear()
    assert sorted(log.take()) == [(i, f"v{i}", "explicit") for i in range(3, 6)]
    assert cache.count() == 0


def test_listener_error_from_set_comes_after_the_write(Moka: Any) -> None:
    def listener(key: Any, value: Any, cause: str) -> None:
        raise ValueError(cause)

    cache = Moka(10, eviction_listener=listener)
    cache.set("k", 1)
    with pytest.raises(ValueError, match="^replaced$"):
        cache.set("k", 2)
    assert cache.get("k") == 2
    with pytest.raises(ValueError, match="^explicit$"):
        cache.remove("k")
    assert "k" not in cache


def test_events_are_delivered_by_the_thread_that_made_the_call(Moka: Any) -> None:
    threads: list[int | None] = []
    cache = Moka(10, eviction_listener=lambda key, value, cause: threads.append(threading.get_ident()))
    cache.set(1, 1)
    worker = threading.Thread(target=lambda: cache.remove(1))
    worker.start()
    worker.join(30)
    assert threads == [worker.ident]


def test_listener_is_called_positionally(Moka: Any) -> None:
    got: list[tuple[Any, Any, str]] = []

    def listener(key: Any, value: Any, cause: str, /) -> None:
        got.append((key, value, cause))

    cache = Moka(10, eviction_listener=listener)
    cache.set(1, "x")
    cache.remove(1)
    assert got == [(1, "x", "explicit")]
