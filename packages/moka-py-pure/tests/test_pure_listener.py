"""Listener timing and order on the injected clock, and internals (the listener contract is in the
conformance suite)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moka_py_pure import Moka
from pure_helpers import MS, SEC, FakeClock, Recorder, make


def test_order_within_one_cycle(clock: FakeClock, rec: Recorder) -> None:
    # write batch (admission) -> timer wheel -> write-order scan -> overflow trim
    c = make(3, clock, rec, policy="lru", ttl=1)
    c.set("y", "y")  # will expire by the cache TTL
    clock.advance(MS)
    c.set("x", "x", ttl=0.1)  # will expire through the timer wheel (written after y)
    c.run_pending_tasks()
    clock.advance(1100 * MS)  # a later level-0 tick; both expired
    for k in "abcd":
        c.set(k, k)  # the first set runs a cycle (300 ms timer): x and y go then
    assert rec.take() == [("x", "x", "expired"), ("y", "y", "expired")]
    c.run_pending_tasks()  # a..d admitted (LRU), then trimmed to 3
    assert rec.take() == [("a", "a", "size")]


def test_write_batch_events_come_before_expiry_events(clock: FakeClock, rec: Recorder) -> None:
    c = make(2, clock, rec, ttl=0.25)
    c.set(1, "a")
    c.set(2, "b")
    c.run_pending_tasks()
    clock.advance(290 * MS)
    c.set(3, "c")  # rejected (tie at 0) in the write batch, before 1 and 2 expire by TTL
    c.run_pending_tasks()
    assert rec.take() == [(3, "c", "size"), (1, "a", "expired"), (2, "b", "expired")]


def test_no_listener_no_events_and_cache_still_works(clock: FakeClock) -> None:
    c = make(1, clock)
    c.set(1, 1)
    c.set(1, 2)
    c.remove(1)
    c.run_pending_tasks()
    assert c._events == [] and c.count() == 0


def test_listener_exception_is_raised_after_all_events(clock: FakeClock) -> None:
    seen: list[Any] = []

    def listener(k: Any, v: Any, cause: str) -> None:
        seen.append(k)
        raise ValueError(f"boom {k}")

    c = make(10, clock, listener, policy="lru")
    for k in range(5):
        c.set(k, k)
    c.run_pending_tasks()
    with c._lock:
        c._policy.max_capacity = 2
    with pytest.raises(ValueError, match="boom 0"):
        c.run_pending_tasks()
    assert seen == [0, 1, 2]  # every event delivered, the first exception raised
    assert c.count() == 2 and len(c._map) == 2  # state consistent


def test_events_are_delivered_by_the_thread_that_ran_the_operation(clock: FakeClock) -> None:
    threads: list[str] = []
    c = make(1, clock, lambda k, v, cause: threads.append(threading.current_thread().name))
    c.set(1, 1)
    c.set(2, 2)

    def reader() -> None:
        clock.advance(SEC)  # the 300 ms timer is due: this get runs housekeeping
        c.get(3)

    t = threading.Thread(target=reader, name="reader")
    t.start()
    t.join(10)
    assert threads == ["reader"]


def test_listener_is_called_without_the_lock_held(clock: FakeClock) -> None:
    c: list[Moka[Any, Any]] = []
    states: list[bool] = []

    def listener(k: Any, v: Any, cause: str) -> None:
        def probe() -> None:
            states.append(c[0]._lock.acquire(timeout=5))
            c[0]._lock.release()

        t = threading.Thread(target=probe)
        t.start()
        t.join(10)

    c.append(make(10, clock, listener))
    c[0].set("a", 1)
    c[0].set("a", 2)
    assert states == [True]
